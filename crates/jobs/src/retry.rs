//! The HTTP calls of the network generators (OpenAI-compatible, ComfyUI), with one retry rule:
//! network errors, 429 and 5xx are retried up to `max_retries` times with a doubling delay
//! (`Retry-After`, at most 60 s, wins); other answers are final. What is still failing after
//! the retries is a [`GenerationError::Transient`] (the job retries later, with backoff); any
//! other non-2xx answer is [`GenerationError::Permanent`]. A job told to stop stops between
//! attempts and during the pauses.

use std::sync::Arc;
use std::time::Duration;

use genonaut_domain::ports::{GenerationControl, GenerationError};

/// How often and how patiently a request is retried.
#[derive(Debug, Clone, Copy)]
pub struct Retries {
    /// Retries of one request on 429, 5xx and network errors.
    pub max_retries: u32,
    /// First backoff between retries (doubles each time; `Retry-After` wins).
    pub base: Duration,
}

/// Largest answer body read (bytes).
const BODY_LIMIT: u64 = 64 * 1024 * 1024;

/// One HTTP request, sent on the blocking pool (it may be sent several times).
pub(crate) type Request = dyn Fn() -> Result<ureq::http::Response<ureq::Body>, ureq::Error> + Send + Sync;

/// The first characters of an answer, for error messages.
pub(crate) fn snippet(text: &[u8]) -> String {
    String::from_utf8_lossy(text).chars().take(200).collect()
}

/// Sends the request `send` makes until it answers 2xx (its body) or the rule above gives
/// up; `what` names it in messages. Stops between attempts when `control` says so.
pub(crate) async fn call(
    what: &str,
    retries: Retries,
    control: &dyn GenerationControl,
    send: Arc<Request>,
) -> Result<Vec<u8>, GenerationError> {
    let mut delay = retries.base;
    for attempt in 0..=retries.max_retries {
        if control.should_stop() {
            return Err(GenerationError::Stopped);
        }
        let send = send.clone();
        let call = tokio::task::spawn_blocking(move || {
            let mut response = send()?;
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let body = response
                .body_mut()
                .with_config()
                .limit(BODY_LIMIT)
                .read_to_vec()?;
            Ok::<_, ureq::Error>((status, retry_after, body))
        });
        let outcome = match call.await {
            Ok(r) => r,
            Err(e) => return Err(GenerationError::Transient(format!("request task failed: {e}"))),
        };
        let retryable = match outcome {
            Ok((status, _, body)) if (200..300).contains(&status) => return Ok(body),
            Ok((status, retry_after, body)) if status == 429 || status >= 500 => {
                if let Some(secs) = retry_after {
                    delay = Duration::from_secs(secs.min(60));
                }
                format!("{what} answered {status}: {}", snippet(&body))
            }
            Ok((status, _, body)) => {
                return Err(GenerationError::Permanent(format!(
                    "{what} answered {status}: {}",
                    snippet(&body)
                )));
            }
            Err(e) => format!("{what} failed: {e}"),
        };
        if attempt == retries.max_retries {
            return Err(GenerationError::Transient(retryable));
        }
        tracing::warn!(%retryable, attempt, "retrying the generation request");
        pause(delay, control).await?;
        delay = delay.saturating_mul(2);
    }
    Err(GenerationError::Transient(format!("{what}: retries exhausted")))
}

/// Sleeps `delay`, unless the job should stop meanwhile (looked at every 100 ms).
async fn pause(delay: Duration, control: &dyn GenerationControl) -> Result<(), GenerationError> {
    let until = tokio::time::Instant::now() + delay;
    loop {
        let now = tokio::time::Instant::now();
        if now >= until {
            return Ok(());
        }
        if control.should_stop() {
            return Err(GenerationError::Stopped);
        }
        tokio::time::sleep((until - now).min(Duration::from_millis(100))).await;
    }
}

/// A ureq agent with `timeout` per request that hands every status to [`call`].
pub(crate) fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .build()
        .into()
}
