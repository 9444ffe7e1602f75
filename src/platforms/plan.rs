//! Requests as values: a client turns a rendered target into a [`Plan`],
//! the ordered requests it will send with their bodies, and both
//! `--dry-run` ([`Plan::describe`]) and publishing ([`run`]) start from
//! that one plan, so what a dry run shows is what publishing sends.
//!
//! A request that needs something only an earlier answer knows (the id of
//! an upload, the status a reply goes under, the URL an upload slot was
//! given) names it with a [`Fill`]: the value at a JSON pointer of an
//! earlier step's answer, put into the body, the query, a form field or
//! the URL before the request is sent. A dry run shows the fill's label
//! there instead (`<id of upload 1>`).
//!
//! What a client still does itself when it sends a step is what no request
//! can say in advance: adding the credential, waiting while the platform
//! processes an upload, reading an answer that is a header rather than a
//! body, and turning a part's answer into its [`PublishedPart`].

use super::http::{Http, Repeat};
use super::{Job, PartSink, PlatformError};
use crate::model::PublishedPart;
use reqwest::RequestBuilder;
use serde_json::{Map, Value, json};
use std::ops::Range;
use std::path::PathBuf;

/// The requests that publish one target, in the order they are sent.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub steps: Vec<Step>,
}

/// One request of a plan, with what its answer means.
#[derive(Clone, Debug)]
pub struct Step {
    /// What the step does, for messages ("uploading media/pic.png").
    pub what: String,
    pub role: Role,
    pub request: Request,
    /// Values from earlier answers this request needs.
    pub fills: Vec<Fill>,
}

/// What a step's answer is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Reads something later steps need (the post a reply goes under).
    Lookup,
    /// Uploads (part of) media attachment `n`, counting from 0.
    Media(usize),
    /// A step towards part `i` that does not publish it yet (a container,
    /// an upload slot).
    Prepare(usize),
    /// Publishes part `i` of the thread: its answer is the published part,
    /// recorded before the next step is sent.
    Part(usize),
    /// Deletes published part `i`: once it succeeds (or the platform says
    /// the part is gone already) the deletion is recorded before the next
    /// step is sent.
    Delete(usize),
    /// Changes published part `i` in place (an edit): recorded as it succeeds.
    Edit(usize),
}

/// An HTTP method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }

    fn reqwest(self) -> reqwest::Method {
        match self {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
        }
    }
}

/// One request, as data. The credential is not part of it: the client
/// adds it when sending, so a plan can be printed.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: Method,
    pub url: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Body,
    /// The rate-limit bucket the request counts against.
    pub bucket: &'static str,
    /// Whether the HTTP layer may send it again after an unclear failure.
    pub repeat: Repeat,
}

/// A request body.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    Empty,
    Json(Value),
    /// `application/x-www-form-urlencoded`.
    Form(Vec<(String, String)>),
    Multipart(Vec<Field>),
    /// A file's bytes, or a range of them, as the whole body.
    File(FileRef),
}

/// A field of a multipart body.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub name: String,
    pub value: FieldValue,
}

#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue {
    Text(String),
    File(FileRef),
}

/// Bytes of a file, read when the request is sent.
#[derive(Clone, Debug, PartialEq)]
pub struct FileRef {
    pub path: PathBuf,
    /// The name sent with a multipart file.
    pub file_name: String,
    pub content_type: String,
    /// The bytes sent, when not the whole file (a chunk of an upload).
    pub range: Option<Range<u64>>,
    /// The file's size, for the dry run.
    pub size: u64,
}

/// A value from an earlier answer, and where it goes.
#[derive(Clone, Debug, PartialEq)]
pub struct Fill {
    pub into: Slot,
    /// The step whose answer holds it, counted from the first of the plan.
    pub step: usize,
    /// A JSON pointer into that answer (`/id`, `/data/media_id`).
    pub pointer: String,
    /// How a dry run shows it: `id of upload 1` is shown `<id of upload 1>`.
    pub label: String,
    /// When the answer may lack the value: the item of a JSON body's array
    /// (a pointer) that is left out then, instead of the step failing (a
    /// mention whose handle does not resolve loses its link, not the post).
    pub or_drop: Option<String>,
}

/// Where a [`Fill`] puts its value.
#[derive(Clone, Debug, PartialEq)]
pub enum Slot {
    /// At a JSON pointer of a JSON body (created, with its parents, if missing).
    Body(String),
    /// A query parameter.
    Query(String),
    /// A text field of a multipart or form body.
    Field(String),
    /// `{name}` in the URL, as one path segment.
    Path(String),
    /// The whole URL (an upload URL a platform handed out).
    Url,
    /// One item of a comma-separated query parameter (Instagram's carousel
    /// `children`): each fill into the same name appends its value, in the
    /// order of the fills.
    QueryItem(String),
}

impl Request {
    /// A request without query, headers or body.
    pub fn new(method: Method, url: impl Into<String>) -> Request {
        Request {
            method,
            url: url.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: Body::Empty,
            bucket: super::http::GENERAL,
            repeat: Repeat::Safe,
        }
    }

    pub fn get(url: impl Into<String>) -> Request {
        Request::new(Method::Get, url)
    }

    pub fn post(url: impl Into<String>) -> Request {
        Request::new(Method::Post, url)
    }

    pub fn json(mut self, body: Value) -> Request {
        self.body = Body::Json(body);
        self
    }

    pub fn form(mut self, fields: Vec<(String, String)>) -> Request {
        self.body = Body::Form(fields);
        self
    }

    pub fn multipart(mut self, fields: Vec<Field>) -> Request {
        self.body = Body::Multipart(fields);
        self
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Request {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn query(mut self, name: &str, value: impl Into<String>) -> Request {
        self.query.push((name.to_string(), value.into()));
        self
    }

    pub fn bucket(mut self, bucket: &'static str) -> Request {
        self.bucket = bucket;
        self
    }

    pub fn repeat(mut self, repeat: Repeat) -> Request {
        self.repeat = repeat;
        self
    }

    /// The request with the file bytes it carries read into memory, ready
    /// to be sent (again, on a retry) with [`Loaded::build`].
    pub async fn load(self) -> Result<Loaded, PlatformError> {
        let mut files = Vec::new();
        let refs: Vec<&FileRef> = match &self.body {
            Body::File(f) => vec![f],
            Body::Multipart(fields) => fields
                .iter()
                .filter_map(|f| match &f.value {
                    FieldValue::File(r) => Some(r),
                    FieldValue::Text(_) => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        for r in refs {
            files.push(read_file(r).await?);
        }
        Ok(Loaded {
            request: self,
            files,
        })
    }
}

async fn read_file(r: &FileRef) -> Result<Vec<u8>, PlatformError> {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    let cannot = |e: std::io::Error| {
        PlatformError::config(format!(
            "cannot read the media file {}: {e}",
            r.path.display()
        ))
    };
    let Some(range) = &r.range else {
        return tokio::fs::read(&r.path).await.map_err(cannot);
    };
    // Only the range is read: a large video goes out in many chunks, and
    // reading the whole file for each would read it chunks-times over.
    let mut file = tokio::fs::File::open(&r.path).await.map_err(cannot)?;
    let len = file.metadata().await.map_err(cannot)?.len();
    let (start, end) = (range.start, range.end);
    if start > end || end > len {
        return Err(PlatformError::config(format!(
            "the media file {} changed while it was being sent (it has {len} bytes, bytes {start}..{end} were to be sent)",
            r.path.display(),
        )));
    }
    file.seek(std::io::SeekFrom::Start(start))
        .await
        .map_err(cannot)?;
    let mut bytes = vec![0; (end - start) as usize];
    file.read_exact(&mut bytes).await.map_err(cannot)?;
    Ok(bytes)
}

/// A request with its files read, built anew for each attempt.
pub struct Loaded {
    pub request: Request,
    files: Vec<Vec<u8>>,
}

impl Loaded {
    /// The request for `client`; the caller adds the credential.
    pub fn build(&self, client: &reqwest::Client) -> RequestBuilder {
        let r = &self.request;
        let mut b = client.request(r.method.reqwest(), &r.url);
        if !r.query.is_empty() {
            b = b.query(&r.query);
        }
        for (k, v) in &r.headers {
            b = b.header(k, v);
        }
        let mut files = self.files.iter();
        match &r.body {
            Body::Empty => b,
            Body::Json(v) => b.json(v),
            Body::Form(f) => b.form(f),
            Body::File(f) => b
                .header(reqwest::header::CONTENT_TYPE, &f.content_type)
                .body(files.next().cloned().unwrap_or_default()),
            Body::Multipart(fields) => {
                let mut form = reqwest::multipart::Form::new();
                for field in fields {
                    form = match &field.value {
                        FieldValue::Text(t) => form.text(field.name.clone(), t.clone()),
                        FieldValue::File(f) => {
                            let bytes = files.next().cloned().unwrap_or_default();
                            let part = reqwest::multipart::Part::bytes(bytes.clone())
                                .file_name(f.file_name.clone());
                            let part = part.mime_str(&f.content_type).unwrap_or_else(|_| {
                                reqwest::multipart::Part::bytes(bytes)
                                    .file_name(f.file_name.clone())
                            });
                            form.part(field.name.clone(), part)
                        }
                    };
                }
                b.multipart(form)
            }
        }
    }

    /// Sends it through the HTTP layer for `account` (its bucket and repeat
    /// rule), with `auth` adding the credential to each attempt.
    pub async fn send(
        &self,
        http: &Http,
        account: &str,
        auth: impl Fn(RequestBuilder) -> RequestBuilder,
    ) -> Result<reqwest::Response, PlatformError> {
        let r = &self.request;
        http.send_in(account, r.bucket, r.repeat, |c| auth(self.build(c)))
            .await
    }
}

impl Step {
    pub fn new(what: impl Into<String>, role: Role, request: Request) -> Step {
        Step {
            what: what.into(),
            role,
            request,
            fills: Vec::new(),
        }
    }

    /// Takes the value at `pointer` of step `step`'s answer into `into`.
    pub fn fill(
        mut self,
        into: Slot,
        step: usize,
        pointer: &str,
        label: impl Into<String>,
    ) -> Step {
        self.fills.push(Fill {
            into,
            step,
            pointer: pointer.to_string(),
            label: label.into(),
            or_drop: None,
        });
        self
    }

    /// Like [`Step::fill`], but when the answer has no value there the
    /// array item at `drop` (a pointer into the JSON body) is left out of
    /// the request instead.
    pub fn fill_or_drop(
        mut self,
        into: Slot,
        step: usize,
        pointer: &str,
        label: impl Into<String>,
        drop: &str,
    ) -> Step {
        self = self.fill(into, step, pointer, label);
        if let Some(f) = self.fills.last_mut() {
            f.or_drop = Some(drop.to_string());
        }
        self
    }

    /// The request with every fill taken from `answers` (one per step
    /// before this one). A value an answer lacks is an error naming it,
    /// unless the fill says which item to leave out instead.
    pub fn resolve(&self, answers: &[Value]) -> Result<Request, PlatformError> {
        let mut r = self.request.clone();
        let mut dropped = Vec::new();
        for f in &self.fills {
            let value = answers
                .get(f.step)
                .and_then(|a| a.pointer(&f.pointer))
                .filter(|v| !v.is_null());
            match (value, &f.or_drop) {
                (Some(value), _) => place(&mut r, &f.into, value.clone()),
                (None, Some(item)) => dropped.push(item.clone()),
                (None, None) => {
                    return Err(PlatformError::unavailable(format!(
                        "{}: the answer before it has no {} (`{}`)",
                        self.what, f.label, f.pointer
                    )));
                }
            }
        }
        if let Body::Json(body) = &mut r.body {
            drop_items(body, dropped);
        }
        Ok(r)
    }

    /// The request as a dry run shows it: each fill's label in its place.
    fn shown(&self) -> Request {
        let mut r = self.request.clone();
        for f in &self.fills {
            place(&mut r, &f.into, Value::String(format!("<{}>", f.label)));
        }
        r
    }
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Puts `value` where `slot` says.
fn place(r: &mut Request, slot: &Slot, value: Value) {
    match slot {
        Slot::Body(pointer) => {
            if let Body::Json(body) = &mut r.body {
                set_pointer(body, pointer, value);
            }
        }
        Slot::Query(name) => set_pair(&mut r.query, name, text_of(&value)),
        Slot::Field(name) => match &mut r.body {
            Body::Form(f) => set_pair(f, name, text_of(&value)),
            Body::Multipart(fields) => {
                let text = text_of(&value);
                match fields.iter_mut().find(|f| &f.name == name) {
                    Some(f) => f.value = FieldValue::Text(text),
                    None => fields.push(Field {
                        name: name.clone(),
                        value: FieldValue::Text(text),
                    }),
                }
            }
            _ => {}
        },
        Slot::Path(name) => {
            let text = text_of(&value);
            // A dry run's label stays readable; a real id is one segment.
            let seg = if text.starts_with('<') {
                text
            } else {
                super::wire::segment(&text)
            };
            r.url = r.url.replace(&format!("{{{name}}}"), &seg);
        }
        Slot::Url => r.url = text_of(&value),
        Slot::QueryItem(name) => {
            let text = text_of(&value);
            match r.query.iter_mut().find(|(k, _)| k == name) {
                Some((_, v)) if !v.is_empty() => {
                    v.push(',');
                    v.push_str(&text);
                }
                Some((_, v)) => *v = text,
                None => r.query.push((name.clone(), text)),
            }
        }
    }
}

fn set_pair(pairs: &mut Vec<(String, String)>, name: &str, value: String) {
    match pairs.iter_mut().find(|(k, _)| k == name) {
        Some(p) => p.1 = value,
        None => pairs.push((name.to_string(), value)),
    }
}

/// Removes the array items at `items` (JSON pointers), the later ones of an
/// array first so that each index still names the item it was given for.
fn drop_items(body: &mut Value, mut items: Vec<String>) {
    let split = |p: &str| {
        let (array, index) = p.rsplit_once('/').unwrap_or(("", p));
        (array.to_string(), index.parse::<usize>().ok())
    };
    items.sort_by_key(|p| std::cmp::Reverse(split(p)));
    items.dedup();
    for item in items {
        if let (array, Some(i)) = split(&item)
            && let Some(Value::Array(a)) = body.pointer_mut(&array)
            && i < a.len()
        {
            a.remove(i);
        }
    }
}

/// Sets the value at a JSON pointer, creating objects (or, for a numeric
/// token in an array, the element) on the way.
fn set_pointer(root: &mut Value, pointer: &str, value: Value) {
    let tokens: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    let mut at = root;
    for (n, t) in tokens.iter().enumerate() {
        let last = n + 1 == tokens.len();
        if let Value::Array(items) = at {
            let Ok(i) = t.parse::<usize>() else { return };
            while items.len() <= i {
                items.push(Value::Null);
            }
            if last {
                items[i] = value;
                return;
            }
            at = &mut items[i];
            continue;
        }
        if !at.is_object() {
            *at = Value::Object(Map::new());
        }
        let Value::Object(map) = at else { return };
        if last {
            map.insert(t.clone(), value);
            return;
        }
        at = map.entry(t.clone()).or_insert(Value::Null);
    }
}

impl Plan {
    pub fn push(&mut self, step: Step) -> usize {
        self.steps.push(step);
        self.steps.len() - 1
    }

    /// The plan as `--dry-run` prints it: one object per request with its
    /// method, URL, query, headers and body; values from earlier answers
    /// shown by their labels; files by path, type and size, not content.
    pub fn describe(&self) -> Vec<Value> {
        self.steps.iter().map(describe_step).collect()
    }
}

fn pairs(p: &[(String, String)]) -> Value {
    Value::Object(
        p.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

fn file_json(f: &FileRef) -> Value {
    let mut v = json!({
        "file_name": f.file_name,
        "path": f.path.display().to_string(),
        "content_type": f.content_type,
        "bytes": f.size,
    });
    if let Some(r) = &f.range {
        v["range"] = json!([r.start, r.end]);
    }
    v
}

fn describe_step(step: &Step) -> Value {
    let r = step.shown();
    let mut o = Map::new();
    o.insert("step".into(), json!(step.what));
    o.insert("method".into(), json!(r.method.as_str()));
    o.insert("url".into(), json!(r.url));
    if !r.query.is_empty() {
        o.insert("query".into(), pairs(&r.query));
    }
    if !r.headers.is_empty() {
        o.insert("headers".into(), pairs(&r.headers));
    }
    match &r.body {
        Body::Empty => {}
        Body::Json(v) => {
            o.insert("json".into(), v.clone());
        }
        Body::Form(f) => {
            o.insert("form".into(), pairs(f));
        }
        Body::File(f) => {
            o.insert("file".into(), file_json(f));
        }
        Body::Multipart(fields) => {
            let m: Map<String, Value> = fields
                .iter()
                .map(|f| {
                    let v = match &f.value {
                        FieldValue::Text(t) => json!(t),
                        FieldValue::File(r) => file_json(r),
                    };
                    (f.name.clone(), v)
                })
                .collect();
            o.insert("multipart".into(), Value::Object(m));
        }
    }
    Value::Object(o)
}

/// How a client sends the steps of its plans.
#[async_trait::async_trait]
pub trait Steps: Send + Sync {
    /// Sends one step, its fills resolved into `request`, and returns its
    /// answer as JSON (what later fills and [`Steps::published`] read).
    /// This is where a client adds its credential, waits while the
    /// platform processes an upload, and reads answers it keeps in headers.
    async fn send(
        &self,
        step: &Step,
        request: Request,
        progress: &Progress<'_>,
    ) -> Result<Value, PlatformError>;

    /// The part a [`Role::Part`] step published, from its answer.
    fn published(&self, step: &Step, answer: &Value) -> Result<PublishedPart, PlatformError>;
}

/// What is known while a plan runs.
pub struct Progress<'a> {
    pub job: &'a Job<'a>,
    /// The answers of the steps sent so far, in order.
    pub answers: &'a [Value],
    /// The parts published so far: the job's earlier ones, then this run's.
    pub parts: &'a [PublishedPart],
}

/// How a client sends the steps of its delete and edit plans: like
/// [`Steps::send`], without a publish job (a deletion needs only the parts
/// the store recorded, not the post file).
#[async_trait::async_trait]
pub trait Changes: Send + Sync {
    /// Sends one step with the credential and returns its answer. A
    /// [`Role::Delete`] step whose part the platform no longer has answers
    /// [`gone`] (see [`super::wire::read_removal`]), not an error.
    async fn send_change(&self, step: &Step, request: Request) -> Result<Value, PlatformError>;
}

/// The error of a delete or edit step handed to a publishing client's
/// [`Steps::send`]: plans of one kind are never run by the other's runner.
pub fn not_publishing(step: &Step) -> PlatformError {
    PlatformError::config(format!(
        "{}: a delete or edit step cannot be sent as part of publishing",
        step.what
    ))
}

/// The answer of a delete step whose part was already gone.
pub fn gone() -> Value {
    json!({ "gone": true })
}

/// Whether a delete step's answer says the part was already gone.
pub fn is_gone(answer: &Value) -> bool {
    answer.get("gone") == Some(&Value::Bool(true))
}

/// Sends a delete or edit `plan` in order, handing each part it deleted or
/// edited to `sink` (with whether it was gone already) before the next
/// step is sent.
pub async fn run_changes(
    client: &dyn Changes,
    plan: &Plan,
    sink: &mut dyn super::DoneSink,
) -> Result<(), PlatformError> {
    let mut answers: Vec<Value> = Vec::with_capacity(plan.steps.len());
    for step in &plan.steps {
        let request = step.resolve(&answers)?;
        let answer = client.send_change(step, request).await?;
        match step.role {
            Role::Delete(i) | Role::Edit(i) => sink.done(i, is_gone(&answer))?,
            _ => {}
        }
        answers.push(answer);
    }
    Ok(())
}

/// Sends `plan` for `job` in order, handing each published part to `sink`
/// before the next step is sent.
pub async fn run(
    client: &dyn Steps,
    job: &Job<'_>,
    plan: &Plan,
    sink: &mut dyn PartSink,
) -> Result<(), PlatformError> {
    let mut answers: Vec<Value> = Vec::with_capacity(plan.steps.len());
    let mut parts: Vec<PublishedPart> = job.done.to_vec();
    for step in &plan.steps {
        let request = step.resolve(&answers)?;
        let progress = Progress {
            job,
            answers: &answers,
            parts: &parts,
        };
        let answer = client.send(step, request, &progress).await?;
        if let Role::Part(i) = step.role {
            let part = client.published(step, &answer)?;
            sink.part(i, part.clone())?;
            parts.push(part);
        }
        answers.push(answer);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload_then_post() -> Plan {
        let mut plan = Plan::default();
        let up = plan.push(Step::new(
            "uploading a.png",
            Role::Media(0),
            Request::post("https://h/media").multipart(vec![Field {
                name: "description".into(),
                value: FieldValue::Text("alt".into()),
            }]),
        ));
        plan.push(
            Step::new(
                "posting",
                Role::Part(0),
                Request::post("https://h/statuses/{parent}/replies")
                    .json(json!({"status": "hi", "media_ids": []}))
                    .header("Idempotency-Key", "k-0"),
            )
            .fill(
                Slot::Body("/media_ids/0".into()),
                up,
                "/id",
                "id of upload 1",
            )
            .fill(Slot::Path("parent".into()), up, "/parent", "parent"),
        );
        plan
    }

    #[test]
    fn a_dry_run_shows_labels_where_answers_go() {
        let shown = upload_then_post().describe();
        assert_eq!(shown.len(), 2);
        assert_eq!(shown[0]["multipart"]["description"], "alt");
        assert_eq!(shown[1]["json"]["media_ids"], json!(["<id of upload 1>"]));
        assert_eq!(shown[1]["url"], "https://h/statuses/<parent>/replies");
        assert_eq!(shown[1]["headers"]["Idempotency-Key"], "k-0");
        assert_eq!(shown[1]["step"], "posting");
    }

    #[test]
    fn fills_take_values_from_earlier_answers() {
        let plan = upload_then_post();
        let answers = [json!({"id": "m1", "parent": "a/b"})];
        let r = plan.steps[1].resolve(&answers).unwrap();
        assert_eq!(
            r.body,
            Body::Json(json!({"status": "hi", "media_ids": ["m1"]}))
        );
        // An id from a server stays one path segment.
        assert_eq!(r.url, "https://h/statuses/a%2Fb/replies");
    }

    #[test]
    fn a_missing_answer_value_is_an_error_naming_it() {
        let plan = upload_then_post();
        let e = plan.steps[1].resolve(&[json!({"id": null})]).unwrap_err();
        assert!(e.to_string().contains("id of upload 1"), "{e}");
    }

    #[test]
    fn a_fill_that_may_be_missing_leaves_its_item_out() {
        let mut step = Step::new(
            "posting",
            Role::Part(0),
            Request::post("https://h/post")
                .json(json!({"tags": [{"n": "a", "id": null}, {"n": "b", "id": null}, {"n": "c", "id": null}]})),
        );
        for (i, at) in [0, 1, 2].into_iter().enumerate() {
            step = step.fill_or_drop(
                Slot::Body(format!("/tags/{i}/id")),
                at,
                "/id",
                format!("id {i}"),
                &format!("/tags/{i}"),
            );
        }
        let r = step
            .resolve(&[json!({"id": null}), json!({"id": "B"}), json!({})])
            .unwrap();
        assert_eq!(r.body, Body::Json(json!({"tags": [{"n": "b", "id": "B"}]})));
        let mut plan = Plan::default();
        plan.push(step);
        assert_eq!(plan.describe()[0]["json"]["tags"][2]["id"], "<id 2>");
    }

    #[test]
    fn query_items_are_joined_in_order() {
        let mut step = Step::new(
            "carousel",
            Role::Prepare(0),
            Request::post("https://h/media").query("children", ""),
        );
        for (n, at) in [0, 1].into_iter().enumerate() {
            step = step.fill(
                Slot::QueryItem("children".into()),
                at,
                "/id",
                format!("item {}", n + 1),
            );
        }
        let r = step
            .resolve(&[json!({"id": "a"}), json!({"id": 7})])
            .unwrap();
        assert_eq!(r.query, vec![("children".to_string(), "a,7".to_string())]);
        let mut plan = Plan::default();
        plan.push(step);
        assert_eq!(plan.describe()[0]["query"]["children"], "<item 1>,<item 2>");
    }

    #[test]
    fn pointers_create_what_is_missing() {
        let mut v = json!({});
        set_pointer(&mut v, "/record/reply/root/uri", json!("at://x"));
        set_pointer(&mut v, "/record/embed/images/1", json!("b"));
        assert_eq!(
            v,
            json!({"record": {"reply": {"root": {"uri": "at://x"}}, "embed": {"images": {"1": "b"}}}})
        );
        let mut v = json!({"ids": ["a"]});
        set_pointer(&mut v, "/ids/2", json!("c"));
        assert_eq!(v, json!({"ids": ["a", null, "c"]}));
    }

    #[tokio::test]
    async fn loading_reads_the_range_of_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.bin");
        std::fs::write(&path, b"0123456789").unwrap();
        let file = |range| FileRef {
            path: path.clone(),
            file_name: "f.bin".into(),
            content_type: "application/octet-stream".into(),
            range,
            size: 10,
        };
        let mut r = Request::post("https://h/up");
        r.body = Body::File(file(Some(2..5)));
        let loaded = r.load().await.unwrap();
        assert_eq!(loaded.files, vec![b"234".to_vec()]);
        let mut r = Request::post("https://h/up");
        r.body = Body::File(file(Some(8..12)));
        let e = r.load().await.err().unwrap();
        assert!(e.to_string().contains("changed"), "{e}");
    }

    /// Sends change steps over plain reqwest and reads each answer as a
    /// deletion is read; records what the sink was told.
    struct Deleter(reqwest::Client);

    struct Plain;
    impl super::super::wire::Dialect for Plain {}

    #[async_trait::async_trait]
    impl Changes for Deleter {
        async fn send_change(&self, step: &Step, request: Request) -> Result<Value, PlatformError> {
            let resp = request
                .load()
                .await?
                .build(&self.0)
                .send()
                .await
                .map_err(|e| PlatformError::unavailable(e.to_string()))?;
            super::super::wire::read_removal(resp, &step.what, &Plain).await
        }
    }

    #[derive(Default)]
    struct Told(Vec<(usize, bool)>);
    impl super::super::DoneSink for Told {
        fn done(&mut self, index: usize, gone: bool) -> Result<(), PlatformError> {
            self.0.push((index, gone));
            Ok(())
        }
    }

    fn deletes(base: &str, ids: &[(usize, &str)]) -> Plan {
        let mut plan = Plan::default();
        for (i, id) in ids {
            plan.push(Step::new(
                format!("deleting part {}", i + 1),
                Role::Delete(*i),
                Request::new(Method::Delete, format!("{base}/statuses/{id}")),
            ));
        }
        plan
    }

    #[tokio::test]
    async fn changes_are_told_part_by_part_and_a_missing_part_counts_as_gone() {
        use wiremock::matchers::{method, path};
        use wiremock::{Mock, MockServer, ResponseTemplate};
        let server = MockServer::start().await;
        Mock::given(method("DELETE"))
            .and(path("/statuses/3"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "3"})))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("DELETE"))
            .and(path("/statuses/2"))
            .respond_with(
                ResponseTemplate::new(404).set_body_json(json!({"error": "Record not found"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("DELETE"))
            .and(path("/statuses/1"))
            .respond_with(ResponseTemplate::new(204))
            .expect(1)
            .mount(&server)
            .await;
        let client = Deleter(reqwest::Client::new());
        let plan = deletes(&server.uri(), &[(2, "3"), (1, "2"), (0, "1")]);
        let mut told = Told::default();
        run_changes(&client, &plan, &mut told).await.unwrap();
        assert_eq!(told.0, [(2, false), (1, true), (0, false)]);
    }

    #[tokio::test]
    async fn a_failed_change_stops_the_plan_before_the_next_step() {
        use wiremock::matchers::{method, path};
        use wiremock::{Mock, MockServer, ResponseTemplate};
        let server = MockServer::start().await;
        Mock::given(method("DELETE"))
            .and(path("/statuses/2"))
            .respond_with(
                ResponseTemplate::new(403).set_body_json(json!({"error": "missing scope"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("DELETE"))
            .and(path("/statuses/1"))
            .respond_with(ResponseTemplate::new(200))
            .expect(0)
            .mount(&server)
            .await;
        let client = Deleter(reqwest::Client::new());
        let plan = deletes(&server.uri(), &[(1, "2"), (0, "1")]);
        let mut told = Told::default();
        let e = run_changes(&client, &plan, &mut told).await.unwrap_err();
        assert!(
            matches!(&e, PlatformError::Rejected { message, .. } if message.contains("missing scope")),
            "{e:?}"
        );
        assert!(told.0.is_empty());
    }
}
