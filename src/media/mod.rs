//! Media as it will be sent: images fitted to each platform's limits (and
//! stripped of their metadata), kept in a content-addressed cache so a file
//! is processed once and a retry uploads the same bytes.
//!
//! It sits beside the model: it knows the limits table and nothing of the
//! store, the engine or the terminal.

pub mod cache;
pub mod fit;

pub use cache::Cache;
pub use fit::{Assessment, Fitted, MediaError, Spec};
