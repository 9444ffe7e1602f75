//! The test harness: a fixture project in a temporary directory, and the
//! built `social` binary run inside it with a clean environment.

use serde_json::Value;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// The instant every test runs at (`SOCIAL_NOW`).
pub const NOW: &str = "2026-05-04T10:00:00Z";

/// A social.toml with one account per platform, in a timezone with DST.
pub const CONFIG: &str = r#"timezone = "Europe/Berlin"

[accounts.bsky]
platform = "bluesky"
handle = "alice.bsky.social"

[accounts.fedi]
platform = "mastodon"
instance = "https://mastodon.example"

[accounts.x]
platform = "twitter"
username = "alice"

[accounts.li]
platform = "linkedin"

[accounts.insta]
platform = "instagram"
media_base_url = "https://media.example.com"

[queues.weekdays]
accounts = ["bsky", "fedi"]
mon = ["09:00"]
"#;

/// The smallest file `infer` takes for a PNG: the 8-byte signature and an IHDR chunk.
pub const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, b'I', b'H', b'D', b'R',
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89,
];

/// A JPEG start: SOI and a JFIF APP0 marker.
pub const JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
    0x00, 0x01, 0x00, 0x00, 0xFF, 0xD9,
];

/// A GIF89a header with a 1×1 logical screen.
pub const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00;";

/// An MP4 start: an `ftyp` box at offset 4 with brand `isom`.
pub const MP4: &[u8] = &[
    0x00, 0x00, 0x00, 0x18, b'f', b't', b'y', b'p', b'i', b's', b'o', b'm', 0x00, 0x00, 0x02, 0x00,
    b'i', b's', b'o', b'm', b'm', b'p', b'4', b'1',
];

/// A project directory (below a temporary directory, so that `..` leads out
/// of the project but stays inside the sandbox) plus a HOME of its own.
pub struct TestProject {
    tmp: TempDir,
    pub root: PathBuf,
    home: PathBuf,
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts the exit code, showing the output when it differs.
    #[track_caller]
    pub fn code(&self, expected: i32) -> &Self {
        assert_eq!(
            self.code, expected,
            "unexpected exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts stdout holds `needle`.
    #[track_caller]
    pub fn stdout_has(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts stdout does not hold `needle`.
    #[track_caller]
    pub fn stdout_lacks(&self, needle: &str) -> &Self {
        assert!(
            !self.stdout.contains(needle),
            "stdout has {needle:?}\n--- stdout\n{}",
            self.stdout
        );
        self
    }

    /// Asserts stderr holds `needle`.
    #[track_caller]
    pub fn stderr_has(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Stdout parsed as one JSON document.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document: {e}\n{}", self.stdout))
    }

    /// The diagnostics lines of `validate --format text` (and preview's problem list).
    pub fn diagnostics(&self) -> Vec<DiagLine> {
        self.stdout.lines().filter_map(DiagLine::parse).collect()
    }

    /// The one diagnostic whose message holds `needle`.
    #[track_caller]
    pub fn diagnostic(&self, needle: &str) -> DiagLine {
        let found: Vec<DiagLine> = self
            .diagnostics()
            .into_iter()
            .filter(|d| d.message.contains(needle))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "expected one diagnostic with {needle:?}\n--- stdout\n{}",
            self.stdout
        );
        found.into_iter().next().unwrap()
    }

    /// The help line printed right after the diagnostic holding `needle`.
    #[track_caller]
    pub fn help_after(&self, needle: &str) -> String {
        let mut lines = self
            .stdout
            .lines()
            .skip_while(|l| !(DiagLine::parse(l).is_some() && l.contains(needle)));
        lines
            .next()
            .unwrap_or_else(|| panic!("no diagnostic with {needle:?}\n{}", self.stdout));
        let help = lines.next().unwrap_or_default();
        help.trim()
            .strip_prefix("help: ")
            .unwrap_or_else(|| panic!("no help after {needle:?}\n{}", self.stdout))
            .to_string()
    }
}

/// One `path:line:column: severity: message` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagLine {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub severity: String,
    pub message: String,
}

impl DiagLine {
    /// Parses a diagnostic line; None for any other line.
    pub fn parse(s: &str) -> Option<DiagLine> {
        for severity in ["error", "warning"] {
            let marker = format!(": {severity}: ");
            let Some(i) = s.find(&marker) else { continue };
            let mut place = s[..i].rsplitn(3, ':');
            let column = place.next()?.parse().ok()?;
            let line = place.next()?.parse().ok()?;
            let path = place.next()?.to_string();
            return Some(DiagLine {
                path,
                line,
                column,
                severity: severity.to_string(),
                message: s[i + marker.len()..].to_string(),
            });
        }
        None
    }
}

impl TestProject {
    /// A project with [`CONFIG`].
    pub fn new() -> Self {
        Self::with_config(CONFIG)
    }

    /// A project with the given social.toml.
    pub fn with_config(config: &str) -> Self {
        let p = Self::bare();
        p.write("social.toml", config);
        std::fs::create_dir_all(p.root.join("posts")).unwrap();
        p
    }

    /// An empty directory (no social.toml).
    pub fn bare() -> Self {
        let tmp = tempfile::Builder::new()
            .prefix("social-test")
            .tempdir()
            .unwrap();
        let root = tmp.path().join("project");
        let home = tmp.path().join("home");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&home).unwrap();
        TestProject { tmp, root, home }
    }

    /// The temporary directory holding the project (outside the project).
    pub fn sandbox(&self) -> &Path {
        self.tmp.path()
    }

    /// Writes `contents` to `rel` below the project root, creating directories.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// Writes `posts/<name>`; returns the path as the binary will show it.
    pub fn post(&self, name: &str, src: impl AsRef<[u8]>) -> String {
        self.write(&format!("posts/{name}"), src);
        format!("posts/{name}")
    }

    /// Writes a YAML post with `id`, `to` and extra frontmatter lines, then `body`.
    pub fn simple_post(&self, id: &str, to: &str, extra: &str, body: &str) -> String {
        let mut src = format!("---\nid: {id}\nto: [{to}]\n");
        for line in extra.lines().filter(|l| !l.trim().is_empty()) {
            src.push_str(line);
            src.push('\n');
        }
        src.push_str("---\n");
        src.push_str(body);
        src.push('\n');
        self.post(&format!("{id}.md"), src)
    }

    /// The binary, run in the project root with a cleared environment.
    pub fn cmd(&self) -> assert_cmd::Command {
        self.cmd_in(&self.root)
    }

    /// The binary, run in `dir` with a cleared environment.
    pub fn cmd_in(&self, dir: &Path) -> assert_cmd::Command {
        assert_cmd::Command::from_std(self.std_cmd(dir))
    }

    /// The same as a plain `std::process::Command`, for tests that stream output.
    pub fn std_cmd(&self, dir: &Path) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin!("social"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("SOCIAL_NOW", NOW)
            .env("NO_COLOR", "1")
            .current_dir(dir);
        cmd
    }

    /// Runs the binary with `args` and checks that it did not panic.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_cmd(self.cmd().args(args))
    }

    /// Runs a prepared command and checks that it did not panic.
    pub fn run_cmd(&self, cmd: &mut assert_cmd::Command) -> Run {
        let out = cmd.output().expect("the binary runs");
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        assert!(
            !run.stderr.contains("panicked") && !run.stderr.contains("RUST_BACKTRACE"),
            "the binary panicked:\n{}",
            run.stderr
        );
        assert!(
            [0, 1, 2].contains(&run.code),
            "exit code {} is not 0, 1 or 2\n{}",
            run.code,
            run.stderr
        );
        run
    }

    /// `social validate ARGS…`.
    pub fn validate(&self, args: &[&str]) -> Run {
        let mut all = vec!["validate"];
        all.extend_from_slice(args);
        self.run(&all)
    }

    /// `social preview --json FILE ARGS…`, parsed.
    #[track_caller]
    pub fn preview_json(&self, file: &str, args: &[&str]) -> Value {
        let mut all = vec!["preview", "--json", file];
        all.extend_from_slice(args);
        self.run(&all).json()
    }

    /// The rendered target of `account` in a preview document.
    #[track_caller]
    pub fn target<'a>(preview: &'a Value, account: &str) -> &'a Value {
        preview["targets"]
            .as_array()
            .expect("targets")
            .iter()
            .find(|t| t["account"] == account)
            .unwrap_or_else(|| panic!("no target {account} in {preview:#}"))
    }

    /// The texts of a target's thread parts.
    pub fn part_texts(target: &Value) -> Vec<String> {
        target["parts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["text"]["text"].as_str().unwrap().to_string())
            .collect()
    }
}

/// The text a span covers, cut by its byte offsets.
#[track_caller]
pub fn span_text<'a>(text: &'a str, span: &Value) -> &'a str {
    let (start, end) = (
        span["start"].as_u64().unwrap() as usize,
        span["end"].as_u64().unwrap() as usize,
    );
    let bytes = &text.as_bytes()[start..end];
    std::str::from_utf8(bytes)
        .unwrap_or_else(|_| panic!("span {span} does not fall on char boundaries of {text:?}"))
}
