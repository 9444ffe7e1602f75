//! The integration tests: one binary (faster to build than one per file)
//! that drives the built `social` binary on fixture projects.

mod accounts;
mod commands;
mod common;
mod counting;
mod daemon;
mod examples;
mod five_platforms;
mod frontmatter;
mod pathological;
mod props;
mod publish;
mod rendering;
mod schedule;
mod shapes;
mod store_files;
mod take_back;
mod twitter_text;
mod two_machines;
mod validate;
