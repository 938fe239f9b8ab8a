//! Logging: the only place a tracing subscriber is installed.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber: `RUST_LOG` filters (default `info`), `LOG_FORMAT` picks
/// text or JSON lines. Lines are written to stdout by a background thread (request threads
/// only format them); keep the returned guard until exit so the last lines are flushed.
pub fn init(format: LogFormat) -> tracing_appender::non_blocking::WorkerGuard {
    // Not lossy: when the writer falls behind, logging waits rather than dropping lines.
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::stdout());
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only on a terminal; logs collected from pipes stay plain text.
    let colours = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(colours)
        .with_writer(writer);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
    guard
}
