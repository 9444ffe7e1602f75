//! `social post` and `social publish --due`: where posts leave the machine.

use super::output::{Styles, table};
use super::{Outcome, Project, Ui, usage};
use crate::content::Status;
use crate::platforms::{self, Context, Job};
use crate::publish::{Engine, Progress, Ready, TargetResult, Verdict};
use crate::state::{PostRecord, State};
use crate::validate::{self, Options};
use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::collections::HashMap;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Publish posts now, ignoring their `at` (a target already posted is skipped)
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  social post posts/2026-12-01-launch.md
  social post posts/launch.md --to bsky --dry-run
  gh release view v1.2.0 --json body -q .body | social post - --to bsky,fedi

A target already posted (state store or published.toml) is skipped with its URL:
running `social post` twice never posts twice.")]
pub struct PostArgs {
    /// Post files, or `-` to read one post (frontmatter optional) from standard input
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Publish to these accounts instead of the post's own, comma-separated
    #[arg(long, value_name = "ACCOUNTS", value_delimiter = ',')]
    pub to: Vec<String>,
    /// Show the requests that would be sent, and send nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Print the results as JSON
    #[arg(long)]
    pub json: bool,
}

/// Publish every target that is due, then exit (for cron and CI)
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  social publish --due
  */5 * * * * cd ~/posts && social publish --due --quiet

Targets missed by more than `catch_up` (social.toml, default 1h) are marked
failed instead of published late; `social retry POST` puts them back.")]
pub struct PublishArgs {
    /// Publish what is due now (required: says what this run does)
    #[arg(long, required = true)]
    pub due: bool,
    /// Print the results as JSON
    #[arg(long)]
    pub json: bool,
}

/// The progress display: one spinner line per target on a terminal, plain
/// lines otherwise.
pub struct TermProgress {
    multi: Option<MultiProgress>,
    bars: Mutex<HashMap<String, ProgressBar>>,
    quiet: bool,
}

impl TermProgress {
    pub fn new(ui: &Ui, json: bool) -> Self {
        let tty = std::io::stderr().is_terminal() && !json && !ui.quiet;
        TermProgress {
            multi: tty.then(MultiProgress::new),
            bars: Mutex::default(),
            quiet: ui.quiet || json,
        }
    }
}

fn key(post: &str, account: &str) -> String {
    format!("{post} → {account}")
}

impl Progress for TermProgress {
    fn started(&self, post: &str, account: &str) {
        if let Some(m) = &self.multi {
            let bar = m.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_message(format!("{} publishing…", key(post, account)));
            bar.enable_steady_tick(Duration::from_millis(100));
            if let Ok(mut b) = self.bars.lock() {
                b.insert(key(post, account), bar);
            }
        }
    }

    fn part(&self, post: &str, account: &str, index: usize, total: usize) {
        if total > 1
            && let Ok(b) = self.bars.lock()
            && let Some(bar) = b.get(&key(post, account))
        {
            bar.set_message(format!("{} part {index}/{total} sent", key(post, account)));
        }
    }

    /// The spinner goes away (the table after the run says how it ended);
    /// off a terminal, one progress line with the state: why a target did
    /// not go out is said once, in the table.
    fn finished(&self, r: &TargetResult) {
        let bar = self
            .bars
            .lock()
            .ok()
            .and_then(|mut b| b.remove(&key(&r.post, &r.account)));
        match bar {
            Some(bar) => bar.finish_and_clear(),
            None if !self.quiet => {
                let _ = writeln!(std::io::stderr().lock(), "{}", describe(r));
            }
            None => {}
        }
    }
}

/// A progress line: the state and the target, with its URL once posted
/// (the reason of any other state is in the table).
fn describe(r: &TargetResult) -> String {
    let k = key(&r.post, &r.account);
    match &r.result {
        Verdict::Posted { .. } | Verdict::AlreadyPosted { .. } => {
            format!(
                "{} {k} {}",
                r.result.state(),
                r.result.detail().replace('\n', " ")
            )
        }
        Verdict::WillRetry { retry_at, .. } => format!("{} {k} (at {retry_at})", r.result.state()),
        _ => format!("{} {k}", r.result.state()),
    }
}

/// "3 posted, 1 will retry, 1 missed": the targets of a run counted by the
/// state each is left in, in the vocabulary's order.
pub(crate) fn summary(results: &[TargetResult]) -> String {
    let mut parts = Vec::new();
    for state in State::ALL {
        let n = results
            .iter()
            .filter(|r| {
                r.result.state() == state
                    && !matches!(
                        r.result,
                        Verdict::Skipped { .. }
                            | Verdict::AlreadyPosted { .. }
                            | Verdict::NotDeletable { .. }
                            | Verdict::Edited { .. }
                            | Verdict::EditFailed { .. }
                    )
            })
            .count();
        if n > 0 {
            parts.push(format!("{n} {}", state.name().replace('-', " ")));
        }
        let earlier = results
            .iter()
            .filter(|r| state == State::Posted && matches!(r.result, Verdict::AlreadyPosted { .. }))
            .count();
        if earlier > 0 {
            parts.push(format!("{earlier} posted earlier"));
        }
    }
    let skipped = results
        .iter()
        .filter(|r| matches!(r.result, Verdict::Skipped { .. }))
        .count();
    if skipped > 0 {
        parts.push(format!("{skipped} not attempted"));
    }
    let refused = results
        .iter()
        .filter(|r| matches!(r.result, Verdict::NotDeletable { .. }))
        .count();
    if refused > 0 {
        parts.push(format!("{refused} cannot be deleted there"));
    }
    for (what, edited) in [("edited", true), ("not edited", false)] {
        let n = results
            .iter()
            .filter(|r| match r.result {
                Verdict::Edited { .. } => edited,
                Verdict::EditFailed { .. } => !edited,
                _ => false,
            })
            .count();
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    parts.join(", ")
}

pub(super) fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Reads the post from standard input: frontmatter optional; without an id,
/// one is made from the content so that a re-run is recognised.
fn stdin_post(project: &Project, to: &[String]) -> anyhow::Result<validate::FileReport> {
    let mut bytes = Vec::new();
    std::io::stdin().lock().read_to_end(&mut bytes)?;
    let path = Path::new("<stdin>");
    let src = crate::content::decode(path, bytes).map_err(|d| usage(d.message, d.help))?;
    let opts = Options {
        to: to.to_vec(),
        ..Options::default()
    };
    let mut report = validate::check_text(path, &src, &project.config, &opts);
    if let Some(c) = report.checked.as_mut()
        && c.post.id_from_file_name
    {
        // Without an id, the content names the post: piping the same text
        // again is recognised as the same post.
        let mut post = c.post.clone();
        post.id = format!("stdin-{}", &post.content_hash()[..16]);
        post.id_from_file_name = false;
        let mut diags = Vec::new();
        *c = validate::check_post(post, &project.config, &mut diags);
        report
            .diagnostics
            .retain(|d| d.account.is_none() && !d.message.contains("stands in for it"));
        report
            .diagnostics
            .extend(diags.into_iter().filter(|d| d.account.is_some()));
        report.diagnostics.dedup();
    }
    Ok(report)
}

pub(super) fn print_results(ui: &Ui, results: &[TargetResult], json: bool) -> std::io::Result<()> {
    if json {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, results)?;
        writeln!(out)?;
        return Ok(());
    }
    if results.is_empty() {
        if !ui.quiet {
            writeln!(ui.out(), "nothing to publish")?;
        }
        return Ok(());
    }
    // --quiet: nothing but what failed.
    let shown: Vec<&TargetResult> = results.iter().filter(|r| !ui.quiet || r.failed()).collect();
    if shown.is_empty() {
        return Ok(());
    }
    let widest = |f: &dyn Fn(&TargetResult) -> usize, header: &str| {
        shown
            .iter()
            .map(|r| f(r))
            .max()
            .unwrap_or(0)
            .max(header.len())
    };
    let others = widest(&|r| r.post.chars().count().min(24), "post")
        + widest(&|r| r.account.chars().count(), "account")
        + widest(&|r| r.result.state().name().len(), "state")
        + 3 * 2;
    let mut notes = super::output::Notes::new(super::output::width(), others);
    let mut t = table(&["post", "account", "state", "url / reason"]);
    for r in &shown {
        let detail = notes.cell(&format!("{} → {}", r.post, r.account), r.result.detail());
        t.add_row(vec![
            r.post.clone(),
            r.account.clone(),
            r.result.state().name().to_string(),
            detail,
        ]);
    }
    let mut out = ui.out();
    writeln!(out, "{t}")?;
    notes.write(&mut out)?;
    let style = if results.iter().any(TargetResult::failed) {
        Styles::ERROR
    } else {
        Styles::OK
    };
    writeln!(
        out,
        "{}{}{}",
        style.render(),
        summary(results),
        style.render_reset()
    )?;
    Ok(())
}

pub(super) fn exit(results: &[TargetResult], problems: bool) -> ExitCode {
    if problems || results.iter().any(TargetResult::failed) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

pub fn run_post(ui: &Ui, project: &Project, args: PostArgs) -> Outcome {
    super::known_accounts(&project.config, &args.to)?;
    if args.files.iter().filter(|f| f.as_os_str() == "-").count() > 1 {
        return Err(usage("`-` (standard input) can be given once", None));
    }
    let store = project.store()?;
    // Posts under posts/ get their targets in the store.
    project.sync(&store)?;
    let mut problems = false;
    let mut ready: Vec<Arc<Ready>> = Vec::new();
    for file in &args.files {
        let mut report = if file.as_os_str() == "-" {
            stdin_post(project, &args.to)?
        } else {
            if !file.is_file() {
                return Err(usage(format!("{}: no such file", file.display()), None));
            }
            let opts = Options {
                to: args.to.clone(),
                ..Options::default()
            };
            validate::check_file(&crate::project::display_path(file), &project.config, &opts)
        };
        let errors = report.diagnostics.iter().any(|d| d.is_error());
        {
            let mut err = ui.err();
            for d in &report.diagnostics {
                if d.is_error() || !ui.quiet {
                    ui.diagnostic(&mut err, d)?;
                }
            }
        }
        let Some(checked) = report.checked.take() else {
            problems = true;
            continue;
        };
        if errors {
            ui.error(
                &format!(
                    "{}: not published because of the errors above",
                    report.path.display()
                ),
                None,
            );
            problems = true;
            continue;
        }
        if checked.post.status == Status::Draft {
            ui.error(
                &format!("{}: the post is a draft", report.path.display()),
                Some("set `status: ready` to publish it"),
            );
            problems = true;
            continue;
        }
        if checked.post.status == Status::Withdrawn {
            ui.error(
                &format!("{}: the post is withdrawn", report.path.display()),
                Some("set `status: ready` to publish it; `social delete` takes back what was published"),
            );
            problems = true;
            continue;
        }
        if checked.targets.is_empty() {
            ui.error(
                &format!(
                    "{}: the post has no accounts to go to",
                    report.path.display()
                ),
                Some("pass --to ACCOUNTS"),
            );
            problems = true;
            continue;
        }
        ready.push(Arc::new(Ready { checked }));
    }

    if args.dry_run {
        return dry_run(ui, project, &ready, problems);
    }

    for r in &ready {
        let c = &r.checked;
        let record = PostRecord {
            id: c.post.id.clone(),
            path: None,
            title: c.post.title.clone(),
            content_hash: c.post.content_hash(),
            at: None,
            queue: None,
            position: None,
            draft: false,
            withdrawn: false,
            accounts: c.targets.clone(),
            errors: Vec::new(),
        };
        store.ensure_targets(&record)?;
    }
    let engine = Engine::new(project.config.clone(), store)?;
    let progress = TermProgress::new(ui, args.json);
    let posts: HashMap<String, Arc<Ready>> = ready
        .iter()
        .map(|r| (r.checked.post.id.clone(), r.clone()))
        .collect();
    let work: Vec<(Arc<Ready>, String)> = ready
        .iter()
        .flat_map(|r| {
            r.checked
                .targets
                .iter()
                .map(move |a| (r.clone(), a.clone()))
        })
        .collect();
    let rt = runtime()?;
    let results = rt.block_on(async {
        let mut results = engine.reconcile_stale(&posts, &progress).await;
        results.extend(engine.publish_now(work, &progress).await);
        results
    });
    let results = dedup(results);
    print_results(ui, &results, args.json)?;
    Ok(exit(&results, problems))
}

/// A target reconciled and then met again in the same run is reported once.
fn dedup(results: Vec<TargetResult>) -> Vec<TargetResult> {
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    let mut out: Vec<TargetResult> = Vec::new();
    for r in results {
        let k = (r.post.clone(), r.account.clone());
        match seen.get(&k) {
            // The first verdict (the reconciled one) says what happened.
            Some(_) => {}
            None => {
                seen.insert(k, out.len());
                out.push(r);
            }
        }
    }
    out
}

fn dry_run(ui: &Ui, project: &Project, ready: &[Arc<Ready>], problems: bool) -> Outcome {
    let mut doc = Vec::new();
    for r in ready {
        let c = &r.checked;
        for rendered in &c.rendered {
            let mut account = project.config.accounts[&rendered.account].clone();
            if account.media_base_url.is_none() {
                account.media_base_url = project.config.media_base_url.clone();
            }
            let account = &account;
            let ctx = Context {
                http: platforms::http::Http::new()?,
                // No credential is needed to describe a request.
                secret: Some(crate::credentials::Secret::new("dry-run")),
                memo: None,
            };
            let requests = match platforms::connect(account, ctx) {
                Ok(client) => {
                    let job = Job {
                        post: &c.post,
                        account,
                        rendered,
                        media: &c.media,
                        done: &[],
                        idempotency_key: "dry-run",
                        first_claimed: crate::clock::now(),
                        scheduled: c.post.at.as_ref().map(|a| a.instant),
                        reply_to: None,
                    };
                    client.dry_run(&job)
                }
                Err(e) => vec![serde_json::json!({ "error": e.to_string() })],
            };
            doc.push(serde_json::json!({
                "post": c.post.id,
                "account": rendered.account,
                "platform": rendered.platform,
                "requests": requests,
            }));
        }
    }
    let mut out = ui.out();
    serde_json::to_writer_pretty(&mut out, &doc)?;
    writeln!(out)?;
    if !ui.quiet {
        ui.note("dry run: nothing was sent");
    }
    Ok(if problems {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

pub fn run_publish(ui: &Ui, project: &Project, args: PublishArgs) -> Outcome {
    if ui.verbose > 0 {
        super::daemon::init_logging(ui, super::daemon::LogFormat::Text);
    }
    let store = project.store()?;
    let report = project.sync(&store)?;
    super::schedule::print_problems(ui, &report)?;
    let engine = Engine::new(project.config.clone(), store)?;
    let progress = TermProgress::new(ui, args.json);
    let rt = runtime()?;
    let results = rt.block_on(crate::publish::publish_due(&engine, &progress))?;
    let results = dedup(results);
    print_results(ui, &results, args.json)?;
    Ok(exit(&results, false))
}
