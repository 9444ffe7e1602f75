//! Logging in through the terminal and the browser: reading a secret
//! without echo, the loopback redirect of OAuth logins, opening the system
//! browser, and writing an account's settings into social.toml. What each
//! platform's login asks for, whom a credential belongs to and how a token
//! is renewed are the platforms' own ([`crate::platforms::account`]); this
//! module gives them the terminal and the browser ([`login::login`]).
//! Secrets go to [`crate::credentials`]; nothing here stores them.

pub mod browser;
pub mod login;
pub mod loopback;
pub mod prompt;
pub mod settings;
