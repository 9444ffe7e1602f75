//! `social`: publish Markdown posts kept in a git repository to Bluesky,
//! Mastodon, X, LinkedIn and Instagram.
//!
//! The library holds all logic; `main.rs` only parses arguments and maps the
//! outcome to an exit code. See `DESIGN.md` in the steering repository for the
//! data flow: files → [`content`] → [`render`] → [`validate`].

pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod content;
pub mod credentials;
pub mod daemon;
pub mod diag;
pub mod fsx;
pub mod platforms;
pub mod project;
pub mod publish;
pub mod render;
pub mod schedule;
pub mod state;
pub mod validate;
