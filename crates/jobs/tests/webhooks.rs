//! The webhook sender against a local server: headers and body as given, statuses and
//! `Retry-After` reported, redirects not followed, internal targets refused unless allowed.
#![expect(clippy::unwrap_used, reason = "tests")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use genonaut_domain::model::AttemptResult;
use genonaut_domain::ports::{HttpSender, WebhookRequest};
use genonaut_jobs::webhooks::UreqSender;

/// Serves one request with `reply`; sends back the request's head and body.
fn server(reply: &'static str) -> (u16, mpsc::Receiver<(String, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream);
        let mut head = String::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line.trim_end().is_empty() {
                break;
            }
            head.push_str(&line);
        }
        let len: usize = head
            .lines()
            .find_map(|l| {
                l.to_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse().unwrap())
            })
            .unwrap_or(0);
        let mut body = vec![0; len];
        reader.read_exact(&mut body).unwrap();
        reader.get_mut().write_all(reply.as_bytes()).unwrap();
        tx.send((head, String::from_utf8(body).unwrap())).unwrap();
    });
    (port, rx)
}

fn request(url: String) -> WebhookRequest {
    WebhookRequest {
        url,
        id: "msg_1".into(),
        timestamp: 1_700_000_000,
        signature: "v1,abc=".into(),
        body: r#"{"type":"completed"}"#.into(),
    }
}

#[tokio::test]
async fn sends_the_signed_request_and_reports_status_and_retry_after() {
    let (port, rx) =
        server("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n");
    let sender = UreqSender::new(Duration::from_secs(5), true);
    let result = sender
        .send(&request(format!("http://127.0.0.1:{port}/hook")))
        .await;
    assert_eq!(
        result,
        AttemptResult::Response {
            status: 503,
            retry_after: Some(Duration::from_secs(7))
        }
    );
    let (head, body) = rx.recv().unwrap();
    let head = head.to_lowercase();
    assert!(head.starts_with("post /hook http/1.1"), "{head}");
    for header in [
        "webhook-id: msg_1",
        "webhook-timestamp: 1700000000",
        "webhook-signature: v1,abc=",
        "content-type: application/json",
    ] {
        assert!(head.contains(&header.to_lowercase()), "{header} missing: {head}");
    }
    assert_eq!(body, r#"{"type":"completed"}"#);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let (port, _rx) =
        server("HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/\r\nContent-Length: 0\r\n\r\n");
    let sender = UreqSender::new(Duration::from_secs(5), true);
    let result = sender.send(&request(format!("http://127.0.0.1:{port}/"))).await;
    assert_eq!(
        result,
        AttemptResult::Response {
            status: 302,
            retry_after: None
        }
    );
}

#[tokio::test]
async fn internal_targets_are_refused_at_connection_time_unless_allowed() {
    let (port, rx) = server("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    let guarded = UreqSender::new(Duration::from_secs(5), false);
    for url in [
        format!("http://127.0.0.1:{port}/"),
        format!("http://localhost:{port}/"),
    ] {
        match guarded.send(&request(url.clone())).await {
            AttemptResult::Forbidden(why) => assert!(why.contains("loopback"), "{why}"),
            other => panic!("{url}: {other:?}"),
        }
    }
    assert!(rx.try_recv().is_err(), "nothing was sent");
    let open = UreqSender::new(Duration::from_secs(5), true);
    let result = open.send(&request(format!("http://127.0.0.1:{port}/"))).await;
    assert!(
        matches!(result, AttemptResult::Response { status: 200, .. }),
        "{result:?}"
    );
    // Nobody listening: a network error (retried), not a refusal.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let result = open.send(&request(format!("http://127.0.0.1:{closed}/"))).await;
    assert!(matches!(result, AttemptResult::Network(_)), "{result:?}");
}
