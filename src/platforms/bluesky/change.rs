//! Deleting and editing published posts: one `deleteRecord` per part, and
//! for an edit (only when forced) a `getRecord` of each part and a
//! `putRecord` of the part as rendered now, keeping what others may point
//! at (`createdAt`, the reply refs, the embed) and swapping only the record
//! that was read.
//!
//! Both are [`Plan`]s run by [`plan::run_changes`], so `--dry-run` shows
//! them; [`Changes::send_change`] adds the access token (renewing the
//! session as publishing does) and reads each answer.

use super::record::{self, POST_COLLECTION, parse_at_uri};
use super::*;
use crate::platforms::plan::Changes;
use crate::platforms::{EditMode, Recorded};

/// Why an edit needs `--force`.
const EDIT_NEEDS_FORCE: &str = "editing a Bluesky post changes a post others may have replied to or quoted (their reply or quote keeps pointing at the old version); pass --force to edit it anyway, or --repost to delete it and publish it again as a new post";

/// What the record's lookup answers where the record has no reply refs or
/// no embed: not an object, so `send_put` leaves the field out.
const NONE_KEPT: Value = Value::Bool(false);

/// The repo and record key of published part `index`, whose id must be the
/// `at://` URI of a post; `doing` says what could not be done otherwise.
fn post_key<'p>(
    part: &'p PublishedPart,
    index: usize,
    doing: &str,
) -> Result<(&'p str, &'p str), PlatformError> {
    match parse_at_uri(&part.id) {
        Some((repo, collection, rkey)) if collection == POST_COLLECTION => Ok((repo, rkey)),
        _ => Err(PlatformError::rejected(format!(
            "part {}: `{}` is not the at:// URI of a Bluesky post (at://<did>/{POST_COLLECTION}/<rkey>), so it cannot be {doing}",
            index + 1,
            part.id
        ))),
    }
}

impl Bluesky {
    /// Logging in, as a step of `plan`, when no session is kept: a change
    /// needs no answer of it (the repo is in each part's URI), but a dry run
    /// shows what will be sent.
    fn plan_login_if_needed(&self, plan: &mut Plan) {
        if self.known_session().is_none() {
            plan.push(Step::new(
                self.login_what(),
                Role::Lookup,
                self.login_request(),
            ));
        }
    }

    /// One `deleteRecord` per part, in the order given (the engine passes
    /// the last part first, so a reply is never left without its parent
    /// while the deletion runs). Deleting is idempotent on a PDS: sent again
    /// after an unclear failure, it deletes nothing more.
    pub(super) fn plan_deletion(&self, parts: &[Recorded]) -> Result<Plan, PlatformError> {
        let mut plan = Plan::default();
        let mut deletes = Vec::with_capacity(parts.len());
        for (i, part) in parts {
            let (repo, rkey) = post_key(part, *i, "deleted")?;
            deletes.push(Step::new(
                format!("deleting part {}", i + 1),
                Role::Delete(*i),
                self.xrpc(Method::Post, DELETE_RECORD).json(json!({
                    "repo": repo,
                    "collection": POST_COLLECTION,
                    "rkey": rkey,
                })),
            ));
        }
        if deletes.is_empty() {
            return Ok(plan);
        }
        self.plan_login_if_needed(&mut plan);
        for step in deletes {
            plan.push(step);
        }
        Ok(plan)
    }

    /// For each published part of `job`, in order: a `getRecord` of it, then
    /// a `putRecord` of the part as rendered now (text, facets, langs) with
    /// the `createdAt`, reply refs and embed of the record read, swapping
    /// only that version (`swapRecord`: its CID). Only with `mode.force`.
    pub(super) fn plan_edits(&self, job: &Job<'_>, mode: EditMode) -> Result<Plan, PlatformError> {
        if !mode.force {
            return Err(PlatformError::unsupported(EDIT_NEEDS_FORCE));
        }
        let parts = &job.rendered.parts;
        let mut plan = Plan::default();
        if job.done.is_empty() {
            return Ok(plan);
        }
        if job.done.len() != parts.len() {
            return Err(PlatformError::rejected(format!(
                "the post now has {} part{}, but {} {} published: an edit changes the published parts, it cannot add or remove parts; delete the post and publish it again instead",
                parts.len(),
                if parts.len() == 1 { "" } else { "s" },
                job.done.len(),
                if job.done.len() == 1 { "was" } else { "were" },
            )));
        }
        let keys = job
            .done
            .iter()
            .enumerate()
            .map(|(i, p)| post_key(p, i, "edited"))
            .collect::<Result<Vec<_>, _>>()?;
        self.plan_login_if_needed(&mut plan);
        let mentions = self.plan_mentions(&mut plan, parts.iter());
        let langs = record::langs(&job.post.lang);
        let total = parts.len();
        for (i, (part, (repo, rkey))) in parts.iter().zip(keys).enumerate() {
            let name = format!("part {}", i + 1);
            let read = plan.push(Step::new(
                format!("reading {name} before editing it"),
                Role::Lookup,
                self.record_request(repo, POST_COLLECTION, rkey),
            ));
            // Kept from the record read: the placeholders are filled in.
            let mut record = planned_record(part, langs.clone(), Vec::new(), crate::clock::now())?;
            for key in ["createdAt", "reply", "embed"] {
                record[key] = Value::Null;
            }
            let fills = mention_fills(&mut record, &mentions);
            let what = if total > 1 {
                format!("editing part {} of {total}", i + 1)
            } else {
                "editing the post".to_string()
            };
            // Sent again after it went through, the swap fails: never
            // resent blindly.
            let mut step = Step::new(
                what,
                Role::Edit(i),
                self.xrpc(Method::Post, PUT_RECORD)
                    .json(json!({
                        "repo": repo,
                        "collection": POST_COLLECTION,
                        "rkey": rkey,
                        "record": record,
                        "swapRecord": null,
                    }))
                    .repeat(Repeat::Unsafe),
            )
            .fill(
                Slot::Body("/swapRecord".into()),
                read,
                "/cid",
                format!("CID of {name} as read"),
            )
            .fill(
                Slot::Body("/record/createdAt".into()),
                read,
                "/createdAt",
                format!("createdAt of {name}"),
            )
            .fill(
                Slot::Body("/record/reply".into()),
                read,
                "/reply",
                format!("reply refs of {name}, if any"),
            )
            .fill(
                Slot::Body("/record/embed".into()),
                read,
                "/embed",
                format!("embed of {name}, if any"),
            );
            for (into, at, pointer, label, drop) in fills {
                step = match drop {
                    Some(d) => step.fill_or_drop(Slot::Body(into), at, &pointer, label, &d),
                    None => step.fill(Slot::Body(into), at, &pointer, label),
                };
            }
            plan.push(step);
        }
        Ok(plan)
    }

    /// A `deleteRecord`: the record deleted, or [`plan::gone`] when the PDS
    /// did not have it. A PDS answers a record it does not have with a
    /// success without `commit` (it deletes nothing and writes no commit),
    /// older ones or other implementations with `RecordNotFound`, "Could not
    /// locate record" or a 404.
    async fn send_delete(&self, request: Request, what: &str) -> Result<Value, PlatformError> {
        let dialect = Dialect::default();
        match self.exchange(request, what, Effect::Read, &dialect).await {
            Ok(answer) => {
                let v: Value = if answer.body.trim().is_empty() {
                    json!({})
                } else {
                    answer.json(what, Effect::Read)?
                };
                if v.get("commit").is_some_and(Value::is_object) {
                    Ok(v)
                } else {
                    Ok(plan::gone())
                }
            }
            Err(_) if dialect.not_there() => Ok(plan::gone()),
            Err(e) => Err(e),
        }
    }

    /// The record a part's edit replaces, as its fills read it: `{uri, cid,
    /// createdAt, reply, embed}`, where a reply or embed the record lacks is
    /// `false` (left out when sending). A part that is gone cannot be edited.
    async fn send_edit_lookup(&self, request: Request, what: &str) -> Result<Value, PlatformError> {
        let uri = format!(
            "at://{}/{}/{}",
            query_value(&request, "repo"),
            query_value(&request, "collection"),
            query_value(&request, "rkey")
        );
        let dialect = Dialect::default();
        let r: RecordOut = match self.exchange(request, what, Effect::Read, &dialect).await {
            Err(_) if dialect.not_there() => {
                return Err(PlatformError::rejected(format!(
                    "{what}: the post {uri} no longer exists (deleted elsewhere?), so it cannot be edited"
                )));
            }
            answer => answer?.json(what, Effect::Read)?,
        };
        let cid = r.cid.ok_or_else(|| {
            PlatformError::unavailable(format!("{what}: the PDS gave no CID for {}", r.uri))
        })?;
        let kept = |key: &str| {
            r.value
                .get(key)
                .filter(|v| v.is_object())
                .cloned()
                .unwrap_or(NONE_KEPT)
        };
        Ok(json!({
            "uri": r.uri,
            "cid": cid,
            "createdAt": r.value.get("createdAt").cloned().unwrap_or(Value::Null),
            "reply": kept("reply"),
            "embed": kept("embed"),
        }))
    }

    /// A `putRecord` of an edited part: what the record read had no reply
    /// refs or embed for is left out. A swap that fails means the record
    /// changed since it was read.
    async fn send_put(&self, mut request: Request, what: &str) -> Result<Value, PlatformError> {
        if let plan::Body::Json(body) = &mut request.body
            && let Some(record) = body.get_mut("record").and_then(Value::as_object_mut)
        {
            for key in ["reply", "embed"] {
                if record.get(key).is_some_and(|v| !v.is_object()) {
                    record.remove(key);
                }
            }
        }
        let dialect = Dialect::default();
        match self.exchange(request, what, Effect::Create, &dialect).await {
            Err(PlatformError::Rejected { message, .. })
                if dialect.name().as_deref() == Some("InvalidSwap") =>
            {
                Err(PlatformError::rejected(format!(
                    "{message} (the post changed since it was read: edited elsewhere, or an earlier attempt of this edit went through; run the edit again)"
                )))
            }
            answer => {
                let c: Created = answer?.json(what, Effect::Create)?;
                Ok(json!({"uri": c.uri, "cid": c.cid}))
            }
        }
    }
}

#[async_trait::async_trait]
impl Changes for Bluesky {
    /// Adds the access token (renewing the session once when the PDS
    /// refuses it) and reads each answer as its step needs: a deletion or
    /// [`plan::gone`], a record read for an edit, an edit's `{uri, cid}`.
    async fn send_change(&self, step: &Step, request: Request) -> Result<Value, PlatformError> {
        let what = step.what.as_str();
        match step.role {
            Role::Delete(_) => self.send_delete(request, what).await,
            Role::Edit(_) => self.send_put(request, what).await,
            Role::Lookup => match nsid(&request.url) {
                CREATE_SESSION => {
                    let s = self.current_or(request).await?;
                    Ok(json!({"did": s.did, "handle": s.handle}))
                }
                RESOLVE_HANDLE => self.send_resolve(request, what).await,
                GET_RECORD => self.send_edit_lookup(request, what).await,
                _ => self
                    .exchange(request, what, Effect::Read, &Dialect::default())
                    .await?
                    .json(what, Effect::Read),
            },
            Role::Part(_) | Role::Media(_) | Role::Prepare(_) => Err(PlatformError::config(
                format!("{what}: a publishing step cannot be sent as part of a delete or edit"),
            )),
        }
    }
}
