//! Reading a secret: from standard input for scripts (`--password-stdin`,
//! `--token-stdin`, as `docker login` does), or prompted without echo on a
//! terminal. Never from a command-line argument, which would end up in the
//! shell's history and in `ps`.

use crate::credentials::Secret;
use std::io::{IsTerminal, Read};

/// Why a secret could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("{what} is empty")]
    Empty { what: String },
    #[error("cannot ask for {what}: standard input is not a terminal; pipe it in with {flag}")]
    NoTerminal { what: String, flag: String },
    #[error("cannot read {what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

/// Reads `what` from standard input when `from_stdin`, else prompts for it
/// without echo (`flag` names the option for scripts, for the error).
pub fn read_secret(what: &str, from_stdin: bool, flag: &str) -> Result<Secret, PromptError> {
    let io = |source| PromptError::Io {
        what: what.to_string(),
        source,
    };
    let value = if from_stdin {
        let mut s = String::new();
        std::io::stdin().lock().read_to_string(&mut s).map_err(io)?;
        s
    } else if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("{}: ", capitalize(what))).map_err(io)?
    } else {
        return Err(PromptError::NoTerminal {
            what: what.to_string(),
            flag: flag.to_string(),
        });
    };
    let value = value.trim();
    if value.is_empty() {
        return Err(PromptError::Empty {
            what: what.to_string(),
        });
    }
    Ok(Secret::new(value))
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
