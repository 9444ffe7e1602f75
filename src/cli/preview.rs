//! `social preview`: what each account will receive.

use super::output::{Styles, plural};
use super::{Outcome, Ui, usage};
use crate::config::Config;
use crate::content::time;
use crate::project;
use crate::render::{Rendered, Source, SpanKind};
use crate::validate::{self, Checked, FileReport, Options, human_bytes};
use clap::Args;
use serde::Serialize;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Show what each account will receive: text of every part, length of the limit, media, problems
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  social preview posts/2026-12-01-launch.md
  social preview posts/2026-12-01-launch.md --to x
  echo 'Hello #world' | social preview - --to bsky
  social preview posts/launch.md --json")]
pub struct PreviewArgs {
    /// The post file (`-` reads the post from standard input)
    pub file: PathBuf,
    /// Only these accounts, comma-separated (default: the post's own targets)
    #[arg(long, value_name = "ACCOUNTS", value_delimiter = ',')]
    pub to: Vec<String>,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

pub fn run(ui: &Ui, config: &Config, args: PreviewArgs) -> Outcome {
    super::known_accounts(config, &args.to)?;
    let report = load(config, &args)?;
    if args.json {
        print_json(&report)?;
    } else {
        print_text(ui, config, &report)?;
    }
    Ok(if report.diagnostics.iter().any(|d| d.is_error()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn load(config: &Config, args: &PreviewArgs) -> anyhow::Result<FileReport> {
    // With --to, render for the accounts asked for, even those the post does not name.
    let opts = Options {
        to: args.to.clone(),
        ..Options::default()
    };
    let mut report = if args.file.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin().lock().read_to_end(&mut bytes)?;
        let path = Path::new("<stdin>");
        let src = crate::content::decode(path, bytes).map_err(|d| usage(d.message, d.help))?;
        validate::check_text(path, &src, config, &opts)
    } else {
        if !args.file.is_file() {
            return Err(usage(
                format!("{}: no such file", args.file.display()),
                None,
            ));
        }
        validate::check_file(&project::display_path(&args.file), config, &opts)
    };
    super::warn_past(config, std::slice::from_mut(&mut report));
    Ok(report)
}

#[derive(Serialize)]
struct JsonPreview<'a> {
    path: &'a Path,
    id: Option<&'a str>,
    at: Option<String>,
    status: Option<crate::content::Status>,
    targets: Vec<&'a Rendered>,
    media: Vec<&'a validate::MediaInfo>,
    diagnostics: &'a [crate::diag::Diagnostic],
}

fn print_json(r: &FileReport) -> std::io::Result<()> {
    let c = r.checked.as_ref();
    let doc = JsonPreview {
        path: &r.path,
        id: c.map(|c| c.post.id.as_str()),
        at: c
            .and_then(|c| c.post.at.as_ref())
            .map(|a| a.instant.to_rfc3339()),
        status: c.map(|c| c.post.status),
        targets: c.map(|c| c.rendered.iter().collect()).unwrap_or_default(),
        media: c.map(|c| c.media.iter().collect()).unwrap_or_default(),
        diagnostics: &r.diagnostics,
    };
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &doc)?;
    writeln!(out)?;
    out.flush()
}

fn print_text(ui: &Ui, config: &Config, r: &FileReport) -> std::io::Result<()> {
    let mut out = ui.out();
    let (b, br) = (Styles::BOLD.render(), Styles::BOLD.render_reset());
    let (d, dr) = (Styles::DIM.render(), Styles::DIM.render_reset());
    if let Some(c) = &r.checked {
        header(&mut out, config, r, c)?;
        for rendered in &c.rendered {
            let account = &config.accounts[&rendered.account];
            writeln!(out)?;
            let source = match &rendered.source {
                Source::Body => String::new(),
                Source::Variant(k) => format!("  {d}(variant `{k}`){dr}"),
            };
            writeln!(
                out,
                "{b}━━ {} · {} {}{br}{source}",
                rendered.account,
                rendered.platform.display_name(),
                account.label()
            )?;
            let n = rendered.parts.len();
            for (i, part) in rendered.parts.iter().enumerate() {
                let over = part.length > rendered.max_chars;
                let style = if over { Styles::ERROR } else { Styles::DIM };
                let mut counts = format!(
                    "{}/{} {}",
                    part.length,
                    rendered.max_chars,
                    rendered.platform.limits().counting.unit()
                );
                if let Some(max) = rendered.platform.limits().max_bytes {
                    counts.push_str(&format!(" · {}/{max} bytes", part.bytes));
                }
                let label = if n > 1 {
                    format!("[{}/{n}] ", i + 1)
                } else {
                    String::new()
                };
                writeln!(
                    out,
                    "{}{label}{counts}{}",
                    style.render(),
                    style.render_reset()
                )?;
                for line in part.text.text.lines() {
                    writeln!(out, "  │ {line}")?;
                }
                let hidden: Vec<_> = part
                    .text
                    .spans
                    .iter()
                    .filter_map(|s| match &s.kind {
                        SpanKind::Link { uri } if part.text.span_text(s) != uri => {
                            Some((part.text.span_text(s), uri))
                        }
                        _ => None,
                    })
                    .collect();
                for (text, uri) in hidden {
                    writeln!(out, "  {d}↳ “{text}” links to {uri}{dr}")?;
                }
            }
        }
        if !c.media.is_empty() {
            writeln!(out)?;
            writeln!(out, "{b}media{br}")?;
            for m in &c.media {
                let alt = m
                    .alt
                    .as_deref()
                    .map(|a| format!("alt: “{a}”"))
                    .unwrap_or_else(|| "no alt text".into());
                writeln!(
                    out,
                    "  {} {d}({}, {}){dr} {alt}",
                    m.path,
                    m.mime,
                    human_bytes(m.bytes)
                )?;
            }
        }
    }
    writeln!(out)?;
    if r.diagnostics.is_empty() {
        writeln!(
            out,
            "{}no problems{}",
            Styles::OK.render(),
            Styles::OK.render_reset()
        )?;
    } else {
        let errors = r.diagnostics.iter().filter(|x| x.is_error()).count();
        let warnings = r.diagnostics.len() - errors;
        writeln!(
            out,
            "{b}problems{br} ({}, {})",
            plural(errors, "error"),
            plural(warnings, "warning")
        )?;
        for diag in &r.diagnostics {
            ui.diagnostic(&mut out, diag)?;
        }
    }
    out.flush()
}

fn header(
    out: &mut impl Write,
    config: &Config,
    r: &FileReport,
    c: &Checked,
) -> std::io::Result<()> {
    let (b, br) = (Styles::BOLD.render(), Styles::BOLD.render_reset());
    let (d, dr) = (Styles::DIM.render(), Styles::DIM.render_reset());
    let post = &c.post;
    let when = match (&post.at, &post.queue) {
        (Some(at), _) => format!(
            "{} {} ({})",
            time::format_local(at.instant, config.timezone),
            config.timezone.name(),
            time::relative(at.instant, crate::clock::now())
        ),
        (None, Some(q)) => format!("next free slot of queue `{q}`"),
        (None, None) => "no time set (published with `social post`)".into(),
    };
    let status = match post.status {
        crate::content::Status::Draft => " · draft",
        crate::content::Status::Ready => "",
        crate::content::Status::Withdrawn => " · withdrawn (deleted where it was published)",
    };
    writeln!(
        out,
        "{b}{}{br}  {d}id {}{status}{dr}",
        r.path.display(),
        post.id
    )?;
    writeln!(out, "{d}when:{dr} {when}")?;
    if let Some(cw) = &post.cw {
        writeln!(out, "{d}content warning:{dr} {cw}")?;
    }
    if c.targets.is_empty() {
        writeln!(out, "{d}no accounts to post to{dr}")?;
    }
    Ok(())
}
