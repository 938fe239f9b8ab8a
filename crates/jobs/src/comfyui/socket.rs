//! ComfyUI's `/ws?clientId=` socket, read by a blocking thread (tungstenite) that hands its
//! messages to the generation over a channel. The thread ends when the channel's receiver is
//! dropped (checked between reads, which time out every 200 ms) or the socket closes.

use std::io::ErrorKind;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use genonaut_domain::ports::MediaFile;
use serde_json::Value;
use tokio::sync::mpsc;
use tungstenite::Message;

/// How often the reader looks whether it is still wanted.
const READ_TICK: Duration = Duration::from_millis(200);

/// What the socket said.
#[derive(Debug)]
pub enum Event {
    /// A JSON message (`{"type": …, "data": {…}}`).
    Json(Value),
    /// A binary preview frame's image.
    Preview(MediaFile),
    /// The socket closed or failed; nothing follows.
    Closed(String),
}

/// A binary frame: 4 bytes big-endian event type (1 = preview image), then for previews
/// 4 bytes big-endian image type (1 = JPEG, 2 = PNG) and the image.
pub fn preview(frame: &[u8]) -> Option<MediaFile> {
    let word = |at: usize| -> Option<u32> {
        let bytes: [u8; 4] = frame.get(at..at + 4)?.try_into().ok()?;
        Some(u32::from_be_bytes(bytes))
    };
    if word(0)? != 1 {
        return None;
    }
    let (extension, mime) = match word(4)? {
        1 => ("jpg", "image/jpeg"),
        2 => ("png", "image/png"),
        _ => return None,
    };
    let bytes = frame.get(8..).filter(|b| !b.is_empty())?.to_vec();
    Some(MediaFile {
        bytes,
        extension,
        mime,
    })
}

/// Connects to `url` (`ws://host:port/…`) within `timeout` and starts the reader thread.
pub async fn open(url: String, timeout: Duration) -> Result<mpsc::Receiver<Event>, String> {
    let socket = tokio::task::spawn_blocking(move || connect(&url, timeout))
        .await
        .map_err(|e| format!("connect task failed: {e}"))??;
    let (tx, rx) = mpsc::channel(256);
    std::thread::Builder::new()
        .name("comfyui-socket".into())
        .spawn(move || read(socket, &tx))
        .map_err(|e| format!("cannot start the socket reader: {e}"))?;
    Ok(rx)
}

fn connect(url: &str, timeout: Duration) -> Result<tungstenite::WebSocket<TcpStream>, String> {
    let uri: ureq::http::Uri = url.parse().map_err(|e| format!("bad websocket URL {url}: {e}"))?;
    let host = uri.host().ok_or_else(|| format!("no host in {url}"))?;
    let port = uri.port_u16().unwrap_or(80);
    let addrs = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("resolving {host}: {e}"))?;
    let mut last = format!("no address for {host}");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(stream) => {
                stream
                    .set_read_timeout(Some(timeout))
                    .and_then(|()| stream.set_write_timeout(Some(timeout)))
                    .map_err(|e| e.to_string())?;
                let (socket, _) = tungstenite::client(url, stream)
                    .map_err(|e| format!("websocket handshake with {host}:{port} failed: {e}"))?;
                socket
                    .get_ref()
                    .set_read_timeout(Some(READ_TICK))
                    .map_err(|e| e.to_string())?;
                return Ok(socket);
            }
            Err(e) => last = format!("connecting to {addr}: {e}"),
        }
    }
    Err(last)
}

fn read(mut socket: tungstenite::WebSocket<TcpStream>, tx: &mpsc::Sender<Event>) {
    loop {
        if tx.is_closed() {
            let _ = socket.close(None);
            let _ = socket.flush();
            return;
        }
        let event = match socket.read() {
            Ok(Message::Text(text)) => match serde_json::from_str(text.as_str()) {
                Ok(value) => Event::Json(value),
                Err(_) => continue,
            },
            Ok(Message::Binary(frame)) => match preview(&frame) {
                Some(image) => Event::Preview(image),
                None => continue,
            },
            Ok(Message::Close(frame)) => Event::Closed(frame.map_or_else(
                || "closed by ComfyUI".to_owned(),
                |f| format!("closed by ComfyUI ({}: {})", u16::from(f.code), f.reason.as_str()),
            )),
            Ok(_) => continue,
            Err(tungstenite::Error::Io(e))
                if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
            {
                continue;
            }
            Err(e) => Event::Closed(e.to_string()),
        };
        let last = matches!(event, Event::Closed(_));
        if tx.blocking_send(event).is_err() || last {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_frames_are_read_and_other_frames_ignored() {
        let mut frame = vec![0, 0, 0, 1, 0, 0, 0, 2];
        frame.extend_from_slice(b"\x89PNG..");
        let image = preview(&frame).unwrap();
        assert_eq!((image.extension, image.mime), ("png", "image/png"));
        assert_eq!(image.bytes, b"\x89PNG..");
        frame[7] = 1;
        assert_eq!(preview(&frame).unwrap().mime, "image/jpeg");
        frame[7] = 9;
        assert!(preview(&frame).is_none(), "unknown image type");
        frame[3] = 3;
        assert!(preview(&frame).is_none(), "not a preview event");
        assert!(preview(&[0, 0, 0, 1, 0, 0, 0, 2]).is_none(), "no image");
        assert!(preview(&[0, 0]).is_none());
    }
}
