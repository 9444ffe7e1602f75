//! Terminal output: colors (honouring NO_COLOR and --color), diagnostics,
//! and errors, all written fallibly so that a closed pipe is not a panic.

use super::ColorChoice;
use crate::config::ConfigError;
use crate::diag::{Diagnostic, Severity};
use anstyle::{AnsiColor, Style};
use std::io::Write;

/// Styles used across commands.
pub struct Styles;

impl Styles {
    pub const ERROR: Style = AnsiColor::Red.on_default().bold();
    pub const WARNING: Style = AnsiColor::Yellow.on_default().bold();
    pub const OK: Style = AnsiColor::Green.on_default().bold();
    pub const HELP: Style = AnsiColor::Cyan.on_default().bold();
    pub const BOLD: Style = Style::new().bold();
    pub const DIM: Style = Style::new().dimmed();
}

/// The user interface of one run: where output goes and how it looks.
pub struct Ui {
    pub quiet: bool,
    pub verbose: u8,
}

impl Ui {
    /// Sets the global color choice and returns the UI.
    pub fn new(color: ColorChoice, quiet: bool, verbose: u8) -> Self {
        let choice = match color {
            ColorChoice::Auto => anstream::ColorChoice::Auto,
            ColorChoice::Always => anstream::ColorChoice::Always,
            ColorChoice::Never => anstream::ColorChoice::Never,
        };
        choice.write_global();
        Ui { quiet, verbose }
    }

    /// Standard output, with ANSI codes stripped where colors are off.
    pub fn out(&self) -> anstream::AutoStream<std::io::StdoutLock<'static>> {
        anstream::AutoStream::auto(std::io::stdout().lock())
    }

    /// Standard error, with ANSI codes stripped where colors are off.
    pub fn err(&self) -> anstream::AutoStream<std::io::StderrLock<'static>> {
        anstream::AutoStream::auto(std::io::stderr().lock())
    }

    /// Prints an error and an optional hint to stderr.
    pub fn error(&self, message: &str, help: Option<&str>) {
        let mut e = self.err();
        let _ = writeln!(
            e,
            "{}error:{} {message}",
            Styles::ERROR.render(),
            Styles::ERROR.render_reset()
        );
        if let Some(h) = help {
            let _ = writeln!(
                e,
                "  {}help:{} {h}",
                Styles::HELP.render(),
                Styles::HELP.render_reset()
            );
        }
    }

    /// Prints a warning to stderr, unless quiet.
    pub fn warn(&self, message: &str) {
        if !self.quiet {
            let _ = writeln!(
                self.err(),
                "{}warning:{} {message}",
                Styles::WARNING.render(),
                Styles::WARNING.render_reset()
            );
        }
    }

    /// Prints a hint or progress note to stderr, unless quiet.
    pub fn note(&self, message: &str) {
        if !self.quiet {
            let _ = writeln!(self.err(), "{message}");
        }
    }

    /// Prints a configuration error with the offending line of social.toml.
    pub fn config_error(&self, c: &ConfigError) {
        let mut e = self.err();
        let (err, reset) = (Styles::ERROR.render(), Styles::ERROR.render_reset());
        let place = match c.pos {
            Some(p) => format!("{}:{}:{}", c.path.display(), p.line, p.column),
            None => c.path.display().to_string(),
        };
        let _ = writeln!(e, "{err}error:{reset} {}", c.message);
        let _ = writeln!(
            e,
            "  {}-->{} {place}",
            Styles::DIM.render(),
            Styles::DIM.render_reset()
        );
        if let Some(p) = c.pos
            && let Ok(src) = std::fs::read_to_string(&c.path)
            && let Some(line) = src.lines().nth(p.line.saturating_sub(1))
        {
            let n = p.line.to_string();
            let pad = " ".repeat(n.len());
            let _ = writeln!(e, "  {pad} |");
            let _ = writeln!(e, "  {n} | {line}");
            let _ = writeln!(
                e,
                "  {pad} | {}{err}^{reset}",
                " ".repeat(p.column.saturating_sub(1))
            );
        }
        if let Some(h) = &c.help {
            let _ = writeln!(
                e,
                "  {}help:{} {h}",
                Styles::HELP.render(),
                Styles::HELP.render_reset()
            );
        }
    }

    /// Writes one diagnostic as `path:line:column: severity: message`.
    pub fn diagnostic(&self, w: &mut impl Write, d: &Diagnostic) -> std::io::Result<()> {
        let style = match d.severity {
            Severity::Error => Styles::ERROR,
            Severity::Warning => Styles::WARNING,
        };
        writeln!(
            w,
            "{}{}:{}:{}:{} {}{}:{} {}",
            Styles::BOLD.render(),
            d.path.display(),
            d.line,
            d.column,
            Styles::BOLD.render_reset(),
            style.render(),
            d.severity,
            style.render_reset(),
            d.message
        )?;
        if let Some(h) = &d.help {
            writeln!(
                w,
                "  {}help:{} {h}",
                Styles::HELP.render(),
                Styles::HELP.render_reset()
            )?;
        }
        Ok(())
    }
}

/// "1 error", "2 warnings".
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// A table for listings: a rule under the header (UTF-8 on a terminal, ASCII otherwise).
pub fn table(headers: &[&str]) -> comfy_table::Table {
    use comfy_table::{ContentArrangement, LineStyle, Table, TableStyle};
    use std::io::IsTerminal;
    let mut t = Table::new();
    let rule = if std::io::stdout().is_terminal() {
        '─'
    } else {
        '-'
    };
    t.load_style(TableStyle::new().header_separator(LineStyle::none().fill(rule).junction(rule)));
    match width() {
        // Long cells wrap so that the table fits the terminal.
        Some(w) => {
            t.set_content_arrangement(ContentArrangement::Dynamic);
            t.set_width(w);
        }
        None => {
            t.set_content_arrangement(ContentArrangement::Disabled);
        }
    }
    t.set_header(headers.to_vec());
    t
}

/// The width tables fit: `COLUMNS` when set, else the terminal's; none
/// when standard output is a pipe or a file (lines stay whole for tools).
pub fn width() -> Option<u16> {
    use std::io::IsTerminal;
    if let Some(w) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<u16>().ok())
        .filter(|w| *w >= 20)
    {
        return Some(w);
    }
    if !std::io::stdout().is_terminal() {
        return None;
    }
    terminal_size::terminal_size().map(|(w, _)| w.0)
}

/// The zone of a listing for its header: the abbreviations its times use
/// (`CET`, or `CET/CEST` across a change; `UTC`), short enough for a
/// column header; the zone's name where the abbreviations are bare offsets
/// (`+03`) or there are no times.
pub fn zone_label(
    times: impl IntoIterator<Item = chrono::DateTime<chrono::Utc>>,
    tz: chrono_tz::Tz,
) -> String {
    let mut abbrevs: Vec<String> = Vec::new();
    for at in times {
        let a = at.with_timezone(&tz).format("%Z").to_string();
        if !abbrevs.contains(&a) {
            abbrevs.push(a);
        }
    }
    if abbrevs.is_empty()
        || abbrevs
            .iter()
            .any(|a| !a.chars().all(|c| c.is_ascii_alphabetic()))
    {
        return tz.name().to_string();
    }
    abbrevs.join("/")
}

/// Cell texts too long for the terminal, moved below the table as numbered
/// notes (`[1]`, then `[1] post → account: text` after the table), so that
/// a table fits without cutting a URL or a reason into slivers. Off a
/// terminal every text stays in its cell, whole.
pub struct Notes {
    width: Option<usize>,
    budget: usize,
    items: Vec<String>,
}

impl Notes {
    /// Notes for a table `width` wide whose other columns take `others`
    /// characters (their widths, padding included).
    pub fn new(width: Option<u16>, others: usize) -> Notes {
        let width = width.map(usize::from);
        let budget = width.map_or(usize::MAX, |w| w.saturating_sub(others + 2));
        Notes {
            width,
            budget,
            items: Vec::new(),
        }
    }

    /// `text` when it fits its column (every line of it), else a reference
    /// to a note that carries it, labelled `label`.
    pub fn cell(&mut self, label: &str, text: String) -> String {
        if text.lines().all(|l| l.chars().count() <= self.budget) {
            return text;
        }
        self.items
            .push(format!("{label}: {}", text.replace('\n', " ")));
        format!("[{}]", self.items.len())
    }

    /// The notes, each wrapped to the width with a hanging indent.
    pub fn write(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        for (i, item) in self.items.iter().enumerate() {
            let mark = format!("[{}] ", i + 1);
            let lines = wrap(item, self.width.unwrap_or(usize::MAX), mark.len());
            for (j, line) in lines.iter().enumerate() {
                if j == 0 {
                    writeln!(out, "{mark}{line}")?;
                } else {
                    writeln!(out, "{:indent$}{line}", "", indent = mark.len())?;
                }
            }
        }
        Ok(())
    }
}

/// `text` in lines of at most `width` characters (after `indent`), broken
/// at spaces; a word longer than a line (a URL) stays whole on its own line.
pub fn wrap(text: &str, width: usize, indent: usize) -> Vec<String> {
    let room = width.saturating_sub(indent).max(20);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let len = line.chars().count();
        if len > 0 && len + 1 + word.chars().count() > room {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}
