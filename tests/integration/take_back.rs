//! Taking posts back through the binary, against the fake Mastodon of the
//! publishing tests: `social delete`, `status: withdrawn`, `social edit`,
//! and the bad input around them.

use crate::publish::{Statuses, mastodon, project, run};
use std::sync::{Arc, Mutex};
use wiremock::matchers::{header, method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Every DELETE and PUT the server received: (method, status id, body).
#[derive(Clone, Default)]
struct Changes(Arc<Mutex<Vec<(String, String, serde_json::Value)>>>);

impl Changes {
    fn all(&self) -> Vec<(String, String, serde_json::Value)> {
        self.0.lock().unwrap().clone()
    }
}

impl Respond for Changes {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let id = req
            .url
            .path()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
        self.0
            .lock()
            .unwrap()
            .push((req.method.to_string(), id.clone(), body.clone()));
        ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "id": id,
            "url": format!("https://mastodon.example/@alice/{id}"),
            "content": body["status"],
            "media_attachments": [],
        }))
    }
}

/// Status lookups (before an edit): a status without media.
struct Lookup;

impl Respond for Lookup {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let id = req
            .url
            .path()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "id": id,
            "url": format!("https://mastodon.example/@alice/{id}"),
            "content": "<p>old</p>",
            "media_attachments": [],
        }))
    }
}

async fn server() -> (Statuses, Changes, MockServer) {
    let statuses = Statuses::default();
    let server = mastodon(&statuses).await;
    let changes = Changes::default();
    for m in ["DELETE", "PUT"] {
        Mock::given(method(m))
            .and(path_regex(r"^/api/v1/statuses/[0-9]+$"))
            .and(header("authorization", "Bearer fedi-token"))
            .respond_with(changes.clone())
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path_regex(r"^/api/v1/statuses/[0-9]+$"))
        .and(header("authorization", "Bearer fedi-token"))
        .respond_with(Lookup)
        .mount(&server)
        .await;
    (statuses, changes, server)
}

const THREAD: &str = "One.\n\n---\n\nTwo.\n\n---\n\nThree.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_takes_a_thread_back_last_part_first_and_it_stays_deleted() {
    let (statuses, changes, server) = server().await;
    let p = project(&server.uri());
    let file = p.simple_post("launch", "fedi", "thread: true", THREAD);
    run(&p, &["post", &file]).code(0);
    assert_eq!(statuses.created().len(), 3);

    // Bad input: exit 2, nothing sent.
    run(&p, &["delete", "lanch", "--yes"])
        .code(2)
        .stderr_has("no post with id `lanch`")
        .stderr_has("did you mean `launch`?");
    run(&p, &["delete", "launch", "--to", "fedx", "--yes"])
        .code(2)
        .stderr_has("unknown account `fedx`");
    run(&p, &["delete", "launch"]).code(2).stderr_has("--yes");
    // A dry run shows the requests, last part first.
    let dry = run(&p, &["delete", "launch", "--dry-run"]);
    dry.code(0);
    let doc = dry.json();
    let urls: Vec<&str> = doc[0]["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["url"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(urls.len(), 3, "{doc}");
    assert!(urls[0].ends_with("/api/v1/statuses/3"), "{urls:?}");
    assert!(urls[2].ends_with("/api/v1/statuses/1"), "{urls:?}");
    assert!(!dry.stdout.contains("fedi-token"), "no secret in a dry run");
    assert!(changes.all().is_empty(), "a dry run sends nothing");

    let r = run(&p, &["delete", "launch", "--yes", "--json"]);
    r.code(0);
    assert_eq!(r.json()[0]["result"], "deleted", "{}", r.stdout);
    let deleted: Vec<(String, String)> = changes
        .all()
        .into_iter()
        .map(|(m, id, _)| (m, id))
        .collect();
    assert_eq!(
        deleted,
        [("DELETE", "3"), ("DELETE", "2"), ("DELETE", "1")].map(|(m, i)| (m.into(), i.into()))
    );
    let ledger = std::fs::read_to_string(p.root.join("published.toml")).unwrap();
    assert!(ledger.contains("deleted_at = "), "{ledger}");
    assert!(ledger.contains("removal = \"command\""), "{ledger}");
    let status = run(&p, &["status", "launch", "--json"]);
    assert_eq!(status.json()[0]["status"], "deleted", "{}", status.stdout);

    // Again: nothing sent; posting it again publishes nothing.
    run(&p, &["delete", "launch", "--yes"])
        .code(0)
        .stdout_has("deleted already");
    run(&p, &["post", &file]).code(0);
    assert_eq!(statuses.created().len(), 3);
    // A fresh clone (published.toml only) knows it is deleted.
    std::fs::remove_dir_all(p.root.join(".social")).unwrap();
    run(&p, &["publish", "--due"]).code(0);
    run(&p, &["status", "launch"]).code(0).stdout_has("deleted");
    assert_eq!(changes.all().len(), 3);
    assert_eq!(statuses.created().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withdrawn_file_is_deleted_by_publish_due_and_validate_says_so() {
    let (statuses, changes, server) = server().await;
    let p = project(&server.uri());
    let file = p.simple_post("oops", "fedi", "", "Wrong date in this one.");
    run(&p, &["post", &file]).code(0);
    assert_eq!(statuses.created().len(), 1);
    p.simple_post(
        "oops",
        "fedi",
        "status: withdrawn",
        "Wrong date in this one.",
    );
    run(&p, &["validate"])
        .code(0)
        .stderr_has("withdrawn: `social publish --due` (or the daemon) deletes it from fedi");
    let v = run(&p, &["validate", "--json"]);
    assert_eq!(
        v.json()["notices"][0]["delete_from"][0],
        "fedi",
        "{}",
        v.stdout
    );
    run(&p, &["publish", "--due"]).code(0).stdout_has("deleted");
    assert_eq!(changes.all().len(), 1);
    assert_eq!(changes.all()[0].0, "DELETE");
    run(&p, &["publish", "--due"]).code(0);
    assert_eq!(changes.all().len(), 1, "deleted once");
    run(&p, &["status", "oops", "--json"]).code(0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_file_deletes_nothing_and_validate_warns_once() {
    let (_statuses, changes, server) = server().await;
    let p = project(&server.uri());
    let file = p.simple_post("gone", "fedi", "", "Still online.");
    run(&p, &["post", &file]).code(0);
    std::fs::remove_file(p.root.join(&file)).unwrap();
    run(&p, &["publish", "--due"]).code(0);
    run(&p, &["status", "gone"])
        .code(0)
        .stdout_has("published, file removed");
    run(&p, &["validate"]).stderr_has("was published to fedi and its file is gone");
    let again = run(&p, &["validate"]);
    assert!(
        !again.stderr.contains("its file is gone"),
        "{}",
        again.stderr
    );
    assert!(changes.all().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_changes_the_published_text_in_place() {
    let (statuses, changes, server) = server().await;
    let p = project(&server.uri());
    let file = p.simple_post("typo", "fedi", "", "Teh launch is today.");
    run(&p, &["post", &file]).code(0);
    run(&p, &["edit", "typo", "--yes"])
        .code(0)
        .stdout_has("nothing to edit");
    p.simple_post("typo", "fedi", "", "The launch is today.");
    let r = run(&p, &["edit", "typo", "--yes", "--json"]);
    r.code(0);
    assert_eq!(r.json()[0]["edited"], true, "{}", r.stdout);
    let all = changes.all();
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].0, "PUT");
    assert_eq!(all[0].1, "1");
    assert_eq!(all[0].2["status"], "The launch is today.");
    assert_eq!(statuses.created().len(), 1, "edited, not posted again");
    let ledger = std::fs::read_to_string(p.root.join("published.toml")).unwrap();
    assert!(ledger.contains("edited_at = "), "{ledger}");
    let status = run(&p, &["status", "typo", "--json"]);
    assert!(
        status.json()[0]["edited_at"].is_string(),
        "{}",
        status.stdout
    );
    run(&p, &["status", "typo"]).code(0).stdout_has("edited ");
    // Edited once: the same text is not sent again.
    run(&p, &["edit", "typo", "--yes"])
        .code(0)
        .stdout_has("nothing to edit");
    assert_eq!(changes.all().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_apply_makes_publish_due_edit_a_changed_file() {
    let (_statuses, changes, server) = server().await;
    let p = project(&server.uri());
    let toml = std::fs::read_to_string(p.root.join("social.toml")).unwrap();
    std::fs::write(
        p.root.join("social.toml"),
        format!("edits = \"apply\"\n{toml}"),
    )
    .unwrap();
    let file = p.simple_post("note", "fedi", "", "Version one.");
    run(&p, &["post", &file]).code(0);
    run(&p, &["publish", "--due"]).code(0);
    assert!(changes.all().is_empty(), "unchanged: no edit");
    p.simple_post("note", "fedi", "", "Version two.");
    run(&p, &["publish", "--due"]).code(0).stdout_has("edited");
    let all = changes.all();
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].2["status"], "Version two.");
    run(&p, &["publish", "--due"]).code(0);
    assert_eq!(changes.all().len(), 1, "edited once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_force_publishes_a_deleted_post_again_as_a_new_status() {
    let (statuses, _changes, server) = server().await;
    let p = project(&server.uri());
    let file = p.simple_post("again", "fedi", "", "Back by popular demand.");
    run(&p, &["post", &file]).code(0);
    run(&p, &["delete", "again", "--yes"]).code(0);
    run(&p, &["post", &file]).code(0).stdout_has("--force");
    run(&p, &["retry", "again"]).code(1);
    run(&p, &["retry", "again", "--force"]).code(0);
    run(&p, &["publish", "--due"])
        .code(0)
        .stdout_has("https://mastodon.example/@alice/2");
    // A new Idempotency-Key: Mastodon made a new status, not the old one back.
    assert_eq!(statuses.created().len(), 2);
    let ledger = std::fs::read_to_string(p.root.join("published.toml")).unwrap();
    assert!(ledger.contains("generation = 1"), "{ledger}");
    assert!(!ledger.contains("deleted_at"), "{ledger}");
    std::fs::remove_dir_all(p.root.join(".social")).unwrap();
    run(&p, &["publish", "--due"]).code(0);
    assert_eq!(statuses.created().len(), 2, "a fresh clone sends nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_repost_deletes_a_thread_that_grew_and_publishes_it_again() {
    let (statuses, changes, server) = server().await;
    let p = project(&server.uri());
    let file = p.simple_post("grew", "fedi", "thread: true", "One.\n\n---\n\nTwo.");
    run(&p, &["post", &file]).code(0);
    assert_eq!(statuses.created().len(), 2);
    p.simple_post("grew", "fedi", "thread: true", THREAD);
    // Mastodon cannot add a part by editing: the message names --repost.
    run(&p, &["edit", "grew", "--yes"])
        .code(1)
        .stdout_has("cannot add or remove parts")
        .stdout_has("--repost");
    assert!(changes.all().is_empty());
    // The dry run shows the deletions, last part first, and the repost.
    let dry = run(&p, &["edit", "grew", "--repost", "--dry-run"]);
    dry.code(0);
    let doc = dry.json();
    assert_eq!(doc[0]["repost"], true, "{doc}");
    let urls: Vec<&str> = doc[0]["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["url"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(urls.len(), 2, "{doc}");
    assert!(urls[0].ends_with("/api/v1/statuses/2"), "{urls:?}");
    assert!(changes.all().is_empty(), "a dry run sends nothing");
    // Off a terminal, --yes is required for the two actions too.
    run(&p, &["edit", "grew", "--repost"])
        .code(2)
        .stderr_has("--yes");

    let r = run(&p, &["edit", "grew", "--repost", "--yes", "--json"]);
    r.code(0);
    let doc = r.json();
    let results: Vec<&str> = doc
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["result"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(results, ["deleted", "posted"], "{doc}");
    let deleted: Vec<String> = changes.all().into_iter().map(|(_, id, _)| id).collect();
    assert_eq!(deleted, ["2", "1"], "last part first");
    assert_eq!(
        statuses.created(),
        ["One.", "Two.", "One.", "Two.", "Three."],
        "the whole thread again, as new statuses"
    );
    let ledger = std::fs::read_to_string(p.root.join("published.toml")).unwrap();
    assert!(ledger.contains("generation = 1"), "{ledger}");
    assert!(!ledger.contains("deleted_at"), "{ledger}");
    let status = run(&p, &["status", "grew", "--json"]);
    assert_eq!(status.json()[0]["status"], "posted", "{}", status.stdout);
    // Published as the file is now: nothing more to do, here or on a clone.
    run(&p, &["edit", "grew", "--repost", "--yes"])
        .code(0)
        .stdout_has("nothing to edit");
    std::fs::remove_dir_all(p.root.join(".social")).unwrap();
    run(&p, &["publish", "--due"]).code(0);
    assert_eq!(statuses.created().len(), 5);
    assert_eq!(changes.all().len(), 2);
}
