//! Logging: the only place a tracing subscriber is installed.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields, MakeWriter};
use tracing_subscriber::layer::{Layer, Layered, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Registry};

use crate::config::LogFormat;

/// How long a line may wait in memory before it is written.
const FLUSH_EVERY: Duration = Duration::from_millis(50);
/// Buffered bytes that wake the writer thread early.
const WAKE_AT: usize = 64 * 1024;
/// Buffered bytes at which logging waits for the writer (stdout blocked): lines are never dropped.
const WAIT_AT: usize = 4 * 1024 * 1024;

/// Installs the global subscriber: `RUST_LOG` filters (default `info`), `LOG_FORMAT` picks
/// text or JSON lines. Keep the returned guard until exit: dropping it writes the last lines.
pub fn init(format: LogFormat) -> std::io::Result<LogGuard> {
    let (writer, guard) = batched(std::io::stdout())?;
    // Colours only on a terminal; logs collected from pipes stay plain text.
    let colours = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let lines = tracing_subscriber::fmt::layer()
        .with_timer(UtcMicros)
        .with_target(false)
        .with_ansi(colours);
    let lines: Box<dyn Layer<Filtered> + Send + Sync> = match format {
        LogFormat::Json => lines.json().flatten_event(true).with_writer(writer).boxed(),
        LogFormat::Text if colours => lines.with_writer(writer).boxed(),
        // Plain text: the same `name=value` fields, written without the styling machinery
        // that the default field formatter runs even with colours off (half the cost of an
        // access line under callgrind).
        LogFormat::Text => lines
            .fmt_fields(plain_fields())
            .event_format(PlainLine(UtcMicros))
            .with_writer(writer)
            .boxed(),
    };
    let directives = std::env::var("RUST_LOG").unwrap_or_default();
    let _ = tracing_subscriber::registry()
        .with(filter(&directives))
        .with(lines)
        .try_init();
    Ok(guard)
}

/// The registry under its level filter: what the line-writing layer sits on.
type Filtered = Layered<Box<dyn Layer<Registry> + Send + Sync>, Registry>;

/// The filter `RUST_LOG` asks for (blank: `info`). Directives of targets and levels — what nearly
/// every setting is — become a [`Targets`] filter, which does nothing when a span is entered or
/// left; an [`EnvFilter`] (needed for `[span{field=…}]` directives) takes a lock and hashes the
/// span's id each time, several times per request, since every request runs in a span. An
/// invalid setting falls back to `info`, as before.
fn filter(directives: &str) -> Box<dyn Layer<Registry> + Send + Sync> {
    let directives = match directives.trim() {
        "" => "info",
        set => set,
    };
    // `Targets` would read `[span]` as a target's name.
    match directives.parse::<Targets>() {
        Ok(targets) if !directives.contains('[') => targets.boxed(),
        _ => EnvFilter::try_new(directives)
            .unwrap_or_else(|_| EnvFilter::new("info"))
            .boxed(),
    }
}

/// The default text line without colours — `time LEVEL span{fields}:span{fields}: message
/// name=value …` — written directly: the default formatter runs its styling (bold span names,
/// dimmed separators) even with colours off, and every request's access line carries the
/// request span, so that is paid on every request.
struct PlainLine<T>(T);

impl<S, N, T> FormatEvent<S, N> for PlainLine<T>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    T: FormatTime,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        if self.0.format_time(&mut writer).is_err() {
            writer.write_str("<unknown time>")?;
        }
        writer.write_str(match *event.metadata().level() {
            tracing::Level::TRACE => " TRACE ",
            tracing::Level::DEBUG => " DEBUG ",
            tracing::Level::INFO => "  INFO ",
            tracing::Level::WARN => "  WARN ",
            tracing::Level::ERROR => " ERROR ",
        })?;
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                writer.write_str(span.metadata().name())?;
                if let Some(fields) = span.extensions().get::<FormattedFields<N>>()
                    && !fields.is_empty()
                {
                    writer.write_char('{')?;
                    writer.write_str(&fields.fields)?;
                    writer.write_char('}')?;
                }
                writer.write_char(':')?;
            }
            writer.write_char(' ')?;
        }
        ctx.format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// `message name=value name=value …`, as the default formatter prints without colours.
fn plain_fields() -> impl for<'w> tracing_subscriber::fmt::FormatFields<'w> + Send + Sync + 'static {
    use tracing_subscriber::field::MakeExt;
    tracing_subscriber::fmt::format::debug_fn(|writer, field, value| {
        if field.name() != "message" {
            writer.write_str(field.name())?;
            writer.write_char('=')?;
        }
        write!(writer, "{value:?}")
    })
    .delimited(" ")
}

/// The default formatter's timestamp (`2026-11-26T21:03:15.168803Z`), with the part up to the
/// second formatted once per second per thread instead of on every line.
pub struct UtcMicros;

impl UtcMicros {
    fn write(now: std::time::SystemTime, w: &mut impl std::fmt::Write) -> std::fmt::Result {
        use std::cell::RefCell;
        thread_local! {
            static SECOND: RefCell<(i64, String)> = const { RefCell::new((i64::MIN, String::new())) };
        }
        let since = now.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let (secs, micros) = (since.as_secs() as i64, since.subsec_micros());
        SECOND.with_borrow_mut(|(second, text)| {
            if *second != secs {
                let at = chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default();
                *text = at.format("%Y-%m-%dT%H:%M:%S").to_string();
                *second = secs;
            }
            w.write_str(text)?;
            let mut digits = *b".000000Z";
            let mut rest = micros;
            for place in (1..=6).rev() {
                digits[place] = b'0' + (rest % 10) as u8;
                rest /= 10;
            }
            w.write_str(std::str::from_utf8(&digits).unwrap_or(".000000Z"))
        })
    }
}

impl tracing_subscriber::fmt::time::FormatTime for UtcMicros {
    fn format_time(&self, w: &mut tracing_subscriber::fmt::format::Writer<'_>) -> std::fmt::Result {
        UtcMicros::write(std::time::SystemTime::now(), w)
    }
}

/// Log lines collected in memory and written by one background thread every
/// [`FLUSH_EVERY`] (or sooner once [`WAKE_AT`] bytes wait).
///
/// Why not `tracing_appender::non_blocking`: it hands every line to its thread through a
/// channel, which wakes that thread and costs one `write` per line; with an access line per
/// request that was ~13 % of the server's throughput under load (docs/performance.md). Here a
/// request thread only appends to a buffer; the writer makes a few system calls a second.
#[derive(Clone)]
pub struct Batched(Arc<Shared>);

struct Shared {
    buffer: Mutex<Vec<u8>>,
    /// Wakes the writer thread (early flush or shutdown).
    wake: Condvar,
    /// Wakes loggers waiting for room (see [`WAIT_AT`]).
    drained: Condvar,
    closed: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Vec<u8>> {
        // A panic while holding the lock leaves a valid Vec: keep logging.
        self.buffer.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Writes what is still buffered and stops the writer thread when dropped.
pub struct LogGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::Release);
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A batching writer over `out` and the guard that flushes it.
pub fn batched<W: Write + Send + 'static>(mut out: W) -> std::io::Result<(Batched, LogGuard)> {
    let shared = Arc::new(Shared {
        buffer: Mutex::new(Vec::with_capacity(WAKE_AT)),
        wake: Condvar::new(),
        drained: Condvar::new(),
        closed: AtomicBool::new(false),
    });
    let writer = shared.clone();
    let thread = std::thread::Builder::new()
        .name("log-writer".into())
        .spawn(move || {
            let mut batch = Vec::with_capacity(WAKE_AT);
            loop {
                let mut buffer = writer.lock();
                if buffer.is_empty() && !writer.closed.load(Ordering::Acquire) {
                    buffer = writer
                        .wake
                        .wait_timeout(buffer, FLUSH_EVERY)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
                std::mem::swap(&mut *buffer, &mut batch);
                let closing = writer.closed.load(Ordering::Acquire);
                drop(buffer);
                writer.drained.notify_all();
                if !batch.is_empty() {
                    // Nowhere to report a failing stdout; the lines are dropped, logging goes on.
                    let _ = out.write_all(&batch).and_then(|()| out.flush());
                    batch.clear();
                } else if closing {
                    return;
                }
            }
        })?;
    let guard = LogGuard {
        shared: shared.clone(),
        thread: Some(thread),
    };
    Ok((Batched(shared), guard))
}

impl Write for Batched {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let mut buffer = self.0.lock();
        while buffer.len() >= WAIT_AT && !self.0.closed.load(Ordering::Acquire) {
            self.0.wake.notify_one();
            buffer = self
                .0
                .drained
                .wait(buffer)
                .unwrap_or_else(PoisonError::into_inner);
        }
        buffer.extend_from_slice(line);
        if buffer.len() >= WAKE_AT {
            self.0.wake.notify_one();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Batched {
    type Writer = Batched;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer whose bytes the test can read afterwards.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn timestamps_are_what_the_default_timer_prints() {
        use std::time::{Duration, UNIX_EPOCH};
        use tracing_subscriber::fmt::format::Writer;
        use tracing_subscriber::fmt::time::FormatTime;
        // The default timer only formats "now": ours must read the same second as it does just
        // before or just after.
        let theirs = || {
            let mut out = String::new();
            tracing_subscriber::fmt::time::SystemTime
                .format_time(&mut Writer::new(&mut out))
                .unwrap();
            out
        };
        for _ in 0..3 {
            let before = theirs();
            let mut ours = String::new();
            UtcMicros.format_time(&mut Writer::new(&mut ours)).unwrap();
            let after = theirs();
            assert_eq!(ours.len(), before.len(), "{ours} / {before}");
            assert!(
                ours[..19] == before[..19] || ours[..19] == after[..19],
                "{before} <= {ours} <= {after}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        // Fixed instants, including a second boundary on the same thread.
        for (secs, micros, text) in [
            (0, 0, "1970-01-01T00:00:00.000000Z"),
            (1_789_123_456, 5, "2026-09-11T10:44:16.000005Z"),
            (1_789_123_456, 999_999, "2026-09-11T10:44:16.999999Z"),
            (1_789_123_457, 120_000, "2026-09-11T10:44:17.120000Z"),
            (951_782_400, 1, "2000-02-29T00:00:00.000001Z"),
        ] {
            let at = UNIX_EPOCH + Duration::new(secs, micros * 1_000);
            let mut out = String::new();
            UtcMicros::write(at, &mut out).unwrap();
            assert_eq!(out, text);
        }
    }

    /// `RUST_LOG` means what it meant with `EnvFilter` alone: targets and levels (a `Targets`
    /// filter), span directives (an `EnvFilter`), blank or invalid (`info`).
    #[test]
    fn the_filter_keeps_what_rust_log_means() {
        let logged = |directives: &str| {
            let sink = Sink::default();
            let out = sink.clone();
            let lines = tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_target(false)
                .without_time()
                .with_writer(move || out.clone());
            let subscriber = tracing_subscriber::registry()
                .with(filter(directives))
                .with(lines);
            tracing::subscriber::with_default(subscriber, || {
                tracing::debug!(target: "genonaut::jobs", "jobs-debug");
                tracing::info!(target: "genonaut::access", "access-info");
                tracing::info!(target: "actix_server", "actix-info");
                tracing::warn!(target: "actix_server", "actix-warn");
                tracing::info_span!("request", id = 7).in_scope(|| {
                    tracing::debug!(target: "genonaut::db", "in-span-debug");
                });
            });
            let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
            [
                "jobs-debug",
                "access-info",
                "actix-info",
                "actix-warn",
                "in-span-debug",
            ]
            .into_iter()
            .filter(|m| text.contains(m))
            .collect::<Vec<_>>()
        };
        let default = vec!["access-info", "actix-info", "actix-warn"];
        assert_eq!(logged(""), default);
        assert_eq!(logged("info"), default);
        assert_eq!(logged("no such level=="), default);
        assert_eq!(
            logged("warn,genonaut=debug"),
            vec!["jobs-debug", "access-info", "actix-warn", "in-span-debug"]
        );
        assert_eq!(logged("genonaut::access=off,warn"), vec!["actix-warn"]);
        // A span directive: only an EnvFilter understands it.
        assert_eq!(
            logged("info,[request]=debug"),
            [default.clone(), vec!["in-span-debug"]].concat()
        );
    }

    /// Lines in and out of spans, at each level, are the default formatter's without colours.
    #[test]
    fn plain_lines_are_what_the_default_formatter_prints_without_colours() {
        struct Fixed;
        impl FormatTime for Fixed {
            fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
                w.write_str("2026-12-06T23:00:14.961933Z")
            }
        }
        let lines = |plain: bool| {
            let sink = Sink::default();
            let out = sink.clone();
            let builder = tracing_subscriber::fmt()
                .with_ansi(false)
                .with_timer(Fixed)
                .with_target(false)
                .with_max_level(tracing::Level::TRACE)
                .fmt_fields(plain_fields())
                .with_writer(move || out.clone());
            let events = || {
                tracing::info!(answer = 42, "outside");
                let request = tracing::info_span!("request", id = %"7b83-01", method = %"GET", key = tracing::field::Empty);
                request.in_scope(|| {
                    tracing::warn!(route = "/api/v1/content/{id}", status = 503_u16, "request");
                    tracing::info_span!("quiet").in_scope(|| {
                        tracing::error!("nested");
                        tracing::debug!(n = 1, "nested debug");
                        tracing::trace!("nested trace");
                    });
                });
                request.record("key", tracing::field::display("gnt_ab12"));
                request.in_scope(|| tracing::info!("after the key"));
            };
            if plain {
                tracing::subscriber::with_default(builder.event_format(PlainLine(Fixed)).finish(), events);
            } else {
                tracing::subscriber::with_default(builder.finish(), events);
            }
            String::from_utf8(sink.0.lock().unwrap().clone()).unwrap()
        };
        let plain = lines(true);
        assert_eq!(plain, lines(false));
        assert_eq!(plain.lines().count(), 6, "{plain}");
        assert!(
            plain.contains(
                "Z  WARN request{id=7b83-01 method=GET}: request route=\"/api/v1/content/{id}\" status=503\n"
            ),
            "{plain}"
        );
        assert!(
            plain.contains("Z ERROR request{id=7b83-01 method=GET}:quiet: nested\n"),
            "{plain}"
        );
        assert!(plain.contains("key=gnt_ab12}: after the key"), "{plain}");
    }

    #[test]
    fn plain_fields_print_what_the_default_formatter_prints_without_colours() {
        let line = |plain: bool| {
            let sink = Sink::default();
            let out = sink.clone();
            let builder = tracing_subscriber::fmt()
                .with_ansi(false)
                .without_time()
                .with_target(false)
                .with_writer(move || out.clone());
            let event = || {
                let key: Option<&str> = None;
                let id = "7b83-01";
                tracing::info!(request_id = %id, method = "POST", status = 201_u16, ms = 0.25, key, "request");
            };
            if plain {
                tracing::subscriber::with_default(builder.fmt_fields(plain_fields()).finish(), event);
            } else {
                tracing::subscriber::with_default(builder.finish(), event);
            }
            String::from_utf8(sink.0.lock().unwrap().clone()).unwrap()
        };
        let plain = line(true);
        assert_eq!(plain, line(false));
        assert_eq!(
            plain.trim(),
            r#"INFO request request_id=7b83-01 method="POST" status=201 ms=0.25"#
        );
    }

    #[test]
    fn every_line_is_written_in_order_by_the_time_the_guard_is_dropped() {
        let sink = Sink::default();
        let (writer, guard) = batched(sink.clone()).unwrap();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let mut w = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..20_000 {
                        w.write_all(format!("t{t} line {i}\n").as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        drop(guard);
        let out = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert_eq!(out.lines().count(), 80_000);
        for t in 0..4 {
            let prefix = format!("t{t} line ");
            let seen: Vec<usize> = out
                .lines()
                .filter_map(|l| l.strip_prefix(&prefix))
                .map(|n| n.parse().unwrap())
                .collect();
            assert_eq!(
                seen,
                (0..20_000).collect::<Vec<_>>(),
                "thread {t} out of order or lost lines"
            );
        }
    }

    #[test]
    fn a_quiet_logger_is_still_written_within_the_flush_interval() {
        let sink = Sink::default();
        let (mut writer, _guard) = batched(sink.clone()).unwrap();
        writer.write_all(b"one line\n").unwrap();
        std::thread::sleep(FLUSH_EVERY * 4);
        assert_eq!(&*sink.0.lock().unwrap(), b"one line\n");
    }
}
