//! A fake ComfyUI server speaking the part of its API the ComfyUI generator uses, written from
//! ComfyUI's documented routes: `POST /prompt` (`{"prompt": graph, "client_id": id}` →
//! `{"prompt_id", "number", "node_errors"}`), `GET /ws?clientId=` (JSON messages and binary
//! preview frames), `GET /history/{prompt_id}`, `GET /view?filename=&subfolder=&type=`,
//! `POST /interrupt` and `POST /queue` (`{"delete": [ids]}`). It records every request, so
//! tests can check what was called.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

/// A 1×1 PNG: what `/view` serves.
pub const IMAGE: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00,
    0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0, 0x1F, 0x00, 0x05,
    0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42,
    0x60, 0x82,
];

/// How the fake runs prompts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Runs `steps` sampler steps (a preview frame after the second) and saves an image.
    Succeed,
    /// Fails in the sampler after its first step (`execution_error`).
    Fail,
    /// Starts, reports one step, then waits until interrupted.
    Hang,
}

#[derive(Default)]
struct State {
    log: Vec<String>,
    prompts: Vec<Value>,
    sessions: HashMap<String, actix_ws::Session>,
    history: HashMap<String, Value>,
    interrupted: bool,
    fail_prompts: u32,
}

/// A running fake ComfyUI.
pub struct FakeComfy {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    state: Arc<Mutex<State>>,
    handle: ServerHandle,
}

struct Shared {
    state: Arc<Mutex<State>>,
    behaviour: Behaviour,
    steps: u32,
}

impl FakeComfy {
    /// Starts on a free port (on the current actix runtime); the first `fail_prompts`
    /// `POST /prompt` answer 500.
    #[expect(clippy::expect_used, reason = "test fixture: failures must be loud")]
    pub fn start(behaviour: Behaviour, fail_prompts: u32) -> FakeComfy {
        let state = Arc::new(Mutex::new(State {
            fail_prompts,
            ..State::default()
        }));
        let shared = web::Data::new(Shared {
            state: state.clone(),
            behaviour,
            steps: 4,
        });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(shared.clone())
                .route("/prompt", web::post().to(prompt))
                .route("/ws", web::get().to(socket))
                .route("/history/{id}", web::get().to(history))
                .route("/view", web::get().to(view))
                .route("/interrupt", web::post().to(interrupt))
                .route("/queue", web::post().to(queue))
        })
        .workers(1)
        .disable_signals()
        .bind(("127.0.0.1", 0))
        .expect("the fake ComfyUI binds");
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        FakeComfy {
            url: format!("http://127.0.0.1:{port}"),
            state,
            handle,
        }
    }

    /// Every request so far, as `METHOD /path[?query] [body]`.
    pub fn log(&self) -> Vec<String> {
        self.state.lock().map(|s| s.log.clone()).unwrap_or_default()
    }

    /// The graphs queued so far.
    pub fn prompts(&self) -> Vec<Value> {
        self.state.lock().map(|s| s.prompts.clone()).unwrap_or_default()
    }

    /// Waits (up to 30 s) until a logged request starts with `prefix`.
    pub async fn called(&self, prefix: &str) -> bool {
        for _ in 0..600 {
            if self.log().iter().any(|l| l.starts_with(prefix)) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }
}

impl Drop for FakeComfy {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// A JSON body on one line (as sent if not JSON).
fn compact(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .map_or_else(|_| String::from_utf8_lossy(body).into_owned(), |v| v.to_string())
}

fn record(shared: &Shared, line: String) {
    if let Ok(mut s) = shared.state.lock() {
        s.log.push(line);
    }
}

async fn socket(
    req: HttpRequest,
    body: web::Payload,
    shared: web::Data<Shared>,
) -> actix_web::Result<HttpResponse> {
    let client = web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.get("clientId").cloned())
        .unwrap_or_default();
    record(&shared, format!("GET /ws?clientId={client}"));
    let (response, mut session, mut incoming) = actix_ws::handle(&req, body)?;
    let status =
        json!({"type": "status", "data": {"status": {"exec_info": {"queue_remaining": 0}}, "sid": client}});
    let _ = session.text(status.to_string()).await;
    if let Ok(mut s) = shared.state.lock() {
        s.sessions.insert(client, session);
    }
    actix_web::rt::spawn(async move { while let Some(Ok(_)) = incoming.recv().await {} });
    Ok(response)
}

async fn prompt(body: web::Json<Value>, shared: web::Data<Shared>) -> HttpResponse {
    let client = body["client_id"].as_str().unwrap_or_default().to_owned();
    let (number, session) = {
        let Ok(mut s) = shared.state.lock() else {
            return HttpResponse::InternalServerError().finish();
        };
        s.log.push("POST /prompt".into());
        if s.fail_prompts > 0 {
            s.fail_prompts -= 1;
            return HttpResponse::InternalServerError().body("busy");
        }
        s.prompts.push(body["prompt"].clone());
        (s.prompts.len(), s.sessions.get(&client).cloned())
    };
    if body["prompt"].as_object().is_none_or(serde_json::Map::is_empty) {
        return HttpResponse::BadRequest()
            .json(json!({"error": {"type": "prompt_no_outputs", "message": "Prompt has no outputs"}, "node_errors": {}}));
    }
    let id = format!("prompt-{number}");
    if let Some(session) = session {
        actix_web::rt::spawn(run(shared.into_inner(), id.clone(), session));
    }
    HttpResponse::Ok().json(json!({"prompt_id": id, "number": number, "node_errors": {}}))
}

async fn say(session: &mut actix_ws::Session, kind: &str, data: Value) {
    let _ = session
        .text(json!({"type": kind, "data": data}).to_string())
        .await;
}

/// Plays one prompt's execution on its client's socket.
async fn run(shared: Arc<Shared>, id: String, mut session: actix_ws::Session) {
    say(
        &mut session,
        "status",
        json!({"status": {"exec_info": {"queue_remaining": 1}}}),
    )
    .await;
    say(
        &mut session,
        "execution_start",
        json!({"prompt_id": id, "timestamp": 1}),
    )
    .await;
    say(
        &mut session,
        "execution_cached",
        json!({"nodes": ["4"], "prompt_id": id, "timestamp": 1}),
    )
    .await;
    say(
        &mut session,
        "executing",
        json!({"node": "3", "display_node": "3", "prompt_id": id}),
    )
    .await;
    let max = shared.steps;
    for value in 1..=max {
        say(
            &mut session,
            "progress",
            json!({"value": value, "max": max, "prompt_id": id, "node": "3"}),
        )
        .await;
        match shared.behaviour {
            Behaviour::Fail => {
                say(
                    &mut session,
                    "execution_error",
                    json!({"prompt_id": id, "node_id": "3", "node_type": "KSampler",
                    "exception_type": "torch.OutOfMemoryError", "exception_message": "CUDA out of memory",
                    "traceback": [], "executed": ["4"]}),
                )
                .await;
                return;
            }
            Behaviour::Hang => {
                for _ in 0..600 {
                    if shared.state.lock().is_ok_and(|s| s.interrupted) {
                        say(
                            &mut session,
                            "execution_interrupted",
                            json!({"prompt_id": id, "node_id": "3", "node_type": "KSampler", "executed": []}),
                        )
                        .await;
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                return;
            }
            Behaviour::Succeed if value == 2 => {
                let mut frame = vec![0, 0, 0, 1, 0, 0, 0, 2];
                frame.extend_from_slice(IMAGE);
                let _ = session.binary(frame).await;
            }
            Behaviour::Succeed => {}
        }
    }
    let images = json!({"images": [{"filename": "genonaut_00001_.png", "subfolder": "", "type": "output"}]});
    if let Ok(mut s) = shared.state.lock() {
        s.history.insert(
            id.clone(),
            json!({"prompt": [], "outputs": {"9": images},
                   "status": {"status_str": "success", "completed": true, "messages": []}}),
        );
    }
    say(
        &mut session,
        "executing",
        json!({"node": "9", "display_node": "9", "prompt_id": id}),
    )
    .await;
    say(
        &mut session,
        "executed",
        json!({"node": "9", "display_node": "9", "output": images, "prompt_id": id}),
    )
    .await;
    say(
        &mut session,
        "execution_success",
        json!({"prompt_id": id, "timestamp": 2}),
    )
    .await;
    say(&mut session, "executing", json!({"node": null, "prompt_id": id})).await;
}

async fn history(path: web::Path<String>, shared: web::Data<Shared>) -> HttpResponse {
    record(&shared, format!("GET /history/{path}"));
    let entry = shared
        .state
        .lock()
        .ok()
        .and_then(|s| s.history.get(path.as_str()).cloned());
    HttpResponse::Ok().json(match entry {
        Some(entry) => json!({path.as_str(): entry}),
        None => json!({}),
    })
}

async fn view(req: HttpRequest, shared: web::Data<Shared>) -> HttpResponse {
    record(&shared, format!("GET /view?{}", req.query_string()));
    if req.query_string().contains("filename=genonaut_00001_.png") {
        HttpResponse::Ok().content_type("image/png").body(IMAGE)
    } else {
        HttpResponse::NotFound().finish()
    }
}

async fn interrupt(body: web::Bytes, shared: web::Data<Shared>) -> HttpResponse {
    record(&shared, format!("POST /interrupt {}", compact(&body)));
    if let Ok(mut s) = shared.state.lock() {
        s.interrupted = true;
    }
    HttpResponse::Ok().finish()
}

async fn queue(body: web::Bytes, shared: web::Data<Shared>) -> HttpResponse {
    record(&shared, format!("POST /queue {}", compact(&body)));
    HttpResponse::Ok().finish()
}
