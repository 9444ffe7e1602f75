//! The loopback redirect of an OAuth login (RFC 8252): a one-shot HTTP
//! listener on 127.0.0.1 that receives the browser's redirect with `code`
//! and `state`, answers with a short page, and hands the code back.

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The path the platform redirects to.
pub const CALLBACK_PATH: &str = "/callback";

/// How a login through the browser ended without a code.
#[derive(Debug, thiserror::Error)]
pub enum RedirectError {
    #[error("the login was refused: {0}")]
    Denied(String),
    #[error("no answer from the browser within {}; run the command again (`--timeout` waits longer)", humantime::format_duration(*.0))]
    TimedOut(Duration),
    #[error("the redirect listener failed: {0}")]
    Io(#[from] std::io::Error),
}

/// A listener waiting for the redirect.
pub struct Loopback {
    listener: TcpListener,
    port: u16,
}

impl Loopback {
    /// Listens on 127.0.0.1: on `port`, or a free port when it is 0.
    pub async fn bind(port: u16) -> std::io::Result<Loopback> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let port = listener.local_addr()?.port();
        Ok(Loopback { listener, port })
    }

    /// The redirect URI to register and send: `http://127.0.0.1:PORT/callback`.
    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}{CALLBACK_PATH}", self.port)
    }

    /// Waits for the redirect carrying `state`; returns its `code`. Requests
    /// for other paths, or with another state, are answered and ignored.
    pub async fn wait(self, state: &str, timeout: Duration) -> Result<String, RedirectError> {
        tokio::time::timeout(timeout, self.serve(state))
            .await
            .map_err(|_| RedirectError::TimedOut(timeout))?
    }

    async fn serve(self, state: &str) -> Result<String, RedirectError> {
        loop {
            let (mut conn, _) = self.listener.accept().await?;
            let Some(target) = read_target(&mut conn).await else {
                continue;
            };
            let (path, query) = target.split_once('?').unwrap_or((&target, ""));
            if path != CALLBACK_PATH {
                respond(&mut conn, "404 Not Found", "Not the login redirect.").await;
                continue;
            }
            let params: Vec<(String, String)> =
                oauth2::url::form_urlencoded::parse(query.as_bytes())
                    .into_owned()
                    .collect();
            let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            if get("state").as_deref() != Some(state) {
                respond(
                    &mut conn,
                    "400 Bad Request",
                    "This redirect does not belong to the login in progress.",
                )
                .await;
                continue;
            }
            if let Some(err) = get("error") {
                let detail = match get("error_description") {
                    Some(d) => format!("{err}: {d}"),
                    None => err,
                };
                respond(
                    &mut conn,
                    "200 OK",
                    "The login was refused. You can close this tab.",
                )
                .await;
                return Err(RedirectError::Denied(detail));
            }
            match get("code") {
                Some(code) if !code.is_empty() => {
                    respond(
                        &mut conn,
                        "200 OK",
                        "Logged in to social. You can close this tab and return to the terminal.",
                    )
                    .await;
                    return Ok(code);
                }
                _ => {
                    respond(&mut conn, "400 Bad Request", "The redirect has no code.").await;
                }
            }
        }
    }
}

/// The request target of a `GET` request (the request head is read up to 16 KiB).
async fn read_target(conn: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let read = async {
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
            let n = conn.read(&mut chunk).await.ok()?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        Some(())
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .ok()??;
    let head = String::from_utf8_lossy(&buf);
    let line = head.lines().next()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?;
    let target = parts.next()?;
    (method == "GET").then(|| target.to_string())
}

async fn respond(conn: &mut TcpStream, status: &str, text: &str) {
    let body = format!(
        "<!doctype html><meta charset=utf-8><title>social</title><p style=\"font-family:sans-serif\">{text}</p>\n"
    );
    let resp = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = conn.write_all(resp.as_bytes()).await;
    let _ = conn.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(url: &str) -> (u16, String) {
        let r = reqwest::get(url).await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    #[tokio::test]
    async fn hands_back_the_code_of_the_matching_state_only() {
        let lb = Loopback::bind(0).await.unwrap();
        let uri = lb.redirect_uri();
        assert!(uri.starts_with("http://127.0.0.1:") && uri.ends_with("/callback"));
        let waiter = tokio::spawn(lb.wait("s1", Duration::from_secs(10)));
        let base = uri.trim_end_matches("/callback").to_string();
        assert_eq!(get(&format!("{base}/favicon.ico")).await.0, 404);
        assert_eq!(get(&format!("{uri}?code=evil&state=other")).await.0, 400);
        let (status, body) = get(&format!("{uri}?code=c%2B1&state=s1")).await;
        assert_eq!(status, 200);
        assert!(body.contains("close this tab"));
        assert_eq!(waiter.await.unwrap().unwrap(), "c+1");
    }

    #[tokio::test]
    async fn a_refusal_ends_the_wait() {
        let lb = Loopback::bind(0).await.unwrap();
        let uri = lb.redirect_uri();
        let waiter = tokio::spawn(lb.wait("s", Duration::from_secs(10)));
        get(&format!(
            "{uri}?error=access_denied&error_description=no&state=s"
        ))
        .await;
        let e = waiter.await.unwrap().unwrap_err();
        assert!(e.to_string().contains("access_denied: no"), "{e}");
    }

    #[tokio::test]
    async fn times_out() {
        let lb = Loopback::bind(0).await.unwrap();
        let e = lb.wait("s", Duration::from_millis(50)).await.unwrap_err();
        assert!(matches!(e, RedirectError::TimedOut(_)));
    }
}
