//! Bluesky accounts: a handle and an app password, checked by
//! `com.atproto.server.createSession`. App passwords do not expire and are
//! not renewed.

use super::super::PlatformError;
use super::super::account::{
    AccountKind, Identity, LoggedIn, LoginError, LoginKit, SecretKind, answer, text, trimmed, usage,
};
use super::super::http::{Http, Repeat};
use crate::config::Account;
use crate::credentials::{Secret, StoredCredential};
use chrono::{DateTime, Utc};

/// Bluesky's account knowledge.
pub struct Bluesky;

/// The PDS of an account: its `service`, else Bluesky's.
pub fn service(a: &Account) -> String {
    trimmed(a.service.as_deref().unwrap_or(super::DEFAULT_SERVICE))
}

/// Whether a password has the shape of a Bluesky app password (xxxx-xxxx-xxxx-xxxx).
pub fn looks_like_app_password(p: &str) -> bool {
    let groups: Vec<&str> = p.split('-').collect();
    groups.len() == 4
        && groups
            .iter()
            .all(|g| g.len() == 4 && g.chars().all(|c| c.is_ascii_alphanumeric()))
}

#[async_trait::async_trait]
impl AccountKind for Bluesky {
    fn secrets(&self) -> &'static [SecretKind] {
        &[SecretKind::AppPassword]
    }

    async fn login(&self, kit: &dyn LoginKit, account: &Account) -> Result<LoggedIn, LoginError> {
        let now = crate::clock::now();
        let handle = account.handle.clone().ok_or_else(|| {
            usage(
                "a Bluesky account needs its handle",
                Some("pass --handle alice.bsky.social"),
            )
        })?;
        let password = kit.read_secret(
            &format!("app password for {handle}"),
            kit.choices().secret_from_stdin,
            "--password-stdin",
        )?;
        let mut warnings = Vec::new();
        if !looks_like_app_password(password.expose()) {
            warnings.push(
                "this does not look like an app password (xxxx-xxxx-xxxx-xxxx); a main password gives full access to the account: create an app password under Settings → Privacy and security → App passwords".into(),
            );
        }
        let identity = self.whoami(kit.http(), account, &password).await?;
        Ok(LoggedIn {
            credential: StoredCredential::plain(account.platform, password.expose(), now),
            identity,
            settings: Vec::new(),
            warnings,
        })
    }

    async fn whoami(
        &self,
        http: &Http,
        account: &Account,
        secret: &Secret,
    ) -> Result<Identity, PlatformError> {
        let handle = account.handle.clone().unwrap_or_default();
        let url = format!("{}/xrpc/com.atproto.server.createSession", service(account));
        let body = serde_json::json!({"identifier": handle, "password": secret.expose()});
        let bucket = super::bucket("com.atproto.server.createSession");
        let resp = http
            .send_in(&account.name, bucket, Repeat::Safe, |c| {
                c.post(&url).json(&body)
            })
            .await?;
        let v = answer("Bluesky createSession", resp)
            .await
            .map_err(|e| match e {
                PlatformError::Auth { message, .. } => PlatformError::Auth {
                    expired: false,
                    message: format!("{message} (Bluesky refused the handle and app password)"),
                },
                other => other,
            })?;
        let h = text(&v, "/handle").unwrap_or(handle);
        Ok(Identity {
            display: format!("@{h}"),
            id: text(&v, "/did"),
            username: Some(h),
        })
    }

    fn renewable(&self, _: &StoredCredential) -> Result<(), String> {
        Err("Bluesky app passwords do not expire".into())
    }

    fn login_deadline(&self, _: &StoredCredential) -> Option<DateTime<Utc>> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_password_shape() {
        assert!(looks_like_app_password("abcd-efgh-ijkl-mnop"));
        assert!(looks_like_app_password("ab12-ef34-ij56-mn78"));
        assert!(!looks_like_app_password("hunter2"));
        assert!(!looks_like_app_password("abcd-efgh-ijkl"));
        assert!(!looks_like_app_password("abcd-efgh-ijkl-mnop-qrst"));
    }
}
