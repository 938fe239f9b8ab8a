//! The webhook sender against a local server: headers and body as given, statuses and
//! `Retry-After` reported, redirects not followed, internal targets refused unless allowed,
//! connections kept alive, a timeout, TLS for `https` targets.
#![expect(clippy::unwrap_used, reason = "tests")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use genonaut_domain::model::AttemptResult;
use genonaut_domain::ports::{HttpSender, WebhookRequest};
use genonaut_jobs::webhooks::HyperSender;

/// A request as the server read it: the connection it came on (0 for the first accepted),
/// its head and its body.
type Received = (usize, String, String);

/// Serves every request with `reply`, keeping connections open; sends back each request.
fn server(reply: &'static str) -> (u16, mpsc::Receiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for (connection, stream) in listener.incoming().enumerate() {
            let tx = tx.clone();
            std::thread::spawn(move || serve(connection, stream.unwrap(), reply, &tx));
        }
    });
    (port, rx)
}

fn serve(connection: usize, stream: TcpStream, reply: &str, tx: &mpsc::Sender<Received>) {
    let mut reader = BufReader::new(stream);
    loop {
        let mut head = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return; // closed by the client
            }
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
        tx.send((connection, head, String::from_utf8(body).unwrap()))
            .unwrap();
    }
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
    let sender = HyperSender::new(Duration::from_secs(5), true).unwrap();
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
    let (_, head, body) = rx.recv().unwrap();
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
    let sender = HyperSender::new(Duration::from_secs(5), true).unwrap();
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
    let guarded = HyperSender::new(Duration::from_secs(5), false).unwrap();
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
    let open = HyperSender::new(Duration::from_secs(5), true).unwrap();
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

#[tokio::test]
async fn deliveries_to_one_host_reuse_a_kept_alive_connection() {
    let (port, rx) = server("HTTP/1.1 204 No Content\r\n\r\n");
    let sender = HyperSender::new(Duration::from_secs(5), true).unwrap();
    for _ in 0..3 {
        let result = sender.send(&request(format!("http://127.0.0.1:{port}/"))).await;
        assert!(
            matches!(result, AttemptResult::Response { status: 204, .. }),
            "{result:?}"
        );
    }
    let connections: Vec<usize> = rx.try_iter().map(|(connection, _, _)| connection).collect();
    assert_eq!(connections, [0, 0, 0], "one connection for the three");
}

#[tokio::test]
async fn a_target_that_does_not_answer_in_time_is_a_network_error() {
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let sender = HyperSender::new(Duration::from_millis(200), true).unwrap();
    let result = sender.send(&request(format!("http://127.0.0.1:{port}/"))).await;
    match result {
        AttemptResult::Network(why) => assert!(why.contains("no response within"), "{why}"),
        other => panic!("{other:?}"),
    }
    drop(silent);
}

#[tokio::test]
async fn https_targets_get_tls() {
    // A plain-HTTP server behind an https URL: the TLS handshake fails — nothing is sent in
    // clear text.
    let (port, rx) = server("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    let sender = HyperSender::new(Duration::from_secs(1), true).unwrap();
    let result = sender.send(&request(format!("https://127.0.0.1:{port}/"))).await;
    assert!(matches!(result, AttemptResult::Network(_)), "{result:?}");
    assert!(
        rx.try_iter().all(|(_, head, _)| !head.starts_with("POST")),
        "no request was sent as plain HTTP"
    );
}
