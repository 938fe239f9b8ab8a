//! Image generation through a ComfyUI server.
//!
//! Per job: fill the chosen workflow template ([`workflow`]), open ComfyUI's socket
//! (`/ws?clientId=<id>`), queue the graph (`POST /prompt` with that `client_id`), follow the
//! socket's messages for the prompt (`execution_start`, `execution_cached`, `executing`,
//! `progress`, `executed`, `execution_success`, `execution_error`, `execution_interrupted`,
//! `status`) as job progress — binary preview frames become progress events with a preview —
//! then read the outputs (`GET /history/<prompt_id>`) and fetch the first image
//! (`GET /view?filename=&subfolder=&type=`). A job that is stopped (cancelled, lease lost,
//! timed out) or dropped interrupts its prompt (`POST /interrupt`, only once it started, so a
//! pending prompt never interrupts someone else's) and deletes it from ComfyUI's queue
//! (`POST /queue {"delete": [id]}`). HTTP calls retry like the OpenAI adapter's
//! ([`crate::retry`]). Text, audio and video jobs go to the fallback generator.

pub mod socket;
pub mod workflow;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use genonaut_domain::model::{ContentType, JobType, JsonObject, Progress};
use genonaut_domain::ports::{
    Artifact, GenerationControl, GenerationError, GenerationRequest, Generator, MediaFile, Output, Refusal,
};
use serde_json::{Value, json};

use crate::retry::{self, Retries};
use socket::Event;
pub use workflow::Workflows;

/// How often a running generation checks whether it should stop.
const STOP_CHECK: Duration = Duration::from_millis(100);
/// Fewest time between two stored previews of a job.
const PREVIEW_EVERY: Duration = Duration::from_secs(1);

/// Where ComfyUI is and how to talk to it.
#[derive(Debug, Clone)]
pub struct ComfyUiConfig {
    /// Base URL, e.g. `http://127.0.0.1:8188` (plain HTTP: the socket is `ws://`).
    pub url: String,
    /// Time limit of one HTTP request, and of opening the socket.
    pub timeout: Duration,
    /// Retries of HTTP requests on 429, 5xx and network errors.
    pub retries: Retries,
}

/// The ComfyUI generator.
pub struct ComfyUiGenerator {
    base: String,
    socket_base: String,
    timeout: Duration,
    retries: Retries,
    agent: ureq::Agent,
    workflows: Workflows,
    fallback: Arc<dyn Generator>,
}

impl ComfyUiGenerator {
    /// A generator for `config` with `workflows`, handing other job types than images to
    /// `fallback`. Refuses URLs that are not `http://`.
    pub fn new(
        config: ComfyUiConfig,
        workflows: Workflows,
        fallback: Arc<dyn Generator>,
    ) -> Result<Self, String> {
        let base = config.url.trim_end_matches('/').to_owned();
        let socket_base = base
            .strip_prefix("http://")
            .map(|rest| format!("ws://{rest}"))
            .ok_or_else(|| format!("COMFYUI_URL must start with http:// (got {base})"))?;
        Ok(ComfyUiGenerator {
            base,
            socket_base,
            timeout: config.timeout,
            retries: config.retries,
            agent: retry::agent(config.timeout),
            workflows,
            fallback,
        })
    }

    /// A call of `path` (retried per [`crate::retry`]).
    async fn call(
        &self,
        what: &str,
        control: &dyn GenerationControl,
        send: Arc<retry::Request>,
    ) -> Result<Vec<u8>, GenerationError> {
        retry::call(what, self.retries, control, send).await
    }

    async fn get_json(&self, path: &str, control: &dyn GenerationControl) -> Result<Value, GenerationError> {
        let (agent, url) = (self.agent.clone(), format!("{}{path}", self.base));
        let body = self
            .call(path, control, Arc::new(move || agent.get(&url).call()))
            .await?;
        serde_json::from_slice(&body)
            .map_err(|e| GenerationError::Transient(format!("unreadable answer from {path}: {e}")))
    }

    async fn image(
        &self,
        request: &GenerationRequest,
        control: &dyn GenerationControl,
    ) -> Result<Artifact, GenerationError> {
        let (name, template) = self
            .workflows
            .pick(&request.parameters)
            .map_err(|r| GenerationError::Permanent(r.message))?;
        let values = workflow::values(request);
        let graph = workflow::fill(template, &values);
        let client_id = client_id(request.job_id);
        // The socket first, so no message of the prompt is missed.
        let mut events = socket::open(
            format!("{}/ws?clientId={client_id}", self.socket_base),
            self.timeout,
        )
        .await
        .map_err(|e| GenerationError::Transient(format!("ComfyUI's websocket: {e}")))?;
        let body = json!({"prompt": graph, "client_id": client_id});
        let (agent, url) = (self.agent.clone(), format!("{}/prompt", self.base));
        let answer = self
            .call(
                "/prompt",
                control,
                Arc::new(move || agent.post(&url).send_json(&body)),
            )
            .await?;
        let answer: Value = serde_json::from_slice(&answer)
            .map_err(|e| GenerationError::Transient(format!("unreadable answer from /prompt: {e}")))?;
        let prompt_id = answer["prompt_id"]
            .as_str()
            .ok_or_else(|| {
                GenerationError::Transient(format!("/prompt answered without a prompt_id: {answer}"))
            })?
            .to_owned();
        let queued = Queued {
            agent: self.agent.clone(),
            base: self.base.clone(),
            prompt_id: prompt_id.clone(),
            started: AtomicBool::new(false),
            armed: AtomicBool::new(true),
        };
        let mut run = Run {
            control,
            queued: &queued,
            step: 0,
            total: 0,
            node: None,
            last_preview: None,
            queue_remaining: None,
        };
        run.follow(&mut events).await?;
        drop(events);
        queued.armed.store(false, Ordering::SeqCst);
        let history = self.get_json(&format!("/history/{prompt_id}"), control).await?;
        let entry = &history[prompt_id.as_str()];
        if entry["status"]["status_str"] == "error" {
            return Err(GenerationError::Permanent(format!(
                "ComfyUI reports an error for the prompt: {}",
                retry::snippet(entry["status"]["messages"].to_string().as_bytes())
            )));
        }
        let (filename, subfolder, kind) = first_image(&entry["outputs"]).ok_or_else(|| {
            GenerationError::Permanent(format!(
                "workflow {name} produced no image (does it end in a SaveImage node?)"
            ))
        })?;
        let agent = self.agent.clone();
        let url = format!("{}/view", self.base);
        let query = (filename.clone(), subfolder.clone(), kind.clone());
        let bytes = self
            .call(
                "/view",
                control,
                Arc::new(move || {
                    agent
                        .get(&url)
                        .query("filename", &query.0)
                        .query("subfolder", &query.1)
                        .query("type", &query.2)
                        .call()
                }),
            )
            .await?;
        let (extension, mime) = image_type(&bytes).ok_or_else(|| {
            GenerationError::Permanent(format!("{filename} is not a PNG, JPEG, WebP or GIF image"))
        })?;
        let mut metadata = JsonObject::new();
        metadata.insert("workflow".into(), json!(name));
        metadata.insert("prompt_id".into(), json!(prompt_id));
        metadata.insert("comfyui_file".into(), json!(filename));
        for key in ["seed", "width", "height", "steps", "negative_prompt"] {
            if let Some(v) = values.get(key) {
                metadata.insert(key.into(), v.clone());
            }
        }
        Ok(Artifact {
            content_type: ContentType::Image,
            output: Output::Media(MediaFile {
                bytes,
                extension,
                mime,
            }),
            metadata,
        })
    }
}

/// A client id unique per generation (ComfyUI sends the prompt's messages to it only).
fn client_id(job: i64) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("genonaut-{job}-{}-{nanos:x}", std::process::id())
}

/// The first image of a history entry's `outputs` (`{node: {"images": [{filename, subfolder,
/// type}]}}`), outputs (`type` `output`) before temporary ones.
fn first_image(outputs: &Value) -> Option<(String, String, String)> {
    let images: Vec<&Value> = outputs
        .as_object()?
        .values()
        .filter_map(|node| node["images"].as_array())
        .flatten()
        .collect();
    let pick = images
        .iter()
        .find(|i| i["type"] == "output")
        .or_else(|| images.first())?;
    Some((
        pick["filename"].as_str()?.to_owned(),
        pick["subfolder"].as_str().unwrap_or_default().to_owned(),
        pick["type"].as_str().unwrap_or("output").to_owned(),
    ))
}

/// Extension and MIME type of an image, from its first bytes.
fn image_type(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    if bytes.starts_with(b"\x89PNG") {
        Some(("png", "image/png"))
    } else if bytes.starts_with(&[0xFF, 0xD8]) {
        Some(("jpg", "image/jpeg"))
    } else if bytes.len() > 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some(("webp", "image/webp"))
    } else if bytes.starts_with(b"GIF8") {
        Some(("gif", "image/gif"))
    } else {
        None
    }
}

/// A queued prompt: unless disarmed (it finished), dropping it interrupts the prompt if it
/// started and deletes it from the queue, on a thread of its own (the generation may be
/// dropped by the runner before it could await anything).
struct Queued {
    agent: ureq::Agent,
    base: String,
    prompt_id: String,
    started: AtomicBool,
    armed: AtomicBool,
}

impl Drop for Queued {
    fn drop(&mut self) {
        if !self.armed.load(Ordering::SeqCst) {
            return;
        }
        let (agent, base, id) = (self.agent.clone(), self.base.clone(), self.prompt_id.clone());
        let started = self.started.load(Ordering::SeqCst);
        let spawned = std::thread::Builder::new()
            .name("comfyui-cancel".into())
            .spawn(move || {
                if started
                    && let Err(e) = agent
                        .post(format!("{base}/interrupt"))
                        .send_json(json!({"prompt_id": id}))
                {
                    tracing::warn!(prompt = %id, error = %e, "interrupting the ComfyUI prompt failed");
                }
                if let Err(e) = agent
                    .post(format!("{base}/queue"))
                    .send_json(json!({"delete": [id]}))
                {
                    tracing::warn!(prompt = %id, error = %e, "deleting the ComfyUI prompt failed");
                }
                tracing::info!(prompt = %id, started, "ComfyUI prompt stopped");
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot stop the ComfyUI prompt");
        }
    }
}

/// Following one prompt's messages.
struct Run<'a> {
    control: &'a dyn GenerationControl,
    queued: &'a Queued,
    step: u32,
    total: u32,
    node: Option<String>,
    last_preview: Option<Instant>,
    queue_remaining: Option<u64>,
}

/// What a message means for the prompt.
enum Next {
    Continue,
    Report(String),
    Done,
}

impl Run<'_> {
    async fn report(&self, message: String, preview: Option<String>) -> Result<(), GenerationError> {
        let progress = Progress {
            step: self.step,
            total: self.total,
            message: Some(message),
            preview,
        };
        if self.control.progress(progress).await {
            Ok(())
        } else {
            Err(GenerationError::Stopped)
        }
    }

    /// Until the prompt finished (`Ok`), failed, or the job should stop.
    async fn follow(
        &mut self,
        events: &mut tokio::sync::mpsc::Receiver<Event>,
    ) -> Result<(), GenerationError> {
        let mut tick = tokio::time::interval(STOP_CHECK);
        loop {
            let event = tokio::select! {
                event = events.recv() => event,
                _ = tick.tick() => {
                    if self.control.should_stop() {
                        return Err(GenerationError::Stopped);
                    }
                    continue;
                }
            };
            match event {
                None => return Err(GenerationError::Transient("ComfyUI's websocket closed".into())),
                Some(Event::Closed(reason)) => {
                    return Err(GenerationError::Transient(format!(
                        "ComfyUI's websocket: {reason}"
                    )));
                }
                Some(Event::Preview(image)) => {
                    let due = self.last_preview.is_none_or(|at| at.elapsed() >= PREVIEW_EVERY);
                    if self.queued.started.load(Ordering::SeqCst) && due {
                        self.last_preview = Some(Instant::now());
                        if let Some(url) = self.control.save_preview(&image).await {
                            self.report("preview".into(), Some(url)).await?;
                        }
                    }
                }
                Some(Event::Json(message)) => match self.on(&message)? {
                    Next::Continue => {}
                    Next::Report(text) => self.report(text, None).await?,
                    Next::Done => return Ok(()),
                },
            }
        }
    }

    fn on(&mut self, message: &Value) -> Result<Next, GenerationError> {
        let data = &message["data"];
        let kind = message["type"].as_str().unwrap_or_default();
        if kind == "status" {
            let remaining = data["status"]["exec_info"]["queue_remaining"].as_u64();
            if self.queued.started.load(Ordering::SeqCst) || remaining == self.queue_remaining {
                return Ok(Next::Continue);
            }
            self.queue_remaining = remaining;
            return Ok(match remaining {
                Some(n) if n > 0 => Next::Report(format!("queued on ComfyUI ({n} in its queue)")),
                _ => Next::Continue,
            });
        }
        // The socket's client id is this generation's own, so a message without a prompt id
        // (older ComfyUI versions send `progress` without one) is about this prompt too.
        if data["prompt_id"]
            .as_str()
            .is_some_and(|id| id != self.queued.prompt_id)
        {
            return Ok(Next::Continue);
        }
        let queued = self.queued;
        let finished = || queued.armed.store(false, Ordering::SeqCst);
        Ok(match kind {
            "execution_start" => {
                self.queued.started.store(true, Ordering::SeqCst);
                Next::Report("started on ComfyUI".into())
            }
            "execution_cached" => {
                let cached = data["nodes"].as_array().map_or(0, Vec::len);
                Next::Report(format!("{cached} nodes cached"))
            }
            "executing" => match data["node"].as_str() {
                Some(node) => {
                    self.queued.started.store(true, Ordering::SeqCst);
                    self.node = Some(node.to_owned());
                    Next::Report(format!("running node {node}"))
                }
                None => {
                    finished();
                    Next::Done
                }
            },
            "progress" => {
                self.step = data["value"]
                    .as_u64()
                    .map_or(0, |v| u32::try_from(v).unwrap_or(u32::MAX));
                self.total = data["max"]
                    .as_u64()
                    .map_or(0, |v| u32::try_from(v).unwrap_or(u32::MAX));
                let node = data["node"].as_str().or(self.node.as_deref()).unwrap_or("?");
                Next::Report(format!("node {node}: step {} of {}", self.step, self.total))
            }
            "execution_success" => {
                finished();
                Next::Done
            }
            "execution_error" => {
                finished();
                let text = |k: &str| data[k].as_str().unwrap_or("?").to_owned();
                return Err(GenerationError::Permanent(format!(
                    "ComfyUI failed in node {} ({}): {}: {}",
                    text("node_id"),
                    text("node_type"),
                    text("exception_type"),
                    text("exception_message")
                )));
            }
            "execution_interrupted" => {
                finished();
                return Err(GenerationError::Permanent(
                    "the prompt was interrupted on the ComfyUI server".into(),
                ));
            }
            _ => Next::Continue,
        })
    }
}

#[async_trait]
impl Generator for ComfyUiGenerator {
    fn name(&self) -> &str {
        "comfyui"
    }

    fn validate(&self, job_type: JobType, parameters: &JsonObject) -> Result<(), Refusal> {
        match job_type {
            JobType::Image => self.workflows.pick(parameters).map(drop),
            _ => self.fallback.validate(job_type, parameters),
        }
    }

    async fn generate(
        &self,
        request: &GenerationRequest,
        control: &dyn GenerationControl,
    ) -> Result<Artifact, GenerationError> {
        match request.job_type {
            JobType::Image => self.image(request, control).await,
            _ => self.fallback.generate(request, control).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_saved_image_is_the_output() {
        let outputs = json!({
            "8": {"images": [{"filename": "tmp.png", "subfolder": "", "type": "temp"}]},
            "9": {"images": [{"filename": "out.png", "subfolder": "a", "type": "output"}]}
        });
        assert_eq!(
            first_image(&outputs),
            Some(("out.png".into(), "a".into(), "output".into()))
        );
        assert_eq!(first_image(&json!({"9": {"text": ["x"]}})), None);
        assert_eq!(image_type(b"\x89PNG\r\n"), Some(("png", "image/png")));
        assert_eq!(image_type(b"RIFF\0\0\0\0WEBPVP8 "), Some(("webp", "image/webp")));
        assert_eq!(image_type(b"<html>"), None);
    }

    struct Quiet;

    #[async_trait]
    impl GenerationControl for Quiet {
        async fn progress(&self, _: Progress) -> bool {
            true
        }

        fn should_stop(&self) -> bool {
            false
        }
    }

    #[test]
    fn messages_of_the_prompt_drive_the_run() {
        let queued = Queued {
            agent: retry::agent(Duration::from_secs(1)),
            base: "http://127.0.0.1:9".into(),
            prompt_id: "p1".into(),
            started: AtomicBool::new(false),
            armed: AtomicBool::new(true),
        };
        let mut run = Run {
            control: &Quiet,
            queued: &queued,
            step: 0,
            total: 0,
            node: None,
            last_preview: None,
            queue_remaining: None,
        };
        let mut on = |m: Value| match run.on(&m) {
            Ok(Next::Continue) => "continue".to_owned(),
            Ok(Next::Report(text)) => text,
            Ok(Next::Done) => "done".to_owned(),
            Err(e) => format!("error: {e}"),
        };
        let other = json!({"type": "execution_start", "data": {"prompt_id": "p0"}});
        assert_eq!(on(other), "continue", "another prompt's message");
        let status = json!({"type": "status", "data": {"status": {"exec_info": {"queue_remaining": 2}}}});
        assert_eq!(on(status.clone()), "queued on ComfyUI (2 in its queue)");
        assert_eq!(on(status), "continue", "reported once");
        assert_eq!(
            on(json!({"type": "execution_start", "data": {"prompt_id": "p1"}})),
            "started on ComfyUI"
        );
        // Older servers send progress without a prompt id.
        assert_eq!(
            on(json!({"type": "progress", "data": {"value": 3, "max": 20}})),
            "node ?: step 3 of 20"
        );
        assert_eq!(
            on(
                json!({"type": "execution_error", "data": {"prompt_id": "p1", "node_id": "3",
                "node_type": "KSampler", "exception_type": "ValueError", "exception_message": "bad"}})
            ),
            "error: ComfyUI failed in node 3 (KSampler): ValueError: bad"
        );
        assert_eq!(
            on(json!({"type": "executing", "data": {"node": null, "prompt_id": "p1"}})),
            "done"
        );
        assert_eq!((run.step, run.total), (3, 20));
        assert!(queued.started.load(Ordering::SeqCst));
        assert!(
            !queued.armed.load(Ordering::SeqCst),
            "a finished prompt is not cancelled"
        );
    }

    #[test]
    fn only_plain_http_urls_are_accepted() {
        let config = |url: &str| ComfyUiConfig {
            url: url.into(),
            timeout: Duration::from_secs(1),
            retries: Retries {
                max_retries: 0,
                base: Duration::from_millis(1),
            },
        };
        let workflows = Workflows::new([(
            "default".to_owned(),
            json!({"1": {"class_type": "X", "inputs": {}}}),
        )])
        .unwrap();
        let fallback: Arc<dyn Generator> = Arc::new(crate::offline::NoopGenerator);
        let g = ComfyUiGenerator::new(config("http://h:8188/"), workflows.clone(), fallback.clone()).unwrap();
        assert_eq!(g.socket_base, "ws://h:8188");
        assert!(ComfyUiGenerator::new(config("https://h"), workflows, fallback).is_err());
    }
}
