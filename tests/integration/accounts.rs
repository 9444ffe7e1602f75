//! `social accounts …` end to end: each login flow against a loopback fake
//! authorization server (the test plays the browser: it follows the URL the
//! binary prints to the fake, which redirects to the binary's loopback
//! listener), token refresh and rotation (surviving a kill from outside
//! while the refresh request is in flight, before or after the server
//! rotated), `accounts list/check`, and no secret
//! in any output or file the binary writes besides the secret store.
//!
//! The binary runs with `--insecure-storage` (a file under the test's HOME):
//! keyring's mock backend lives in one process only, so the library tests
//! (`src/credentials`) use it and these use the file.

use crate::common::TestProject;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// Every secret the fake hands out contains this, so that output can be grepped for it.
const MARK: &str = "sEcReT";
/// A Bluesky app password (its shape leaves no room for the mark).
const APP_PASSWORD: &str = "s3cr-etap-pw4t-estx";
const LI_CLIENT_SECRET: &str = "sEcReT-linkedin-client";
const IG_TOKEN: &str = "sEcReT-ig-long-lived-0";

/// How long the fake holds a refresh request it was told to hold: longer
/// than any test waits, so the binary is killed while it waits.
const HELD: Duration = Duration::from_secs(60);

/// Where the fake holds a refresh request.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Hold {
    /// Before reading it: nothing reaches the server.
    Unread,
    /// After rotating the tokens: the answer never reaches the binary.
    Answered,
}

/// How the fake treats a refresh token that was already used.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Rotation {
    /// Like X: single use; replaying a retired token revokes the whole chain.
    Strict,
    /// The previous token keeps working until the new pair is first used.
    Grace,
}

#[derive(Default)]
struct AuthState {
    next: u32,
    /// code → (client_id, redirect_uri, code_challenge)
    codes: HashMap<String, (String, String, Option<String>)>,
    access: HashSet<String>,
    refresh: HashSet<String>,
    /// Retired refresh token → the one that replaced it.
    retired: HashMap<String, String>,
    strict: bool,
    token_requests: Vec<HashMap<String, String>>,
    tweets: u32,
    /// Hold the next refresh requests here.
    hold: Option<Hold>,
    /// Refresh requests held so far.
    held: u32,
}

/// The fake: one server for every platform, on distinct paths.
struct Fake {
    server: MockServer,
    state: Arc<Mutex<AuthState>>,
}

fn form(body: &[u8]) -> HashMap<String, String> {
    oauth2::url::form_urlencoded::parse(body)
        .into_owned()
        .collect()
}

fn query(req: &Request) -> HashMap<String, String> {
    req.url.query_pairs().into_owned().collect()
}

fn bearer(req: &Request) -> String {
    req.headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_string()
}

fn b64url(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn unauthorized() -> ResponseTemplate {
    ResponseTemplate::new(401)
        .set_body_json(json!({"title": "Unauthorized", "detail": "Unauthorized", "status": 401}))
}

fn invalid_grant(why: &str) -> ResponseTemplate {
    ResponseTemplate::new(400)
        .set_body_json(json!({"error": "invalid_grant", "error_description": why}))
}

impl Fake {
    async fn start(rotation: Rotation) -> Fake {
        let server = MockServer::start().await;
        let state = Arc::new(Mutex::new(AuthState {
            strict: rotation == Rotation::Strict,
            ..AuthState::default()
        }));
        let f = Fake { server, state };
        f.mount().await;
        f
    }

    fn uri(&self) -> String {
        self.server.uri()
    }

    fn issue(&self, prefix: &str, with_refresh: bool) -> Value {
        let mut s = self.state.lock().unwrap();
        s.next += 1;
        let n = s.next;
        let access = format!("{MARK}-{prefix}-access-{n}");
        s.access.insert(access.clone());
        let mut v = json!({"access_token": access, "token_type": "bearer", "expires_in": 7200});
        if with_refresh {
            let refresh = format!("{MARK}-{prefix}-refresh-{n}");
            s.refresh.insert(refresh.clone());
            v["refresh_token"] = json!(refresh);
        }
        v
    }

    /// Revokes every access token (as if they had expired on the server).
    fn expire_access_tokens(&self) {
        self.state.lock().unwrap().access.clear();
    }

    fn refresh_grants(&self) -> usize {
        self.state
            .lock()
            .unwrap()
            .token_requests
            .iter()
            .filter(|f| f.get("grant_type").map(String::as_str) == Some("refresh_token"))
            .count()
    }

    async fn mount(&self) {
        // The authorization pages: check the request, then redirect to the
        // loopback URI with a code and the state, as the platform would.
        for p in [
            "/i/oauth2/authorize",
            "/oauth/authorize",
            "/oauth/v2/authorization",
        ] {
            let st = self.state.clone();
            let pkce_required = p != "/oauth/v2/authorization";
            Mock::given(method("GET"))
                .and(path(p))
                .respond_with(move |req: &Request| {
                    let q = query(req);
                    let redirect = q.get("redirect_uri").cloned().unwrap_or_default();
                    assert!(redirect.starts_with("http://127.0.0.1:"), "{redirect}");
                    assert!(redirect.ends_with("/callback"), "{redirect}");
                    assert_eq!(q.get("response_type").map(String::as_str), Some("code"));
                    assert!(q.get("state").is_some_and(|s| s.len() >= 16));
                    if pkce_required {
                        assert_eq!(
                            q.get("code_challenge_method").map(String::as_str),
                            Some("S256")
                        );
                    }
                    let mut s = st.lock().unwrap();
                    s.next += 1;
                    let code = format!("code-{}", s.next);
                    s.codes.insert(
                        code.clone(),
                        (
                            q.get("client_id").cloned().unwrap_or_default(),
                            redirect.clone(),
                            q.get("code_challenge").cloned(),
                        ),
                    );
                    let scope = q.get("scope").cloned().unwrap_or_default();
                    let location = format!(
                        "{redirect}?code={code}&state={}&scope={}",
                        q["state"],
                        scope.replace(' ', "+")
                    );
                    ResponseTemplate::new(302).insert_header("location", location.as_str())
                })
                .mount(&self.server)
                .await;
        }
        // X's token endpoint: codes with PKCE, rotating refresh tokens.
        let this = self.clone_handle();
        Mock::given(method("POST"))
            .and(path("/2/oauth2/token"))
            .respond_with(move |req: &Request| this.token(req, "x", true))
            .mount(&self.server)
            .await;
        let this = self.clone_handle();
        Mock::given(method("POST"))
            .and(path("/oauth/token"))
            .respond_with(move |req: &Request| this.token(req, "fedi", false))
            .mount(&self.server)
            .await;
        let this = self.clone_handle();
        Mock::given(method("POST"))
            .and(path("/oauth/v2/accessToken"))
            .respond_with(move |req: &Request| this.token(req, "li", false))
            .mount(&self.server)
            .await;
        Mock::given(method("POST"))
            .and(path("/api/v1/apps"))
            .respond_with(|req: &Request| {
                let f = form(&req.body);
                assert_eq!(
                    f["scopes"],
                    "write:statuses write:media read:statuses read:accounts read:search"
                );
                assert!(f["redirect_uris"].starts_with("http://127.0.0.1:"));
                ResponseTemplate::new(200).set_body_json(json!({
                    "id": "1", "name": "social", "client_id": "fedi-client",
                    "client_secret": format!("{MARK}-fedi-client-secret")
                }))
            })
            .mount(&self.server)
            .await;
        // Who am I, per platform.
        for (p, body) in [
            (
                "/2/users/me",
                json!({"data": {"id": "42", "name": "Alice", "username": "alice"}}),
            ),
            (
                "/api/v1/accounts/verify_credentials",
                json!({"id": "7", "username": "alice", "acct": "alice"}),
            ),
            (
                "/v2/userinfo",
                json!({"sub": "li-member-9", "name": "Alice Example"}),
            ),
            (
                "/me",
                json!({"user_id": "1789", "username": "alice.pics", "id": "55"}),
            ),
        ] {
            let st = self.state.clone();
            Mock::given(method("GET"))
                .and(path(p))
                .respond_with(move |req: &Request| {
                    let tok = bearer(req);
                    if tok == IG_TOKEN || st.lock().unwrap().access.contains(&tok) {
                        ResponseTemplate::new(200).set_body_json(body.clone())
                    } else {
                        unauthorized()
                    }
                })
                .mount(&self.server)
                .await;
        }
        let st = self.state.clone();
        Mock::given(method("POST"))
            .and(path("/2/tweets"))
            .respond_with(move |req: &Request| {
                let mut s = st.lock().unwrap();
                if !s.access.contains(&bearer(req)) {
                    return unauthorized();
                }
                s.tweets += 1;
                let text = serde_json::from_slice::<Value>(&req.body).unwrap()["text"].clone();
                ResponseTemplate::new(201)
                    .set_body_json(json!({"data": {"id": format!("10{}", s.tweets), "text": text}}))
            })
            .mount(&self.server)
            .await;
        Mock::given(method("POST"))
            .and(path("/xrpc/com.atproto.server.createSession"))
            .respond_with(|req: &Request| {
                let b: Value = serde_json::from_slice(&req.body).unwrap();
                if b["password"] == APP_PASSWORD || b["password"] == "my-main-password" {
                    ResponseTemplate::new(200).set_body_json(json!({
                        "did": "did:plc:alice", "handle": b["identifier"],
                        "accessJwt": format!("{MARK}-jwt-a"), "refreshJwt": format!("{MARK}-jwt-r")
                    }))
                } else {
                    ResponseTemplate::new(401).set_body_json(
                        json!({"error": "AuthenticationRequired", "message": "Invalid identifier or password"}),
                    )
                }
            })
            .mount(&self.server)
            .await;
        let st = self.state.clone();
        Mock::given(method("GET"))
            .and(path("/refresh_access_token"))
            .respond_with(move |req: &Request| {
                let q = query(req);
                assert_eq!(q["grant_type"], "ig_refresh_token");
                if q["access_token"] != IG_TOKEN && !st.lock().unwrap().access.contains(&q["access_token"]) {
                    return ResponseTemplate::new(400).set_body_json(json!({"error": {
                        "message": "Error validating access token", "type": "OAuthException", "code": 190}}));
                }
                let mut s = st.lock().unwrap();
                s.next += 1;
                let t = format!("{MARK}-ig-refreshed-{}", s.next);
                s.access.insert(t.clone());
                ResponseTemplate::new(200).set_body_json(
                    json!({"access_token": t, "token_type": "bearer", "expires_in": 5184000}),
                )
            })
            .mount(&self.server)
            .await;
    }

    fn clone_handle(&self) -> FakeHandle {
        FakeHandle {
            state: self.state.clone(),
        }
    }
}

/// What the token endpoints need of the fake.
#[derive(Clone)]
struct FakeHandle {
    state: Arc<Mutex<AuthState>>,
}

impl FakeHandle {
    fn token(&self, req: &Request, prefix: &str, pkce: bool) -> ResponseTemplate {
        let mut f = form(&req.body);
        let basic = req.headers.get("authorization").is_some();
        let mut s = self.state.lock().unwrap();
        let hold = match f.get("grant_type").map(String::as_str) {
            Some("refresh_token") => s.hold,
            _ => None,
        };
        if hold == Some(Hold::Unread) {
            s.held += 1;
            return ResponseTemplate::new(503).set_delay(HELD);
        }
        s.token_requests.push(f.clone());
        match f.get("grant_type").map(String::as_str) {
            Some("authorization_code") => {
                let code = f.remove("code").unwrap_or_default();
                let Some((client, redirect, challenge)) = s.codes.remove(&code) else {
                    return invalid_grant("unknown code");
                };
                if !basic {
                    assert_eq!(f.get("client_id"), Some(&client), "client_id in the body");
                }
                assert_eq!(f.get("redirect_uri"), Some(&redirect));
                if pkce {
                    let verifier = f.get("code_verifier").expect("a PKCE verifier");
                    assert_eq!(
                        Some(b64url(&Sha256::digest(verifier.as_bytes()))),
                        challenge,
                        "S256(verifier) matches the challenge"
                    );
                }
                if prefix == "li" {
                    assert_eq!(
                        f.get("client_secret").map(String::as_str),
                        Some(LI_CLIENT_SECRET)
                    );
                }
            }
            Some("refresh_token") => {
                let rt = f.get("refresh_token").cloned().unwrap_or_default();
                if s.refresh.remove(&rt) {
                    // Rotation: the presented token is retired, a new pair issued.
                } else if let Some(next) = s.retired.get(&rt).cloned() {
                    if s.strict {
                        // A replay: the whole chain goes.
                        s.refresh.clear();
                        return invalid_grant("Value passed for the token was invalid.");
                    }
                    // Grace: the replaced token works while its successor is unused.
                    if !s.refresh.remove(&next) {
                        return invalid_grant("already used");
                    }
                } else {
                    return invalid_grant("Value passed for the token was invalid.");
                }
                s.next += 1;
                let n = s.next;
                let new_rt = format!("{MARK}-{prefix}-refresh-{n}");
                s.retired.insert(rt, new_rt.clone());
                s.refresh.insert(new_rt.clone());
                let access = format!("{MARK}-{prefix}-access-{n}");
                s.access.insert(access.clone());
                let answer = ResponseTemplate::new(200).set_body_json(json!({
                    "access_token": access, "refresh_token": new_rt, "token_type": "bearer",
                    "expires_in": 7200, "scope": "tweet.read tweet.write users.read media.write offline.access"
                }));
                if hold == Some(Hold::Answered) {
                    s.held += 1;
                    return answer.set_delay(HELD);
                }
                return answer;
            }
            other => panic!("unexpected grant {other:?}"),
        }
        s.next += 1;
        let n = s.next;
        let access = format!("{MARK}-{prefix}-access-{n}");
        s.access.insert(access.clone());
        let mut v = json!({"access_token": access, "scope": "x"});
        match prefix {
            "x" => {
                let rt = format!("{MARK}-{prefix}-refresh-{n}");
                s.refresh.insert(rt.clone());
                v["refresh_token"] = json!(rt);
                v["token_type"] = json!("bearer");
                v["expires_in"] = json!(7200);
            }
            // LinkedIn: 60 days, no token_type, no refresh token.
            "li" => v["expires_in"] = json!(5183999),
            _ => v["token_type"] = json!("Bearer"),
        }
        ResponseTemplate::new(200).set_body_json(v)
    }
}

/// A project whose accounts live on the fake.
fn project(fake: &Fake) -> TestProject {
    let u = fake.uri();
    TestProject::with_config(&format!(
        r#"# The test project: this comment must survive `accounts add` and `remove`.
timezone = "UTC"   # keep UTC

[defaults]
to = ["x"]   # the default target

[accounts.x]
platform = "twitter"
api_url = "{u}"
auth_url = "{u}/i/oauth2"   # the fake's authorization page

[accounts.li]
platform = "linkedin"
api_url = "{u}"
auth_url = "{u}/oauth/v2"

[accounts.insta]
platform = "instagram"
api_url = "{u}"
media_base_url = "https://media.example.com"
"#
    ))
}

/// A finished run of the binary that logged in through the "browser".
struct Finished {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `social ARGS` with extra environment, plays the browser: follows the
/// URL it prints to the fake and the fake's redirect back to the binary.
async fn login_through_browser(p: &TestProject, args: &[&str], stdin: Option<&str>) -> Finished {
    let mut cmd = p.std_cmd(&p.root);
    cmd.args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child: Child = cmd.spawn().unwrap();
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let url = loop {
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(line) if line.starts_with("  http") => break line.trim().to_string(),
            Ok(_) => {}
            Err(_) => {
                let _ = child.kill();
                let out = child.wait_with_output().unwrap();
                panic!(
                    "no login URL printed\n{}\n{}",
                    String::from_utf8_lossy(&out.stdout),
                    reader.join().unwrap()
                );
            }
        }
    };
    // The browser: the authorization page redirects to the loopback listener.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = browser.get(&url).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 302, "{url}");
    let back = page.headers()["location"].to_str().unwrap().to_string();
    let landed = browser.get(&back).send().await.unwrap();
    assert_eq!(landed.status().as_u16(), 200);
    assert!(landed.text().await.unwrap().contains("close this tab"));
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    Finished {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: reader.join().unwrap(),
    }
}

fn credentials_file(p: &TestProject) -> String {
    std::fs::read_to_string(p.sandbox().join("home/.config/social/credentials.toml"))
        .unwrap_or_default()
}

/// The stored credential of `account` (JSON), from the insecure file.
fn stored(p: &TestProject, account: &str) -> Value {
    let file: toml::Table = toml::from_str(&credentials_file(p)).unwrap();
    let (_, accounts) = file.iter().next().expect("one project in the file");
    serde_json::from_str(accounts[account].as_str().unwrap()).unwrap()
}

fn accounts_json(p: &TestProject) -> Value {
    p.run(&["accounts", "list", "--json"]).code(0).json()
}

fn listed<'a>(list: &'a Value, name: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in {list:#}"))
}

fn toml_text(p: &TestProject) -> String {
    std::fs::read_to_string(p.root.join("social.toml")).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn bluesky_app_password_add_list_check_remove() {
    let fake = Fake::start(Rotation::Strict).await;
    let p = project(&fake);
    let service = fake.uri();
    let run = p.run_cmd(
        p.cmd()
            .args([
                "accounts",
                "add",
                "bsky",
                "--platform",
                "bluesky",
                "--handle",
                "@alice.test",
                "--service",
                &service,
                "--password-stdin",
                "--insecure-storage",
            ])
            .write_stdin(format!("{APP_PASSWORD}\n")),
    );
    run.code(0)
        .stdout_has("logged in to Bluesky as @alice.test")
        .stderr_has("stored in plain text");
    assert!(!run.stderr.contains("does not look like an app password"));
    let toml = toml_text(&p);
    assert!(
        toml.starts_with("# The test project: this comment must survive"),
        "{toml}"
    );
    assert!(toml.contains("timezone = \"UTC\"   # keep UTC"));
    assert!(toml.contains(&format!(
        "[accounts.bsky]\nplatform = \"bluesky\"\nhandle = \"alice.test\"\nservice = \"{service}\"\n"
    )));
    assert!(!toml.contains(APP_PASSWORD));
    assert_eq!(stored(&p, "bsky")["secret"], APP_PASSWORD);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let f = p.sandbox().join("home/.config/social/credentials.toml");
        assert_eq!(
            std::fs::metadata(f).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    let list = accounts_json(&p);
    let b = listed(&list, "bsky");
    assert_eq!(b["credential"], "file");
    assert_eq!(b["handle"], "@alice.test");
    assert_eq!(listed(&list, "x")["credential"], "none");
    let table = p.run(&["accounts", "list"]);
    table
        .code(0)
        .stdout_has("bsky")
        .stdout_has("file")
        .stdout_has("never");

    p.run(&["accounts", "check", "bsky"])
        .code(0)
        .stdout_has("ok: @alice.test");
    // The environment overrides the file (CI): a wrong password there fails the check.
    let env = p.run_cmd(
        p.cmd()
            .env("SOCIAL_BSKY_TOKEN", "wrong-pass-word")
            .args(["accounts", "check", "bsky", "--json"]),
    );
    env.code(1);
    let j = env.json();
    assert_eq!(j[0]["credential"], "environment");
    assert!(
        j[0]["detail"]
            .as_str()
            .unwrap()
            .contains("refused the handle and app password")
    );

    // A main password works but is warned about.
    let main = p.run_cmd(
        p.cmd()
            .args([
                "accounts",
                "add",
                "bsky",
                "--password-stdin",
                "--insecure-storage",
            ])
            .write_stdin("my-main-password"),
    );
    main.code(0)
        .stderr_has("does not look like an app password");

    p.run(&["accounts", "remove", "bsky"]).code(0).stdout_has(
        "removed account `bsky` from social.toml; deleted its secret from the insecure file",
    );
    let toml = toml_text(&p);
    assert!(!toml.contains("bsky"), "{toml}");
    assert!(toml.starts_with("# The test project: this comment must survive"));
    assert!(!credentials_file(&p).contains("bsky"));
    p.run(&["accounts", "remove", "bsky"]).code(2);
}

#[cfg(target_os = "linux")]
#[test]
fn without_a_keyring_the_error_offers_the_environment_and_insecure_storage() {
    let p = TestProject::new();
    let run = p.run_cmd(
        p.cmd()
            // No Secret Service here, whatever the machine has.
            .env(
                "DBUS_SESSION_BUS_ADDRESS",
                "unix:path=/nonexistent/social-test-bus",
            )
            .args([
                "accounts",
                "add",
                "bsky",
                "--platform",
                "bluesky",
                "--handle",
                "alice.test",
                "--password-stdin",
            ])
            .write_stdin(APP_PASSWORD),
    );
    run.code(2)
        .stderr_has("no OS keyring is available here")
        .stderr_has("--insecure-storage")
        .stderr_has("SOCIAL_BSKY_TOKEN");
    assert!(!run.stderr.contains(APP_PASSWORD));
    assert!(
        !p.sandbox()
            .join("home/.config/social/credentials.toml")
            .exists()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn mastodon_registers_an_app_and_logs_in_with_pkce() {
    let fake = Fake::start(Rotation::Strict).await;
    let p = project(&fake);
    let instance = fake.uri();
    let done = login_through_browser(
        &p,
        &[
            "accounts",
            "add",
            "fedi",
            "--platform",
            "mastodon",
            "--instance",
            &instance,
            "--no-browser",
            "--insecure-storage",
        ],
        None,
    )
    .await;
    assert_eq!(done.code, Some(0), "{}\n{}", done.stdout, done.stderr);
    assert!(
        done.stdout
            .contains("logged in to Mastodon as @alice@127.0.0.1"),
        "{}",
        done.stdout
    );
    assert!(
        done.stderr
            .contains("Open this URL in a browser to log in to Mastodon")
    );
    let c = stored(&p, "fedi");
    assert!(
        c["secret"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{MARK}-fedi-access-"))
    );
    assert_eq!(c["client_id"], "fedi-client");
    assert!(toml_text(&p).contains(&format!(
        "[accounts.fedi]\nplatform = \"mastodon\"\ninstance = \"{instance}\"\n"
    )));
    Mock::given(method("GET"))
        .and(path("/api/v2/instance"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "domain": "127.0.0.1",
            "configuration": {
                "statuses": {"max_characters": 1000, "max_media_attachments": 4, "characters_reserved_per_url": 30},
                "media_attachments": {
                    "supported_mime_types": ["image/jpeg", "image/png"],
                    "description_limit": 1500,
                    "image_size_limit": 8388608,
                    "image_matrix_limit": 16777216,
                    "video_size_limit": 41943040,
                    "video_frame_rate_limit": 60,
                    "video_matrix_limit": 2304000
                }
            }
        })))
        .mount(&fake.server)
        .await;
    p.run(&["accounts", "check", "fedi"])
        .code(0)
        .stdout_has("ok: @alice@127.0.0.1")
        .stdout_has("instance limits: 1000 characters, each URL counts 30")
        .stdout_has("kept in .social/limits.json");
    // What validation reads, offline.
    let limits: Value =
        serde_json::from_str(&std::fs::read_to_string(p.root.join(".social/limits.json")).unwrap())
            .unwrap();
    let fedi = &limits["accounts"]["fedi"];
    assert_eq!(fedi["max_characters"], 1000);
    assert_eq!(fedi["characters_reserved_per_url"], 30);
    assert_eq!(fedi["image_size_limit"], 8388608);
    assert_eq!(fedi["video_size_limit"], 41943040);
    assert_eq!(fedi["description_limit"], 1500);
    // Mastodon tokens do not expire: nothing to refresh.
    p.run(&["accounts", "refresh", "fedi"])
        .code(0)
        .stdout_has("Mastodon tokens do not expire");

    // A pasted token, from standard input (never an argument).
    let tok = fake.issue("pasted", false)["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    p.run_cmd(
        p.cmd()
            .args([
                "accounts",
                "add",
                "fedi",
                "--token-stdin",
                "--insecure-storage",
            ])
            .write_stdin(tok.clone()),
    )
    .code(0);
    assert_eq!(stored(&p, "fedi")["secret"], tok.as_str());
}

async fn add_x(fake: &Fake, p: &TestProject) {
    let _ = fake;
    let done = login_through_browser(
        p,
        &[
            "accounts",
            "add",
            "x",
            "--platform",
            "x",
            "--client-id",
            "x-client",
            "--no-browser",
            "--insecure-storage",
        ],
        None,
    )
    .await;
    assert_eq!(done.code, Some(0), "{}\n{}", done.stdout, done.stderr);
    assert!(
        done.stdout.contains("logged in to X as @alice"),
        "{}",
        done.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn x_logs_in_with_pkce_and_refresh_tokens_rotate() {
    let fake = Fake::start(Rotation::Strict).await;
    let p = project(&fake);
    add_x(&fake, &p).await;
    let toml = toml_text(&p);
    assert!(toml.contains("auth_url = \"") && toml.contains("# the fake's authorization page"));
    assert!(
        toml.contains("client_id = \"x-client\"\nusername = \"alice\""),
        "{toml}"
    );
    let first = stored(&p, "x");
    assert_eq!(
        first["expires_at"], "2026-05-04T12:00:00Z",
        "SOCIAL_NOW + 7200 s"
    );
    let rt1 = first["refresh_token"].as_str().unwrap().to_string();

    let list = accounts_json(&p);
    assert_eq!(listed(&list, "x")["credential"], "file");
    assert_eq!(listed(&list, "x")["refreshable"], true);
    p.run(&["accounts", "check", "x"])
        .code(0)
        .stdout_has("ok: @alice");

    // `accounts refresh`: the new pair is stored, the old refresh token retired.
    p.run(&["accounts", "refresh", "x"])
        .code(0)
        .stdout_has("renewed");
    let second = stored(&p, "x");
    let rt2 = second["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(rt1, rt2);
    assert_eq!(second["previous_refresh_token"], rt1.as_str());
    assert!(second.get("refreshing_since").is_none());

    // Two hours later the token is refreshed before use (within 5 minutes of expiry).
    p.simple_post("hello", "x", "", "Hello from social");
    let later = p.run_cmd(p.cmd().env("SOCIAL_NOW", "2026-05-04T11:58:00Z").args([
        "post",
        "posts/hello.md",
        "--json",
    ]));
    later.code(0);
    assert_eq!(later.json()[0]["result"], "posted");
    assert_eq!(fake.refresh_grants(), 2);
    assert_ne!(stored(&p, "x")["refresh_token"], rt2.as_str());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_token_is_refreshed_once_and_the_post_retried_once() {
    let fake = Fake::start(Rotation::Strict).await;
    let p = project(&fake);
    add_x(&fake, &p).await;
    // The server forgets the access token although it has not expired yet.
    fake.expire_access_tokens();
    p.simple_post("retry", "x", "", "Retried after a 401");
    let run = p.run(&["post", "posts/retry.md", "--json"]);
    run.code(0);
    assert_eq!(run.json()[0]["result"], "posted");
    assert_eq!(fake.refresh_grants(), 1);
    assert_eq!(fake.state.lock().unwrap().tweets, 1);

    // A refresh the server refuses: one attempt, a clear message, no loop.
    fake.expire_access_tokens();
    fake.state.lock().unwrap().refresh.clear();
    p.simple_post("refused", "x", "", "Refused for good");
    let run = p.run(&["post", "posts/refused.md", "--json"]);
    run.code(1);
    let error = run.json()[0]["error"].as_str().unwrap().to_string();
    assert!(error.contains("invalid_grant"), "{error}");
    assert!(error.contains("social accounts add x"), "{error}");
    assert_eq!(fake.refresh_grants(), 2);
}

/// Runs `accounts refresh x` and kills it from outside (SIGKILL) while the
/// fake holds its refresh request where `hold` says.
async fn refresh_killed_while_held(fake: &Fake, p: &TestProject, hold: Hold) {
    let before = {
        let mut s = fake.state.lock().unwrap();
        s.hold = Some(hold);
        s.held
    };
    let mut child = p
        .std_cmd(&p.root)
        .args(["accounts", "refresh", "x"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while fake.state.lock().unwrap().held == before {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the refresh ended ({status}) before the fake held it");
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the refresh request never arrived"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    fake.state.lock().unwrap().hold = None;
}

// A crash right after the answer is stored (and before it is used) is
// proven at the service's seam, where it can be placed exactly:
// `credentials::service::tests::a_crash_after_the_answer_is_stored_loses_nothing`.
// From outside, the state it leaves is the state a finished refresh leaves.
#[tokio::test(flavor = "multi_thread")]
async fn rotation_survives_a_kill_before_the_refresh_reaches_the_server() {
    let fake = Fake::start(Rotation::Strict).await;
    let p = project(&fake);
    add_x(&fake, &p).await;
    let before = stored(&p, "x");
    p.run(&["accounts", "refresh", "x"])
        .code(0)
        .stdout_has("renewed");
    // The server rotated; the new pair is stored, nothing marked.
    let after = stored(&p, "x");
    assert_ne!(after["refresh_token"], before["refresh_token"]);
    assert!(after.get("refreshing_since").is_none());
    // The next run uses the new pair against a strict server.
    p.run(&["accounts", "refresh", "x"])
        .code(0)
        .stdout_has("renewed");
    p.run(&["accounts", "check", "x"]).code(0);

    // Killed after the marker, before the server read the request: nothing was spent.
    let grants = fake.refresh_grants();
    let kept = stored(&p, "x");
    refresh_killed_while_held(&fake, &p, Hold::Unread).await;
    let left = stored(&p, "x");
    assert!(left.get("refreshing_since").is_some());
    assert_eq!(left["refresh_token"], kept["refresh_token"]);
    assert_eq!(fake.refresh_grants(), grants, "the server saw nothing");
    p.run(&["accounts", "refresh", "x"])
        .code(0)
        .stdout_has("renewed");
    assert!(stored(&p, "x").get("refreshing_since").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kill_between_the_token_response_and_the_store_write_keeps_the_old_pair() {
    // A server that keeps the replaced refresh token valid until its successor
    // is used: the old pair, never discarded before the new one is stored,
    // logs in on the next run.
    let fake = Fake::start(Rotation::Grace).await;
    let p = project(&fake);
    add_x(&fake, &p).await;
    let before = stored(&p, "x");
    refresh_killed_while_held(&fake, &p, Hold::Answered).await;
    assert_eq!(fake.refresh_grants(), 1, "the server rotated");
    let after = stored(&p, "x");
    assert_eq!(
        after["refresh_token"], before["refresh_token"],
        "the old pair is intact"
    );
    assert_eq!(after["secret"], before["secret"]);
    assert!(
        after.get("refreshing_since").is_some(),
        "the interrupted refresh is marked"
    );
    p.run(&["accounts", "refresh", "x"])
        .code(0)
        .stdout_has("renewed");
    let recovered = stored(&p, "x");
    assert!(recovered.get("refreshing_since").is_none());
    p.run(&["accounts", "check", "x"])
        .code(0)
        .stdout_has("ok: @alice");

    // A strict server (X) retired the old token with the lost answer: the
    // stored pair is still intact and readable, the next run tries it once
    // and says exactly what happened and what to do.
    let strict = Fake::start(Rotation::Strict).await;
    let p = project(&strict);
    add_x(&strict, &p).await;
    refresh_killed_while_held(&strict, &p, Hold::Answered).await;
    let run = p.run(&["accounts", "refresh", "x"]);
    run.code(1)
        .stdout_has("did not finish storing its answer")
        .stdout_has("social accounts add x");
    assert_eq!(strict.refresh_grants(), 2, "one replay, no retry loop");
    assert!(stored(&p, "x")["refresh_token"].is_string());
}

#[tokio::test(flavor = "multi_thread")]
async fn linkedin_logs_in_with_client_secret_and_warns_before_expiry() {
    let fake = Fake::start(Rotation::Strict).await;
    let p = project(&fake);
    let done = login_through_browser(
        &p,
        &[
            "accounts",
            "add",
            "li",
            "--platform",
            "linkedin",
            "--client-id",
            "li-client",
            "--client-secret-stdin",
            "--no-browser",
            "--insecure-storage",
        ],
        Some(LI_CLIENT_SECRET),
    )
    .await;
    assert_eq!(done.code, Some(0), "{}\n{}", done.stdout, done.stderr);
    assert!(
        done.stdout
            .contains("logged in to LinkedIn as Alice Example")
    );
    let c = stored(&p, "li");
    assert_eq!(c["client_secret"], LI_CLIENT_SECRET);
    assert_eq!(c["expires_at"], "2026-07-03T09:59:59Z");
    assert!(!toml_text(&p).contains(LI_CLIENT_SECRET));

    // Today: no warning.
    let v = p.validate(&[]);
    assert!(!v.stderr.contains("LinkedIn login"), "{}", v.stderr);
    // Six days before expiry: validate (no network) and list warn.
    let soon = "2026-06-27T10:00:00Z";
    let v = p.run_cmd(p.cmd().env("SOCIAL_NOW", soon).arg("validate"));
    v.code(0)
        .stderr_has("the LinkedIn login of account `li` expires in 5 days");
    assert!(v.stderr.contains("social accounts add li"));
    let j = p.run_cmd(
        p.cmd()
            .env("SOCIAL_NOW", soon)
            .args(["validate", "--format", "json"]),
    );
    assert!(
        j.json()["credentials"][0]["message"]
            .as_str()
            .unwrap()
            .contains("expires in 5 days")
    );
    let gh = p.run_cmd(
        p.cmd()
            .env("SOCIAL_NOW", soon)
            .args(["validate", "--format", "github"]),
    );
    gh.stdout_has("::warning title=social validate::the LinkedIn login");
    let l = p.run_cmd(p.cmd().env("SOCIAL_NOW", soon).args(["accounts", "list"]));
    l.code(0).stderr_has("expires in 5 days");
    // No refresh token: nothing to renew, says why.
    p.run(&["accounts", "refresh", "li"])
        .code(0)
        .stdout_has("no refresh token");
    // The login asks for no r_member_social: LinkedIn refuses to read posts
    // back, and check says what that costs.
    Mock::given(method("GET"))
        .and(path("/rest/posts"))
        .and(wiremock::matchers::query_param("q", "author"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "status": 403, "serviceErrorCode": 100, "code": "ACCESS_DENIED",
            "message": "Not enough permissions to access: partnerApiPostsExternal.FINDER-author"
        })))
        .mount(&fake.server)
        .await;
    p.run(&["accounts", "check", "li"])
        .code(0)
        .stdout_has("ok: Alice Example")
        .stdout_has("note: li: the token lacks LinkedIn's r_member_social permission")
        .stdout_has("cannot")
        .stdout_has("posting works");
    let j = p.run(&["accounts", "check", "li", "--json"]);
    let notes = j.json()[0]["notes"].to_string();
    assert!(notes.contains("r_member_social"), "{notes}");
}

#[tokio::test(flavor = "multi_thread")]
async fn instagram_token_is_pasted_once_and_refreshed() {
    let fake = Fake::start(Rotation::Strict).await;
    let p = project(&fake);
    let run = p.run_cmd(
        p.cmd()
            .args([
                "accounts",
                "add",
                "insta",
                "--token-stdin",
                "--insecure-storage",
            ])
            .write_stdin(IG_TOKEN),
    );
    run.code(0)
        .stdout_has("logged in to Instagram as @alice.pics");
    assert!(toml_text(&p).contains("user_id = \"1789\""));
    assert_eq!(stored(&p, "insta")["expires_at"], "2026-07-03T10:00:00Z");
    p.run(&["accounts", "refresh", "insta"])
        .code(0)
        .stdout_has("renewed");
    let c = stored(&p, "insta");
    assert!(
        c["secret"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{MARK}-ig-refreshed-"))
    );
    p.run(&["accounts", "check", "insta"]).code(0);
    // Without a terminal and without --token-stdin there is no way to ask.
    p.run(&["accounts", "add", "insta", "--insecure-storage"])
        .code(2)
        .stderr_has("pipe it in with --token-stdin");
}

/// Every command, with known secrets in the environment and the secret
/// store: none of them appears in stdout, stderr, the state store,
/// social.toml, published.toml or .social/accounts.json.
#[tokio::test(flavor = "multi_thread")]
async fn no_secret_in_any_output_or_file() {
    let fake = Fake::start(Rotation::Strict).await;
    let p = project(&fake);
    add_x(&fake, &p).await;
    let mut outputs = Vec::new();
    let li = login_through_browser(
        &p,
        &[
            "accounts",
            "add",
            "li",
            "--platform",
            "linkedin",
            "--client-id",
            "li-client",
            "--client-secret-stdin",
            "--no-browser",
            "--insecure-storage",
        ],
        Some(LI_CLIENT_SECRET),
    )
    .await;
    outputs.push(format!("{}{}", li.stdout, li.stderr));
    let service = fake.uri();
    let env_secret = format!("{MARK}-from-the-environment");
    p.simple_post("leak", "x,li", "", "Checking for leaks");
    p.post(
        "sched.md",
        "---\nid: sched\nat: 2026-05-04 09:30\nto: [x]\n---\nScheduled\n",
    );
    let runs: Vec<Vec<&str>> = vec![
        vec![
            "accounts",
            "add",
            "bsky",
            "--platform",
            "bluesky",
            "--handle",
            "alice.test",
            "--service",
            &service,
            "--password-stdin",
            "--insecure-storage",
        ],
        vec![
            "accounts",
            "add",
            "insta",
            "--token-stdin",
            "--insecure-storage",
        ],
        vec!["accounts", "list"],
        vec!["accounts", "list", "--json"],
        vec!["accounts", "check"],
        vec!["accounts", "check", "--json"],
        vec!["accounts", "refresh"],
        vec!["accounts", "refresh", "--json"],
        vec!["validate"],
        vec!["validate", "--format", "json"],
        vec!["validate", "--format", "github"],
        vec!["preview", "posts/leak.md"],
        vec!["preview", "posts/leak.md", "--json"],
        vec!["post", "posts/leak.md", "--dry-run"],
        vec!["-vv", "post", "posts/leak.md"],
        vec!["post", "posts/leak.md", "--json"],
        vec!["-vv", "publish", "--due"],
        vec!["publish", "--due", "--json"],
        vec!["schedule"],
        vec!["schedule", "--json"],
        vec!["status"],
        vec!["status", "--json"],
        vec!["cancel", "sched"],
        vec!["retry", "sched"],
        vec!["queue", "list"],
        vec!["state", "rebuild"],
        vec!["new", "Another one", "--to", "x"],
        vec!["completions", "bash"],
        vec!["accounts", "remove", "insta"],
        vec!["init", "sub"],
    ];
    for args in &runs {
        let stdin = match args.get(2).copied() {
            Some("bsky") => APP_PASSWORD,
            Some("insta") if args[1] == "add" => IG_TOKEN,
            _ => "",
        };
        for env in [None, Some(env_secret.as_str())] {
            let mut cmd = p.cmd();
            if let Some(e) = env {
                cmd.env("SOCIAL_FEDI_TOKEN", e).env("SOCIAL_LI_TOKEN", e);
            }
            let out = cmd.args(args).write_stdin(stdin).output().unwrap();
            outputs.push(format!(
                "$ social {}\n{}{}",
                args.join(" "),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    // The daemon, briefly, with debug logs.
    let mut daemon = p
        .std_cmd(&p.root)
        .env("SOCIAL_LI_TOKEN", &env_secret)
        .args(["-vv", "daemon", "--log-format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    unsafe_terminate(&daemon);
    let _ = daemon.kill();
    let out = daemon.wait_with_output().unwrap();
    outputs.push(format!(
        "$ social daemon\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ));
    let all = outputs.join("\n");
    assert!(
        all.contains("posted") && all.contains("ok: @alice"),
        "the commands ran:\n{all}"
    );
    for secret in [MARK, APP_PASSWORD, LI_CLIENT_SECRET, IG_TOKEN] {
        assert!(!all.contains(secret), "`{secret}` leaked:\n{all}");
    }
    for file in [
        ".social/state.redb",
        "social.toml",
        "published.toml",
        ".social/accounts.json",
    ] {
        let bytes = std::fs::read(p.root.join(file)).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        for secret in [MARK, APP_PASSWORD, LI_CLIENT_SECRET, IG_TOKEN] {
            assert!(!text.contains(secret), "`{secret}` is in {file}");
        }
    }
    // The secret store itself holds them (the only place besides the environment).
    assert!(credentials_file(&p).contains(MARK));
}

/// Asks the daemon to stop (SIGTERM) without a signal crate.
fn unsafe_terminate(child: &Child) {
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
}

#[test]
fn the_missing_login_hint_is_the_command_that_works_here() {
    // No keyring on this machine (no D-Bus session): the hint logs in to
    // the file store, and names the platform as the README does.
    let p = TestProject::with_config(
        "timezone = \"UTC\"\n\n[accounts.x]\nplatform = \"twitter\"\nusername = \"alice\"\n\n[accounts.fedi]\nplatform = \"mastodon\"\ninstance = \"https://mastodon.example\"\n",
    );
    p.simple_post("due", "x, fedi", "at: 2026-05-04 09:50", "Hello");
    let run = p.run_cmd(
        p.cmd()
            .env(
                "DBUS_SESSION_BUS_ADDRESS",
                "unix:path=/nonexistent/social-test-bus",
            )
            .args(["publish", "--due"]),
    );
    run.code(1)
        .stdout_has("2 waiting for login")
        .stdout_has("social accounts add x --platform x --insecure-storage")
        .stdout_has("social accounts add fedi --platform mastodon --insecure-storage")
        .stdout_has("SOCIAL_X_TOKEN");
}

#[test]
fn a_login_without_a_browser_waits_a_bounded_time() {
    let p = TestProject::with_config(
        "timezone = \"UTC\"\n\n[accounts.x]\nplatform = \"x\"\nusername = \"alice\"\n",
    );
    let started = std::time::Instant::now();
    let run = p.run_cmd(p.cmd().args([
        "accounts",
        "add",
        "x",
        "--client-id",
        "ID",
        "--no-browser",
        "--insecure-storage",
        "--timeout",
        "1s",
    ]));
    run.code(1)
        .stderr_has("Open this URL in a browser")
        .stderr_has("no answer from the browser within 1s")
        .stderr_has("--timeout");
    assert!(started.elapsed() < Duration::from_secs(30));
    // The default is five minutes, as the help says.
    let help = p.run(&["accounts", "add", "--help"]);
    let flat = help.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("[default: 5m]"), "{}", help.stdout);
}
