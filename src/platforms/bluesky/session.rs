//! The account's session (access and refresh JWTs) and how it is kept in the
//! state store between runs: sealed with ChaCha20-Poly1305 under a key
//! derived from the app password, so that the store alone reveals nothing.

use chacha20poly1305::aead::{Aead, Generate, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// A logged-in session on the PDS.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub did: String,
    #[serde(default)]
    pub handle: String,
    pub access_jwt: String,
    pub refresh_jwt: String,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("did", &self.did)
            .field("handle", &self.handle)
            .finish_non_exhaustive()
    }
}

/// The state-store meta key of an account's session.
pub fn store_key(account: &str) -> String {
    format!("session/{account}")
}

/// Format version of a sealed session (first byte).
const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;

/// What a sealed session is bound to: only the same password, service,
/// account and handle open it again.
pub struct SealKey {
    key: [u8; 32],
    /// Authenticated with the ciphertext: the store key it was written under.
    aad: Vec<u8>,
}

impl SealKey {
    /// The key for `account` (its name in social.toml) with `handle` on
    /// `service`, derived from the app `password`.
    pub fn derive(password: &str, service: &str, account: &str, handle: &str) -> SealKey {
        let mut h = Sha256::new();
        // Length-prefixed fields: no two inputs hash alike.
        for field in [
            "social/bluesky/session-key/v1",
            service,
            account,
            handle,
            password,
        ] {
            h.update((field.len() as u64).to_be_bytes());
            h.update(field.as_bytes());
        }
        SealKey {
            key: h.finalize().into(),
            aad: store_key(account).into_bytes(),
        }
    }

    /// `session` encrypted: version byte, random nonce, ciphertext and tag.
    pub fn seal(&self, session: &Session) -> Option<Vec<u8>> {
        let plain = serde_json::to_vec(session).ok()?;
        let cipher = ChaCha20Poly1305::new(&Key::from(self.key));
        let nonce = Nonce::generate();
        let sealed = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: &plain,
                    aad: &self.aad,
                },
            )
            .ok()?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(nonce.as_slice());
        out.extend_from_slice(&sealed);
        Some(out)
    }

    /// The session in `bytes`, or `None` when they were sealed under another
    /// key (a changed password or handle), damaged, or of another format.
    pub fn open(&self, bytes: &[u8]) -> Option<Session> {
        let (&version, rest) = bytes.split_first()?;
        if version != VERSION || rest.len() < NONCE_LEN {
            return None;
        }
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_from(nonce).ok()?;
        let cipher = ChaCha20Poly1305::new(&Key::from(self.key));
        let plain = cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: sealed,
                    aad: &self.aad,
                },
            )
            .ok()?;
        serde_json::from_slice(&plain).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        Session {
            did: "did:plc:alice".into(),
            handle: "alice.test".into(),
            access_jwt: "eyJ.access.jwt-secret-part".into(),
            refresh_jwt: "eyJ.refresh.jwt-secret-part".into(),
        }
    }

    #[test]
    fn sealed_session_round_trips_and_hides_the_tokens() {
        let k = SealKey::derive("app-pass-word", "https://bsky.social", "bsky", "alice.test");
        let sealed = k.seal(&session()).unwrap();
        let text = String::from_utf8_lossy(&sealed);
        assert!(!text.contains("jwt-secret-part"));
        assert!(!text.contains("did:plc:alice"));
        assert_eq!(k.open(&sealed), Some(session()));
        // A fresh nonce each time.
        assert_ne!(sealed, k.seal(&session()).unwrap());
    }

    #[test]
    fn another_password_account_or_damage_cannot_open_it() {
        let k = SealKey::derive("app-pass-word", "https://bsky.social", "bsky", "alice.test");
        let sealed = k.seal(&session()).unwrap();
        let other_pw = SealKey::derive(
            "other-password",
            "https://bsky.social",
            "bsky",
            "alice.test",
        );
        let other_acct = SealKey::derive(
            "app-pass-word",
            "https://bsky.social",
            "bsky2",
            "alice.test",
        );
        assert_eq!(other_pw.open(&sealed), None);
        assert_eq!(other_acct.open(&sealed), None);
        let mut damaged = sealed.clone();
        *damaged.last_mut().unwrap() ^= 1;
        assert_eq!(k.open(&damaged), None);
        assert_eq!(k.open(&[]), None);
        assert_eq!(k.open(&[VERSION, 1, 2]), None);
        assert_eq!(k.open(b"{\"did\": \"x\"}"), None);
    }

    #[test]
    fn debug_shows_no_tokens() {
        let s = format!("{:?}", session());
        assert!(!s.contains("jwt"), "{s}");
    }
}
