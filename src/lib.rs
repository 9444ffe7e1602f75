//! `social`: publish Markdown posts kept in a git repository to Bluesky,
//! Mastodon, X, LinkedIn and Instagram.
//!
//! The library holds all logic; `main.rs` only parses arguments and maps the
//! outcome to an exit code. See `DESIGN.md` in the steering repository for the
//! data flow: files → [`content`] → [`render`] → [`validate`] → [`state`] →
//! [`publish`] (the engine) → [`platforms`].
//!
//! # Module map
//!
//! | layer | modules | may use |
//! |---|---|---|
//! | model (leaf) | [`model`] (platform kinds, the limits table, which social.toml keys each platform takes, `PlatformError`, published parts, media facts), [`clock`], [`diag`], [`fsx`] | nothing of ours |
//! | settings | [`config`] (social.toml, accounts, queues, server limits read back) | model |
//! | content | [`content`] (frontmatter, rich text, times, which files are posts) | settings, model |
//! | render / validate | [`render`], [`validate`] | content, settings, model |
//! | state | [`state`] (redb store, claims, the one write path of a target, `published.toml`), [`schedule`] (queue slots; imports only settings) | the layers above |
//! | engine | [`publish`]: claims due targets in batches, runs each through its platform client, group-commits the records, reconciles unclear outcomes | state, and what it is handed: a [`publish::Connector`] (account → client), [`publish::Tokens`] (credentials) and a [`clock::Clock`] |
//! | platforms | [`platforms`]: one module per platform, the shared HTTP layer and OAuth token requests; what a client must remember goes through a [`platforms::Memo`] the engine hands it; each platform's `account` module ([`platforms::account::AccountKind`]) owns its login specifics, identity check, credential lifetime and token refresh | model, settings, content, render's output, credentials' types; they never open the store, print, or call back into the engine |
//! | beside the engine | [`credentials`] (secret stores; the one service that hands out tokens and renews them through the [`credentials::Refresher`] it is built with, [`platforms::account::Renewal`] in production), [`auth`] (runs a platform's login with the terminal and the browser; edits social.toml) | credentials: model, settings; auth: credentials, platforms |
//! | edges | [`cli`], [`daemon`], [`project`] | everything: they wire it together and own the terminal and signals |
//!
//! Exactly once rests on three things in [`state`] and [`publish`]: a target
//! is claimed (with its idempotency key) in a committed transaction before
//! any request; each thread part is durably recorded before the next one is
//! sent and before the target counts as published; and an attempt whose
//! outcome is unclear is settled by asking the platform (reconcile) before
//! anything is sent again, or held as `unconfirmed` for the user when the
//! platform cannot be asked. A claim's liveness is an OS file lock held by
//! the claiming store handle, so a killed process's claims are taken over at
//! once on Linux, macOS and Windows.

pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod content;
pub mod credentials;
pub mod daemon;
pub mod diag;
pub mod fsx;
pub mod media;
pub mod model;
pub mod platforms;
pub mod project;
pub mod publish;
pub mod render;
pub mod schedule;
pub mod state;
pub mod validate;
