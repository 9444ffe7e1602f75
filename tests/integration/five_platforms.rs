//! `social post` to one account on each of the five platforms in one run,
//! through the binary, against five fake servers on 127.0.0.1: Bluesky (a
//! PDS), Mastodon, X, LinkedIn and Instagram. One post with a link, a #tag
//! and one JPEG with alt text; every create is mounted with `.expect(1)`, and
//! each server refuses (and counts) any request it was not told about, so a
//! second post or a stray request fails the test.

use crate::common::TestProject;
use serde_json::{Value, json};
use wiremock::matchers::{any, body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// The post's body as every platform receives it (Markdown emphasis dropped).
const TEXT: &str =
    "Shipped social 1.0: one file, five networks. Notes at https://example.com/notes #rustlang";
const BODY: &str =
    "Shipped **social** 1.0: one file, five networks. Notes at https://example.com/notes #rustlang";
const ALT: &str = "A tiny two-pixel test image";

/// A JPEG that sniffs as `image/jpeg` and whose SOF0 header says 2×1 pixels
/// (`common::JPEG` has no frame header, so it has no size; this one gives
/// Bluesky an aspect ratio to send).
const JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
    0x00, 0x01, 0x00, 0x00, // APP0
    0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x02, 0x00, 0x03, 0x01, 0x01, 0x11,
    0x00, // SOF0 3×2 (Instagram takes 4:5 to 1.91:1)
    0xFF, 0xD9,
];

const BSKY_PASSWORD: &str = "bsky-app-password";
const BSKY_ACCESS: &str = "bsky-access-jwt";
const FEDI_TOKEN: &str = "fedi-token";
const X_TOKEN: &str = "x-token";
const LI_TOKEN: &str = "li-token";
const INSTA_TOKEN: &str = "insta-token";

const DID: &str = "did:plc:alice5platforms";
const BLOB_CID: &str = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";
const RECORD_CID: &str = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm";
const X_MEDIA: &str = "1880000000000000001";
const X_TWEET: &str = "1990000000000000001";
const LI_SUB: &str = "aBc123xyz";
const LI_IMAGE: &str = "urn:li:image:C4E10AQFoo";
const LI_SHARE: &str = "urn:li:share:7300000000000000001";
const IG_USER: &str = "17841400000000001";
const IG_CONTAINER: &str = "17900000000000001";
const IG_MEDIA: &str = "17920000000000001";
const IG_PERMALINK: &str = "https://www.instagram.com/p/SoCiAl1/";

/// One fake server per platform.
struct Fakes {
    bsky: MockServer,
    fedi: MockServer,
    x: MockServer,
    li: MockServer,
    insta: MockServer,
}

impl Fakes {
    /// Five servers that answer nothing yet but count every request.
    async fn start() -> Fakes {
        let f = Fakes {
            bsky: MockServer::start().await,
            fedi: MockServer::start().await,
            x: MockServer::start().await,
            li: MockServer::start().await,
            insta: MockServer::start().await,
        };
        for (name, server) in f.all() {
            // The lowest priority: only what no other mock takes lands here.
            Mock::given(any())
                .respond_with(ResponseTemplate::new(404).set_body_string("no such fake endpoint"))
                .with_priority(u8::MAX)
                .named(format!("any request the {name} fake does not expect"))
                .expect(0)
                .mount(server)
                .await;
        }
        f
    }

    fn all(&self) -> [(&'static str, &MockServer); 5] {
        [
            ("bsky", &self.bsky),
            ("fedi", &self.fedi),
            ("x", &self.x),
            ("li", &self.li),
            ("insta", &self.insta),
        ]
    }

    /// social.toml pointing each account at its fake.
    fn config(&self) -> String {
        format!(
            r#"timezone = "UTC"

[accounts.bsky]
platform = "bluesky"
handle = "alice.test"
service = "{bsky}"

[accounts.fedi]
platform = "mastodon"
instance = "{fedi}"

[accounts.x]
platform = "twitter"
username = "alice"
api_url = "{x}"

[accounts.li]
platform = "linkedin"
api_url = "{li}"
linkedin_version = "202605"

[accounts.insta]
platform = "instagram"
api_url = "{insta}"
user_id = "{IG_USER}"
media_base_url = "https://media.example.com"
"#,
            bsky = self.bsky.uri(),
            fedi = self.fedi.uri(),
            x = self.x.uri(),
            li = self.li.uri(),
            insta = self.insta.uri(),
        )
    }

    /// How many requests each server has received.
    async fn counts(&self) -> Vec<(&'static str, usize)> {
        let mut out = Vec::new();
        for (name, server) in self.all() {
            let n = server.received_requests().await.unwrap_or_default().len();
            out.push((name, n));
        }
        out
    }

    /// Checks every `.expect(…)` now, naming the server on failure.
    async fn verify(&self) {
        for (_, server) in self.all() {
            server.verify().await;
        }
    }

    /// Mounts what one post with one image sends to each platform.
    async fn mount_all(&self) {
        self.mount_bluesky().await;
        self.mount_mastodon().await;
        self.mount_x().await;
        self.mount_linkedin().await;
        self.mount_instagram().await;
    }

    async fn mount_bluesky(&self) {
        let s = &self.bsky;
        Mock::given(method("POST"))
            .and(path("/xrpc/com.atproto.server.createSession"))
            .and(body_json(
                json!({"identifier": "alice.test", "password": BSKY_PASSWORD}),
            ))
            .respond_with(ok(json!({
                "did": DID,
                "handle": "alice.test",
                "accessJwt": BSKY_ACCESS,
                "refreshJwt": "bsky-refresh-jwt",
                "active": true,
            })))
            .expect(1)
            .mount(s)
            .await;
        Mock::given(method("POST"))
            .and(path("/xrpc/com.atproto.repo.uploadBlob"))
            .and(header("authorization", bearer(BSKY_ACCESS).as_str()))
            .and(header("content-type", "image/jpeg"))
            .and(|req: &Request| req.body == JPEG)
            .respond_with(ok(json!({"blob": blob()})))
            .expect(1)
            .mount(s)
            .await;
        Mock::given(method("POST"))
            .and(path("/xrpc/com.atproto.repo.createRecord"))
            .and(header("authorization", bearer(BSKY_ACCESS).as_str()))
            .and(|req: &Request| {
                let b = json_of(req);
                let r = &b["record"];
                let image = &r["embed"]["images"][0];
                let features: Vec<&Value> = r["facets"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|f| f["features"].as_array())
                    .flatten()
                    .collect();
                b["repo"] == DID
                    && b["collection"] == "app.bsky.feed.post"
                    && b["rkey"].is_string()
                    && r["$type"] == "app.bsky.feed.post"
                    && r["text"] == TEXT
                    && r["embed"]["$type"] == "app.bsky.embed.images"
                    && r["embed"]["images"].as_array().map(Vec::len) == Some(1)
                    && image["alt"] == ALT
                    && image["image"] == blob()
                    && image["aspectRatio"] == json!({"width": 3, "height": 2})
                    && features.contains(&&json!({
                        "$type": "app.bsky.richtext.facet#link",
                        "uri": "https://example.com/notes",
                    }))
                    && features.contains(&&json!({
                        "$type": "app.bsky.richtext.facet#tag",
                        "tag": "rustlang",
                    }))
            })
            .respond_with(|req: &Request| {
                let rkey = json_of(req)["rkey"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                ok(json!({
                    "uri": format!("at://{DID}/app.bsky.feed.post/{rkey}"),
                    "cid": RECORD_CID,
                    "commit": {"cid": RECORD_CID, "rev": "3mkzfz7zm22ip"},
                    "validationStatus": "valid",
                }))
            })
            .expect(1)
            .named("bluesky createRecord")
            .mount(s)
            .await;
    }

    async fn mount_mastodon(&self) {
        let s = &self.fedi;
        Mock::given(method("POST"))
            .and(path("/api/v2/media"))
            .and(header("authorization", bearer(FEDI_TOKEN).as_str()))
            .and(|req: &Request| {
                let multipart = req
                    .headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.starts_with("multipart/form-data"));
                // Part headers compared without case; the bytes as they are.
                let lower = req.body.to_ascii_lowercase();
                multipart
                    && contains(&lower, b"name=\"file\"; filename=\"pic.jpg\"")
                    && contains(&lower, b"content-type: image/jpeg")
                    && contains(&req.body, JPEG)
                    && contains(&lower, b"name=\"description\"")
                    && contains(&req.body, ALT.as_bytes())
            })
            // 200: processed right away (a 202 would be polled).
            .respond_with(ok(json!({
                "id": "110001",
                "type": "image",
                "url": "https://mastodon.example/media/pic.jpg",
                "description": ALT,
            })))
            .expect(1)
            .mount(s)
            .await;
        Mock::given(method("POST"))
            .and(path("/api/v1/statuses"))
            .and(header("authorization", bearer(FEDI_TOKEN).as_str()))
            .and(|req: &Request| req.headers.contains_key("idempotency-key"))
            .and(body_json(json!({
                "status": TEXT,
                "media_ids": ["110001"],
                "visibility": "public",
            })))
            .respond_with(ok(json!({
                "id": "110002",
                "url": "https://mastodon.example/@alice/110002",
                "uri": "https://mastodon.example/users/alice/statuses/110002",
                "content": "<p>Shipped social 1.0</p>",
                "created_at": "2026-05-04T10:00:01.000Z",
            })))
            .expect(1)
            .named("mastodon status create")
            .mount(s)
            .await;
    }

    async fn mount_x(&self) {
        let s = &self.x;
        let auth = bearer(X_TOKEN);
        Mock::given(method("POST"))
            .and(path("/2/media/upload/initialize"))
            .and(header("authorization", auth.as_str()))
            .and(body_json(json!({
                "media_type": "image/jpeg",
                "total_bytes": JPEG.len(),
                "media_category": "tweet_image",
            })))
            .respond_with(ok(json!({"data": {
                "id": X_MEDIA,
                "media_key": format!("3_{X_MEDIA}"),
                "expires_after_secs": 86400,
            }})))
            .expect(1)
            .mount(s)
            .await;
        Mock::given(method("POST"))
            .and(path(format!("/2/media/upload/{X_MEDIA}/append")))
            .and(header("authorization", auth.as_str()))
            .and(|req: &Request| {
                contains(&req.body, b"name=\"segment_index\"\r\n\r\n0\r\n")
                    && contains(&req.body, b"name=\"media\"")
                    && contains(&req.body, JPEG)
            })
            .respond_with(ResponseTemplate::new(204))
            .expect(1)
            .mount(s)
            .await;
        Mock::given(method("POST"))
            .and(path(format!("/2/media/upload/{X_MEDIA}/finalize")))
            .and(header("authorization", auth.as_str()))
            .respond_with(ok(json!({"data": {
                "id": X_MEDIA,
                "media_key": format!("3_{X_MEDIA}"),
                "size": JPEG.len(),
                "expires_after_secs": 86400,
            }})))
            .expect(1)
            .mount(s)
            .await;
        Mock::given(method("POST"))
            .and(path("/2/media/metadata"))
            .and(header("authorization", auth.as_str()))
            .and(body_json(
                json!({"id": X_MEDIA, "metadata": {"alt_text": {"text": ALT}}}),
            ))
            .respond_with(ok(
                json!({"data": {"associated_metadata": true, "id": X_MEDIA}}),
            ))
            .expect(1)
            .named("x alt text")
            .mount(s)
            .await;
        Mock::given(method("POST"))
            .and(path("/2/tweets"))
            .and(header("authorization", auth.as_str()))
            .and(body_json(
                json!({"text": TEXT, "media": {"media_ids": [X_MEDIA]}}),
            ))
            .respond_with(
                ResponseTemplate::new(201).set_body_json(json!({"data": {
                    "id": X_TWEET,
                    "text": "Shipped social 1.0: one file, five networks. Notes at https://t.co/abc #rustlang https://t.co/pic",
                    "edit_history_tweet_ids": [X_TWEET],
                }})),
            )
            .expect(1)
            .named("x tweet create")
            .mount(s)
            .await;
    }

    async fn mount_linkedin(&self) {
        let s = &self.li;
        let auth = bearer(LI_TOKEN);
        let rest = |verb: &str, p: &str| {
            Mock::given(method(verb))
                .and(path(p))
                .and(header("authorization", auth.as_str()))
                .and(header("linkedin-version", "202605"))
                .and(header("x-restli-protocol-version", "2.0.0"))
        };
        Mock::given(method("GET"))
            .and(path("/v2/userinfo"))
            .and(header("authorization", auth.as_str()))
            .respond_with(ok(json!({
                "sub": LI_SUB,
                "name": "Alice Example",
                "email_verified": true,
            })))
            .expect(1)
            .mount(s)
            .await;
        let author = format!("urn:li:person:{LI_SUB}");
        rest("POST", "/rest/images")
            .and(query_param("action", "initializeUpload"))
            .and(body_json(
                json!({"initializeUploadRequest": {"owner": author}}),
            ))
            .respond_with(ok(json!({"value": {
                "uploadUrlExpiresAt": 1_780_000_000_000_u64,
                "uploadUrl": format!("{}/dms-uploads/pic-1", s.uri()),
                "image": LI_IMAGE,
            }})))
            .expect(1)
            .mount(s)
            .await;
        // The upload URL is on the API's own host: the token goes with it.
        Mock::given(method("PUT"))
            .and(path("/dms-uploads/pic-1"))
            .and(header("authorization", auth.as_str()))
            .and(header("content-type", "image/jpeg"))
            .and(|req: &Request| req.body == JPEG)
            .respond_with(ResponseTemplate::new(201))
            .expect(1)
            .mount(s)
            .await;
        rest("GET", "/rest/images/urn%3Ali%3Aimage%3AC4E10AQFoo")
            .respond_with(ok(json!({"id": LI_IMAGE, "status": "AVAILABLE"})))
            .expect(1)
            .mount(s)
            .await;
        rest("POST", "/rest/posts")
            .and(body_json(json!({
                "author": author,
                "commentary": "Shipped social 1.0: one file, five networks. Notes at https://example.com/notes {hashtag|\\#|rustlang}",
                "visibility": "PUBLIC",
                "distribution": {
                    "feedDistribution": "MAIN_FEED",
                    "targetEntities": [],
                    "thirdPartyDistributionChannels": [],
                },
                "content": {"media": {"id": LI_IMAGE, "altText": ALT}},
                "lifecycleState": "PUBLISHED",
                "isReshareDisabledByAuthor": false,
            })))
            .respond_with(ResponseTemplate::new(201).insert_header("x-restli-id", LI_SHARE))
            .expect(1)
            .named("linkedin post create")
            .mount(s)
            .await;
    }

    async fn mount_instagram(&self) {
        let s = &self.insta;
        let auth = bearer(INSTA_TOKEN);
        Mock::given(method("GET"))
            .and(path(format!("/{IG_USER}/content_publishing_limit")))
            .and(header("authorization", auth.as_str()))
            .and(query_param("fields", "quota_usage,config"))
            .respond_with(ok(json!({"data": [{
                "quota_usage": 3,
                "config": {"quota_total": 100, "quota_duration": 86400},
            }]})))
            .expect(1)
            .mount(s)
            .await;
        Mock::given(method("POST"))
            .and(path(format!("/{IG_USER}/media")))
            .and(header("authorization", auth.as_str()))
            .and(query_param(
                "image_url",
                "https://media.example.com/media/pic.jpg",
            ))
            .and(query_param("caption", TEXT))
            .and(query_param("alt_text", ALT))
            .respond_with(ok(json!({"id": IG_CONTAINER})))
            .expect(1)
            .named("instagram container create")
            .mount(s)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("/{IG_CONTAINER}")))
            .and(header("authorization", auth.as_str()))
            .and(query_param("fields", "status_code,status"))
            .respond_with(ok(json!({"id": IG_CONTAINER, "status_code": "FINISHED"})))
            .expect(1)
            .mount(s)
            .await;
        Mock::given(method("POST"))
            .and(path(format!("/{IG_USER}/media_publish")))
            .and(header("authorization", auth.as_str()))
            .and(query_param("creation_id", IG_CONTAINER))
            .respond_with(ok(json!({"id": IG_MEDIA})))
            .expect(1)
            .named("instagram media_publish")
            .mount(s)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("/{IG_MEDIA}")))
            .and(header("authorization", auth.as_str()))
            .and(query_param("fields", "permalink"))
            .respond_with(ok(json!({"id": IG_MEDIA, "permalink": IG_PERMALINK})))
            .expect(1)
            .mount(s)
            .await;
    }
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn blob() -> Value {
    json!({
        "$type": "blob",
        "ref": {"$link": BLOB_CID},
        "mimeType": "image/jpeg",
        "size": JPEG.len(),
    })
}

fn json_of(req: &Request) -> Value {
    serde_json::from_slice(&req.body).unwrap_or(Value::Null)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The project: the five accounts, the post, and its image.
fn project(fakes: &Fakes) -> TestProject {
    let p = TestProject::with_config(&fakes.config());
    p.write("media/pic.jpg", JPEG);
    p.post(
        "all.md",
        format!(
            "---\nid: all\nto: [bsky, fedi, x, li, insta]\nmedia:\n  - path: media/pic.jpg\n    alt: {ALT}\n---\n{BODY}\n"
        ),
    );
    p
}

/// `social ARGS…` with every account's secret in the environment.
fn social(p: &TestProject, args: &[&str]) -> crate::common::Run {
    p.run_cmd(
        p.cmd()
            .env("SOCIAL_BSKY_TOKEN", BSKY_PASSWORD)
            .env("SOCIAL_FEDI_TOKEN", FEDI_TOKEN)
            .env("SOCIAL_X_TOKEN", X_TOKEN)
            .env("SOCIAL_LI_TOKEN", LI_TOKEN)
            .env("SOCIAL_INSTA_TOKEN", INSTA_TOKEN)
            .args(args),
    )
}

/// The words of the result row of `account` (post, account, result, URL).
#[track_caller]
fn row<'a>(stdout: &'a str, account: &str) -> Vec<&'a str> {
    let rows: Vec<Vec<&str>> = stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|w| w.len() >= 2 && w[0] == "all" && w[1] == account)
        .collect();
    assert_eq!(rows.len(), 1, "one row for {account}\n{stdout}");
    rows.into_iter().next().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_post_reaches_all_five_platforms_once() {
    let fakes = Fakes::start().await;
    fakes.mount_all().await;
    let p = project(&fakes);

    let first = social(&p, &["post", "posts/all.md"]);
    first.code(0);
    let bsky = row(&first.stdout, "bsky");
    assert_eq!(bsky[2], "posted", "{}", first.stdout);
    let rkey = bsky[3]
        .strip_prefix("https://bsky.app/profile/alice.test/post/")
        .unwrap_or_else(|| panic!("a Bluesky post URL: {}", first.stdout));
    assert_eq!(rkey.len(), 13, "a TID record key: {rkey}");
    let urls = [
        ("bsky", bsky[3].to_string()),
        ("fedi", "https://mastodon.example/@alice/110002".to_string()),
        ("x", format!("https://x.com/alice/status/{X_TWEET}")),
        (
            "li",
            format!("https://www.linkedin.com/feed/update/{LI_SHARE}"),
        ),
        ("insta", IG_PERMALINK.to_string()),
    ];
    for (account, url) in &urls {
        assert_eq!(
            row(&first.stdout, account)[2..],
            ["posted", url.as_str()],
            "{}",
            first.stdout
        );
    }
    fakes.verify().await;

    // All five are in the ledger, with their ids and URLs.
    let ledger: toml::Table =
        toml::from_str(&std::fs::read_to_string(p.root.join("published.toml")).unwrap()).unwrap();
    let entries = ledger["all"].as_table().expect("[all.*] entries");
    assert_eq!(entries.len(), 5, "{ledger:#?}");
    let ids = [
        ("bsky", format!("at://{DID}/app.bsky.feed.post/{rkey}")),
        ("fedi", "110002".to_string()),
        ("x", X_TWEET.to_string()),
        ("li", LI_SHARE.to_string()),
        ("insta", IG_MEDIA.to_string()),
    ];
    for ((account, url), (_, id)) in urls.iter().zip(&ids) {
        let e = &entries[*account];
        assert_eq!(
            e["ids"].as_array().unwrap()[..],
            [toml::Value::from(id.as_str())]
        );
        assert_eq!(
            e["urls"].as_array().unwrap()[..],
            [toml::Value::from(url.as_str())]
        );
        assert!(e["published_at"].is_str(), "{e:?}");
    }
    let status = social(&p, &["status", "all", "--json"]).json();
    let mut posted: Vec<(&str, &str)> = status
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["account"].as_str().unwrap(),
                t["status"].as_str().unwrap(),
            )
        })
        .collect();
    posted.sort();
    assert_eq!(
        posted,
        [
            ("bsky", "posted"),
            ("fedi", "posted"),
            ("insta", "posted"),
            ("li", "posted"),
            ("x", "posted"),
        ]
    );

    // Again: every target is skipped with its URL, and nothing is sent.
    let before = fakes.counts().await;
    let second = social(&p, &["post", "posts/all.md"]);
    assert_eq!(
        fakes.counts().await,
        before,
        "the second run sent requests\n{}",
        second.stdout
    );
    fakes.verify().await;
    second.code(0);
    for (account, url) in &urls {
        assert_eq!(
            row(&second.stdout, account)[2..],
            ["posted", url.as_str(), "(earlier)"],
            "{}",
            second.stdout
        );
    }
    for out in [&first.stdout, &first.stderr, &second.stdout, &second.stderr] {
        for secret in [BSKY_PASSWORD, FEDI_TOKEN, X_TOKEN, LI_TOKEN, INSTA_TOKEN] {
            assert!(!out.contains(secret), "{secret} shows in the output");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_to_all_five_platforms_sends_nothing() {
    // Only the catch-all mocks, each expecting no request at all.
    let fakes = Fakes::start().await;
    let p = project(&fakes);
    let run = social(&p, &["post", "--dry-run", "posts/all.md"]);
    run.code(0).stderr_has("dry run: nothing was sent");
    let doc = run.json();
    let targets = doc.as_array().expect("one entry per target");
    let of = |account: &str| -> &Vec<Value> {
        targets
            .iter()
            .find(|t| t["account"] == account)
            .unwrap_or_else(|| panic!("no {account} in {doc:#}"))["requests"]
            .as_array()
            .unwrap()
    };
    assert_eq!(targets.len(), 5, "{doc:#}");

    let bsky = of("bsky");
    let base = fakes.bsky.uri();
    let urls: Vec<&str> = bsky.iter().map(|r| r["url"].as_str().unwrap()).collect();
    assert_eq!(
        urls,
        [
            format!("{base}/xrpc/com.atproto.server.createSession"),
            format!("{base}/xrpc/com.atproto.repo.uploadBlob"),
            format!("{base}/xrpc/com.atproto.repo.createRecord"),
        ]
    );
    assert_eq!(bsky[0]["json"], json!({"identifier": "alice.test"}));
    assert_eq!(bsky[1]["file"]["content_type"], "image/jpeg");
    assert_eq!(bsky[2]["json"]["repo"], "<DID of @alice.test>");
    let record = &bsky[2]["json"]["record"];
    assert_eq!(record["text"], TEXT);
    assert_eq!(record["embed"]["images"][0]["alt"], ALT);
    assert_eq!(record["embed"]["images"][0]["image"], "<blob of upload 1>");
    assert_eq!(
        record["embed"]["images"][0]["aspectRatio"],
        json!({"width": 3, "height": 2})
    );

    let fedi = of("fedi");
    let base = fakes.fedi.uri();
    assert_eq!(fedi[0]["url"], format!("{base}/api/v2/media"));
    assert_eq!(fedi[0]["multipart"]["description"], ALT);
    assert_eq!(fedi[1]["url"], format!("{base}/api/v1/statuses"));
    assert_eq!(fedi[1]["json"]["status"], TEXT);

    let x = of("x");
    let base = fakes.x.uri();
    let urls: Vec<&str> = x.iter().map(|r| r["url"].as_str().unwrap()).collect();
    assert_eq!(
        urls,
        [
            format!("{base}/2/media/upload/initialize"),
            format!("{base}/2/media/upload/<id of upload 1>/append"),
            format!("{base}/2/media/upload/<id of upload 1>/finalize"),
            format!("{base}/2/media/metadata"),
            format!("{base}/2/tweets"),
        ]
    );
    assert_eq!(x[3]["json"]["metadata"]["alt_text"]["text"], ALT);
    assert_eq!(x[4]["json"]["text"], TEXT);

    let li = of("li");
    let post = li.last().unwrap();
    assert_eq!(post["url"], format!("{}/rest/posts", fakes.li.uri()));
    assert_eq!(post["headers"]["LinkedIn-Version"], "202605");
    assert_eq!(
        post["json"]["commentary"],
        "Shipped social 1.0: one file, five networks. Notes at https://example.com/notes {hashtag|\\#|rustlang}"
    );
    assert_eq!(post["json"]["content"]["media"]["altText"], ALT);

    let insta = of("insta");
    let base = fakes.insta.uri();
    let urls: Vec<&str> = insta.iter().map(|r| r["url"].as_str().unwrap()).collect();
    assert_eq!(
        urls,
        [
            format!("{base}/{IG_USER}/content_publishing_limit"),
            format!("{base}/{IG_USER}/media"),
            format!("{base}/{IG_USER}/media_publish"),
        ]
    );
    assert_eq!(
        insta[2]["query"]["creation_id"],
        "<container of the post, once FINISHED>"
    );
    assert!(!format!("{insta:?}").contains(INSTA_TOKEN));
    let container = &insta[1];
    assert_eq!(
        container["url"],
        format!("{}/{IG_USER}/media", fakes.insta.uri())
    );
    assert_eq!(container["query"]["caption"], TEXT);
    assert_eq!(container["query"]["alt_text"], ALT);
    assert_eq!(
        container["query"]["image_url"],
        "https://media.example.com/media/pic.jpg"
    );

    assert!(
        fakes.counts().await.iter().all(|(_, n)| *n == 0),
        "a dry run sent requests: {:?}",
        fakes.counts().await
    );
    fakes.verify().await;
    assert!(!p.root.join("published.toml").exists());
}
