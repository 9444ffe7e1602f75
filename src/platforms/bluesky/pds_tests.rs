//! The Bluesky client against a real PDS (`@atproto/pds` with an in-memory
//! PLC directory) started on loopback by `tests/pds/server.mjs`.
//!
//! Needs `SOCIAL_TEST_PDS_DIR`: the node_modules that
//! `bash tests/pds/install.sh` installs and prints (tests/run.sh sets it).

use super::tests::{Collect, Fixture, claimed};
use super::*;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

/// A running `server.mjs`: stopped (stdin closed, then killed if it lingers)
/// when dropped.
struct PdsServer {
    child: Child,
    url: String,
}

impl PdsServer {
    fn start() -> PdsServer {
        let Some(modules) = std::env::var_os("SOCIAL_TEST_PDS_DIR") else {
            panic!(
                "\n\n*** SOCIAL_TEST_PDS_DIR is not set: the real-PDS test of the Bluesky client cannot run.\n\
                 *** Install the test PDS (Node.js 20+ and npm needed) and point the variable at it:\n\
                 ***     export SOCIAL_TEST_PDS_DIR=\"$(bash tests/pds/install.sh)\"\n\
                 *** (tests/run.sh does this.)\n\n"
            );
        };
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/pds/server.mjs");
        let mut child = Command::new("node")
            .arg(&script)
            .env("SOCIAL_TEST_PDS_DIR", &modules)
            .env_remove("PDS_PORT")
            .env_remove("PLC_PORT")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run `node {}`: {e}", script.display()));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Ok(v) = serde_json::from_str::<Value>(&line)
                    && let Some(url) = v["pds"].as_str()
                {
                    let _ = tx.send(url.to_string());
                }
            }
        });
        let mut server = PdsServer {
            child,
            url: String::new(),
        };
        match rx.recv_timeout(Duration::from_secs(90)) {
            Ok(url) => server.url = url,
            Err(_) => panic!(
                "tests/pds/server.mjs did not report ready within 90 s (its errors are above); \
                 SOCIAL_TEST_PDS_DIR={}",
                modules.to_string_lossy()
            ),
        }
        server
    }
}

impl Drop for PdsServer {
    fn drop(&mut self) {
        // Closing stdin asks server.mjs to shut down and remove its data.
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn xrpc_post(url: &str, method: &str, token: Option<&str>, body: Value) -> Value {
    let mut req = reqwest::Client::new()
        .post(format!("{url}/xrpc/{method}"))
        .json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    assert!(status.is_success(), "{method}: HTTP {status}: {text}");
    serde_json::from_str(&text).unwrap()
}

async fn xrpc_get(url: &str, method: &str, query: &[(&str, &str)]) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .get(format!("{url}/xrpc/{method}"))
        .query(query)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Creates an account; returns (did, accessJwt).
async fn create_account(url: &str, handle: &str) -> (String, String) {
    let name = handle.split('.').next().unwrap();
    let v = xrpc_post(
        url,
        "com.atproto.server.createAccount",
        None,
        json!({"handle": handle, "email": format!("{name}@example.com"), "password": format!("{name}-login-password")}),
    )
    .await;
    (
        v["did"].as_str().unwrap().to_string(),
        v["accessJwt"].as_str().unwrap().to_string(),
    )
}

async fn list_posts(url: &str, did: &str) -> Vec<Value> {
    let (status, v) = xrpc_get(
        url,
        "com.atproto.repo.listRecords",
        &[
            ("repo", did),
            ("collection", POST_COLLECTION),
            ("limit", "100"),
        ],
    )
    .await;
    assert_eq!(status, 200, "listRecords: {v}");
    v["records"].as_array().cloned().unwrap_or_default()
}

const POST: &str = "---\nid: pds-launch\nto: [bsky]\nthread: true\nlang: [en]\nmedia:\n  - path: media/pic.png\n    alt: A grey gradient, three by two\n---\nGrüße aus Köln! [Read the announcement](https://example.com/launch) #rustlang, thanks @bob.test and @nobody.test\n\n---\n\nSecond part: plain text.\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishes_a_thread_to_a_real_pds_exactly_once() {
    let pds = PdsServer::start();
    let url = pds.url.clone();

    let (alice, alice_token) = create_account(&url, "alice.test").await;
    let app = xrpc_post(
        &url,
        "com.atproto.server.createAppPassword",
        Some(&alice_token),
        json!({"name": "social tests"}),
    )
    .await;
    let app_password = app["password"].as_str().unwrap().to_string();
    let (bob, _) = create_account(&url, "bob.test").await;

    let f = Fixture::new(&url, "alice.test", POST, Some((300, 200)));
    assert_eq!(f.rendered().parts.len(), 2);
    let client = f.client(&app_password);
    let job = f.job(&[], claimed());
    let mut sink = Collect::default();
    client.publish(&job, &mut sink).await.unwrap();
    let keys: Vec<String> = (0..2).map(|i| f.rkey(i, claimed())).collect();
    assert_eq!(sink.0.len(), 2);
    for (i, (index, part)) in sink.0.iter().enumerate() {
        assert_eq!(*index, i);
        assert_eq!(
            part.id,
            format!("at://{alice}/{POST_COLLECTION}/{}", keys[i])
        );
        assert_eq!(
            part.url.as_deref(),
            Some(format!("https://bsky.app/profile/alice.test/post/{}", keys[i]).as_str())
        );
        assert!(part.cid.is_some());
    }

    // Read the records back from the PDS.
    let records = list_posts(&url, &alice).await;
    assert_eq!(records.len(), 2, "{records:#?}");
    let by_uri = |uri: &str| {
        records
            .iter()
            .find(|r| r["uri"] == uri)
            .unwrap_or_else(|| panic!("no record {uri}"))
            .clone()
    };
    let first = by_uri(&sink.0[0].1.id);
    let second = by_uri(&sink.0[1].1.id);
    assert_eq!(first["cid"], sink.0[0].1.cid.as_deref().unwrap());

    let r0 = &first["value"];
    let text = r0["text"].as_str().unwrap();
    assert_eq!(
        text,
        "Grüße aus Köln! Read the announcement #rustlang, thanks @bob.test and @nobody.test"
    );
    let range = |needle: &str| {
        let s = text.find(needle).unwrap();
        json!({"byteStart": s, "byteEnd": s + needle.len()})
    };
    assert_eq!(
        r0["facets"],
        json!([
            {"index": range("Read the announcement"), "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/launch"}]},
            {"index": range("#rustlang"), "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "rustlang"}]},
            {"index": range("@bob.test"), "features": [{"$type": "app.bsky.richtext.facet#mention", "did": bob}]},
        ]),
        "facets, with @nobody.test (unresolvable) left plain"
    );
    assert_eq!(r0["langs"], json!(["en"]));
    assert!(r0.get("reply").is_none());

    let image = &r0["embed"]["images"][0];
    assert_eq!(r0["embed"]["$type"], "app.bsky.embed.images");
    assert_eq!(image["alt"], "A grey gradient, three by two");
    assert_eq!(image["aspectRatio"], json!({"width": 300, "height": 200}));
    assert_eq!(image["image"]["$type"], "blob");
    assert_eq!(image["image"]["mimeType"], "image/png");
    let png = super::tests::png(300, 200);
    assert_eq!(image["image"]["size"], png.len());
    // The blob is stored and is our file.
    let blob_cid = image["image"]["ref"]["$link"].as_str().unwrap();
    let resp = reqwest::Client::new()
        .get(format!("{url}/xrpc/com.atproto.sync.getBlob"))
        .query(&[("did", alice.as_str()), ("cid", blob_cid)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), png.as_slice());

    let r1 = &second["value"];
    assert_eq!(r1["text"], "Second part: plain text.");
    let root = json!({"uri": first["uri"], "cid": first["cid"]});
    assert_eq!(r1["reply"], json!({"root": root, "parent": root}));
    assert!(r1.get("embed").is_none());

    // As after a crash: a new run publishes the same job again, nothing done.
    let again = f.client(&app_password);
    let reconciled = again.reconcile(&job).await.unwrap();
    assert_eq!(
        reconciled,
        sink.0.iter().map(|(_, p)| p.clone()).collect::<Vec<_>>()
    );
    let mut sink2 = Collect::default();
    again.publish(&job, &mut sink2).await.unwrap();
    assert_eq!(
        sink2.0, sink.0,
        "the parts found at their keys, not posted again"
    );
    assert_eq!(list_posts(&url, &alice).await.len(), 2, "no second record");
    for key in &keys {
        let (status, _) = xrpc_get(
            &url,
            "com.atproto.repo.getRecord",
            &[
                ("repo", alice.as_str()),
                ("collection", POST_COLLECTION),
                ("rkey", key),
            ],
        )
        .await;
        assert_eq!(status, 200);
    }
}

// ---- deleting and editing ----

use super::tests::Told;
use crate::platforms::{EditMode, Recorded};

const THREE: &str = "---\nid: pds-three\nto: [bsky]\nthread: true\n---\nFirst part.\n\n---\n\nSecond part.\n\n---\n\nThird part.\n";

/// A new account `handle` with an app password: (did, access token, app password).
async fn account_with_app_password(url: &str, handle: &str) -> (String, String, String) {
    let (did, token) = create_account(url, handle).await;
    let app = xrpc_post(
        url,
        "com.atproto.server.createAppPassword",
        Some(&token),
        json!({"name": "social tests"}),
    )
    .await;
    (did, token, app["password"].as_str().unwrap().to_string())
}

/// The record at `uri` as getRecord answers it: (HTTP status, body).
async fn record_at(url: &str, uri: &str) -> (u16, Value) {
    let (repo, collection, rkey) = super::record::parse_at_uri(uri).unwrap();
    xrpc_get(
        url,
        "com.atproto.repo.getRecord",
        &[("repo", repo), ("collection", collection), ("rkey", rkey)],
    )
    .await
}

async fn assert_gone(url: &str, uri: &str) {
    let (status, body) = record_at(url, uri).await;
    assert_ne!(status, 200, "{uri} is still there: {body}");
    assert_eq!(body["error"], "RecordNotFound", "{uri}: {body}");
}

/// Publishes `f`'s post as a fresh run would; returns the parts last first,
/// as the engine hands them to `delete`.
async fn publish_for_deletion(f: &Fixture, password: &str) -> Vec<Recorded> {
    let mut sink = Collect::default();
    f.client(password)
        .publish(&f.job(&[], claimed()), &mut sink)
        .await
        .unwrap();
    assert_eq!(sink.0.len(), f.rendered().parts.len());
    let mut parts = sink.0;
    parts.reverse();
    parts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thread_is_deleted_from_a_real_pds_last_part_first_even_when_interrupted() {
    let pds = PdsServer::start();
    let url = pds.url.clone();
    let (alice, alice_token, password) = account_with_app_password(&url, "alice.test").await;

    // A whole thread, deleted in one run.
    let f = Fixture::new(&url, "alice.test", THREE, None);
    let parts = publish_for_deletion(&f, &password).await;
    assert_eq!(list_posts(&url, &alice).await.len(), 3);
    let indexes: Vec<usize> = parts.iter().map(|(i, _)| *i).collect();
    assert_eq!(indexes, [2, 1, 0]);
    let mut told = Told::default();
    f.client(&password).delete(&parts, &mut told).await.unwrap();
    assert_eq!(told.0, [(2, false), (1, false), (0, false)]);
    for (_, p) in &parts {
        assert_gone(&url, &p.id).await;
    }
    assert!(list_posts(&url, &alice).await.is_empty());

    // Interrupted after the last part: a new run deletes the rest.
    let f = Fixture::new(
        &url,
        "alice.test",
        &THREE.replace("pds-three", "pds-again"),
        None,
    );
    let parts = publish_for_deletion(&f, &password).await;
    let mut told = Told::default();
    f.client(&password)
        .delete(&parts[..1], &mut told)
        .await
        .unwrap();
    assert_eq!(told.0, [(2, false)]);
    assert_gone(&url, &parts[0].1.id).await;
    assert_eq!(list_posts(&url, &alice).await.len(), 2);
    let mut told = Told::default();
    f.client(&password)
        .delete(&parts[1..], &mut told)
        .await
        .unwrap();
    assert_eq!(told.0, [(1, false), (0, false)]);
    assert!(list_posts(&url, &alice).await.is_empty());
    // The whole deletion run again (its answers lost, say): every part gone.
    let mut told = Told::default();
    f.client(&password).delete(&parts, &mut told).await.unwrap();
    assert_eq!(told.0, [(2, true), (1, true), (0, true)]);

    // A part deleted elsewhere (in the app) counts as gone.
    let f = Fixture::new(
        &url,
        "alice.test",
        &THREE.replace("pds-three", "pds-elsewhere"),
        None,
    );
    let parts = publish_for_deletion(&f, &password).await;
    let (_, _, middle) = super::record::parse_at_uri(&parts[1].1.id).unwrap();
    xrpc_post(
        &url,
        "com.atproto.repo.deleteRecord",
        Some(&alice_token),
        json!({"repo": alice, "collection": POST_COLLECTION, "rkey": middle}),
    )
    .await;
    let mut told = Told::default();
    f.client(&password).delete(&parts, &mut told).await.unwrap();
    assert_eq!(told.0, [(2, false), (1, true), (0, false)]);
    assert!(list_posts(&url, &alice).await.is_empty());
}

const BEFORE_EDIT: &str = "---\nid: pds-edit\nto: [bsky]\nthread: true\nlang: [en]\nmedia:\n  - path: media/pic.png\n    alt: A grey gradient\n---\nFirst version of the first part.\n\n---\n\nFirst version of the second part.\n";

const AFTER_EDIT: &str = "---\nid: pds-edit\nto: [bsky]\nthread: true\nlang: [en, de]\nmedia:\n  - path: media/pic.png\n    alt: A grey gradient\n---\nThe first part, [now with a link](https://example.com/edited).\n\n---\n\nThe second part, edited.\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forced_edit_on_a_real_pds_changes_the_text_and_keeps_created_at_and_reply() {
    let pds = PdsServer::start();
    let url = pds.url.clone();
    let (alice, _, password) = account_with_app_password(&url, "alice.test").await;
    let before = Fixture::new(&url, "alice.test", BEFORE_EDIT, Some((30, 20)));
    let mut sink = Collect::default();
    before
        .client(&password)
        .publish(&before.job(&[], claimed()), &mut sink)
        .await
        .unwrap();
    let done: Vec<PublishedPart> = sink.0.into_iter().map(|(_, p)| p).collect();
    let mut old = Vec::new();
    for p in &done {
        let (status, r) = record_at(&url, &p.id).await;
        assert_eq!(status, 200, "{r}");
        old.push(r);
    }

    let after = Fixture::new(&url, "alice.test", AFTER_EDIT, Some((30, 20)));
    let client = after.client(&password);
    let job = after.job(&done, claimed());
    // Not without --force, and nothing changes.
    let err = client
        .edit(&job, EditMode::default(), &mut Told::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, PlatformError::Unsupported { message } if message.contains("--force")),
        "{err:?}"
    );
    for (p, o) in done.iter().zip(&old) {
        assert_eq!(record_at(&url, &p.id).await.1["cid"], o["cid"]);
    }

    let mut told = Told::default();
    client
        .edit(&job, EditMode { force: true }, &mut told)
        .await
        .unwrap();
    assert_eq!(told.0, [(0, false), (1, false)]);
    assert_eq!(list_posts(&url, &alice).await.len(), 2, "edited, not added");
    let mut new = Vec::new();
    for p in &done {
        let (status, r) = record_at(&url, &p.id).await;
        assert_eq!(status, 200, "{r}");
        new.push(r);
    }
    for (o, n) in old.iter().zip(&new) {
        assert_ne!(n["cid"], o["cid"], "a new version of the record");
        assert_eq!(n["value"]["createdAt"], o["value"]["createdAt"]);
        assert_eq!(n["value"]["langs"], json!(["en", "de"]));
    }
    let v0 = &new[0]["value"];
    let text = v0["text"].as_str().unwrap();
    assert_eq!(text, "The first part, now with a link.");
    let s = text.find("now with a link").unwrap();
    assert_eq!(
        v0["facets"],
        json!([{"index": {"byteStart": s, "byteEnd": s + "now with a link".len()},
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/edited"}]}])
    );
    assert_eq!(v0["embed"], old[0]["value"]["embed"], "the image kept");
    assert!(v0.get("reply").is_none());
    let v1 = &new[1]["value"];
    assert_eq!(v1["text"], "The second part, edited.");
    assert_eq!(v1["reply"], old[1]["value"]["reply"]);
    assert!(v1["reply"]["parent"]["uri"] == done[0].id.as_str());
    assert!(v1.get("embed").is_none());
}
