//! Which `[accounts.NAME]` keys of social.toml belong to which platform:
//! data per kind, beside the limits table, read by `config` (to name a key
//! that belongs to another platform, or one that is missing) and by
//! `accounts add` (which flags apply). Everything else about an account's
//! platform lives in that platform's `account` module.

use super::PlatformKind;

/// The social.toml settings of one platform's accounts.
#[derive(Clone, Copy, Debug)]
pub struct AccountSettings {
    /// The keys only some platforms take that this one does (`platform`
    /// and `max_characters` apply to every account).
    pub keys: &'static [&'static str],
    /// The key an account of this platform cannot do without, and the line
    /// a help message shows as an example.
    pub required: Option<(&'static str, &'static str)>,
}

impl AccountSettings {
    /// Whether accounts of this platform take `key`.
    pub fn takes(&self, key: &str) -> bool {
        self.keys.contains(&key)
    }
}

const BLUESKY: AccountSettings = AccountSettings {
    keys: &["handle", "service"],
    required: Some(("handle", "handle = \"alice.bsky.social\"")),
};

const MASTODON: AccountSettings = AccountSettings {
    keys: &["instance"],
    required: Some(("instance", "instance = \"https://mastodon.social\"")),
};

const TWITTER: AccountSettings = AccountSettings {
    keys: &["username", "api_url", "auth_url", "client_id"],
    required: None,
};

const LINKEDIN: AccountSettings = AccountSettings {
    keys: &["api_url", "auth_url", "client_id", "linkedin_version"],
    required: None,
};

const INSTAGRAM: AccountSettings = AccountSettings {
    keys: &["api_url", "user_id", "media_base_url"],
    required: None,
};

impl PlatformKind {
    /// The social.toml settings its accounts take.
    pub fn settings(self) -> &'static AccountSettings {
        match self {
            PlatformKind::Bluesky => &BLUESKY,
            PlatformKind::Mastodon => &MASTODON,
            PlatformKind::Twitter => &TWITTER,
            PlatformKind::Linkedin => &LINKEDIN,
            PlatformKind::Instagram => &INSTAGRAM,
        }
    }

    /// The platforms whose accounts take `key`, in display order.
    pub fn taking(key: &str) -> Vec<PlatformKind> {
        PlatformKind::ALL
            .into_iter()
            .filter(|p| p.settings().takes(key))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_their_owners_in_display_order() {
        assert_eq!(
            PlatformKind::taking("api_url"),
            [
                PlatformKind::Twitter,
                PlatformKind::Linkedin,
                PlatformKind::Instagram
            ]
        );
        assert_eq!(PlatformKind::taking("handle"), [PlatformKind::Bluesky]);
        assert!(PlatformKind::taking("max_characters").is_empty());
    }
}
