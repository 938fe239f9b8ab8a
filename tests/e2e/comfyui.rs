//! The ComfyUI generator end to end: the real app and runner over PostgreSQL, against the fake
//! ComfyUI of `genonaut_tests::comfyui`.

use std::path::PathBuf;
use std::time::Duration;

use genonaut::config::GeneratorKind;
use genonaut_tests::comfyui::{Behaviour, FakeComfy, IMAGE};
use genonaut_tests::{TestApp, Tweak};
use serde_json::{Value, json};

fn comfy(fake: &FakeComfy, max_retries: u32) -> Tweak {
    let url = fake.url.clone();
    Box::new(move |c| {
        c.jobs.workers = 1;
        c.jobs.generator = GeneratorKind::Comfyui;
        c.jobs.comfyui.url = url;
        c.jobs.comfyui.workflows = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/comfyui"));
        c.jobs.comfyui.max_retries = max_retries;
    })
}

#[expect(clippy::unwrap_used, reason = "test helper: failures must be loud")]
async fn submit(app: &TestApp, parameters: Value) -> i64 {
    let user = app.user("painter").await;
    let job = app
        .post(
            "/api/v1/generation-jobs",
            json!({"user_id": user, "job_type": "image", "prompt": "a lighthouse at dusk", "parameters": parameters}),
        )
        .await
        .expect(201);
    job["id"].as_i64().unwrap()
}

/// The job's whole feed (replayed from the start), until its final event.
async fn feed(app: &TestApp, id: i64) -> Vec<Value> {
    let (messages, close) = app.watch(id, "?since=0").await;
    assert_eq!(close, Some(1000), "closed after the final event: {messages:?}");
    messages
}

#[actix_web::test]
async fn an_image_is_generated_with_progress_and_a_preview() {
    let fake = FakeComfy::start(Behaviour::Succeed, 0);
    let app = TestApp::spawn_with(comfy(&fake, 0)).await;
    let id = submit(
        &app,
        json!({"seed": 7, "width": 640, "height": 480, "steps": 4, "negative_prompt": "blurry"}),
    )
    .await;
    let messages = feed(&app, id).await;
    let last = messages.last().unwrap();
    assert_eq!(last["type"], json!("completed"), "{messages:?}");

    // ComfyUI's messages became progress events: the sampler's steps, and a preview.
    let progress: Vec<&Value> = messages.iter().filter(|m| m["type"] == "progress").collect();
    assert!(
        progress.iter().any(|m| m["step"] == json!(4)
            && m["total"] == json!(4)
            && m["message"] == json!("node 3: step 4 of 4")),
        "{progress:?}"
    );
    assert!(
        progress
            .iter()
            .any(|m| m["message"] == json!("started on ComfyUI"))
    );
    let preview = progress
        .iter()
        .find(|m| m["preview"].is_string())
        .unwrap_or_else(|| panic!("a progress event with a preview: {progress:?}"));
    let path = preview["preview"].as_str().unwrap();
    assert!(path.starts_with("/media/preview-"), "{path}");
    assert!(
        preview["preview_url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{path}?expires=")),
        "a signed URL for browsers: {preview}"
    );
    assert!(progress.iter().filter(|m| m["preview"].is_string()).count() == 1);

    // The template was filled from the job.
    let graph = &fake.prompts()[0];
    assert_eq!(graph["6"]["inputs"]["text"], json!("a lighthouse at dusk"));
    assert_eq!(graph["7"]["inputs"]["text"], json!("blurry"));
    assert_eq!(graph["3"]["inputs"]["seed"], json!(7));
    assert_eq!(graph["3"]["inputs"]["steps"], json!(4));
    assert_eq!(
        (
            graph["5"]["inputs"]["width"].clone(),
            graph["5"]["inputs"]["height"].clone()
        ),
        (json!(640), json!(480))
    );
    assert_eq!(graph["3"]["inputs"]["model"], json!(["4", 0]), "links are kept");

    // The image was fetched through /history and /view and stored as the item's media.
    let log = fake.log();
    assert!(
        log.iter().any(|l| l.starts_with("GET /ws?clientId=genonaut-")),
        "{log:?}"
    );
    assert!(log.contains(&"GET /history/prompt-1".to_owned()), "{log:?}");
    assert!(
        log.iter()
            .any(|l| l.starts_with("GET /view?filename=genonaut_00001_.png")),
        "{log:?}"
    );
    assert!(
        !log.iter().any(|l| l.starts_with("POST /interrupt")),
        "a finished prompt is not interrupted: {log:?}"
    );
    let content_id = last["result_content_id"].as_i64().unwrap();
    let item = app
        .get(&format!("/api/v1/content/{content_id}"))
        .await
        .expect(200);
    assert_eq!(item["content_type"], json!("image"));
    assert_eq!(item["item_metadata"]["generator"], json!("comfyui"));
    assert_eq!(item["item_metadata"]["workflow"], json!("default"));
    let media = std::env::temp_dir().join("genonaut-tests-media");
    let stored = item["content_data"]
        .as_str()
        .unwrap()
        .strip_prefix("/media/")
        .unwrap();
    assert_eq!(std::fs::read(media.join(stored)).unwrap(), IMAGE);
    // Previews live as long as the attempt.
    let preview_file = path.strip_prefix("/media/").unwrap();
    assert!(
        !media.join(preview_file).exists(),
        "{preview_file} removed when the job ended"
    );
}

#[actix_web::test]
async fn an_execution_error_fails_the_job() {
    let fake = FakeComfy::start(Behaviour::Fail, 0);
    let app = TestApp::spawn_with(comfy(&fake, 0)).await;
    let id = submit(&app, json!({})).await;
    let messages = feed(&app, id).await;
    let last = messages.last().unwrap();
    assert_eq!(last["type"], json!("failed"), "{messages:?}");
    let job = app
        .get(&format!("/api/v1/generation-jobs/{id}"))
        .await
        .expect(200);
    assert_eq!(job["status"], json!("failed"));
    assert_eq!(
        job["error_message"],
        json!("ComfyUI failed in node 3 (KSampler): torch.OutOfMemoryError: CUDA out of memory")
    );
    assert_eq!(job["attempts"], json!(1), "not retried");
}

#[actix_web::test]
async fn a_server_error_is_retried() {
    let fake = FakeComfy::start(Behaviour::Succeed, 1);
    let app = TestApp::spawn_with(comfy(&fake, 2)).await;
    let id = submit(&app, json!({})).await;
    let messages = feed(&app, id).await;
    assert_eq!(
        messages.last().unwrap()["type"],
        json!("completed"),
        "{messages:?}"
    );
    let prompts = fake.log().iter().filter(|l| *l == "POST /prompt").count();
    assert_eq!(prompts, 2, "the 500 was retried once: {:?}", fake.log());
    assert_eq!(fake.prompts().len(), 1);
}

#[actix_web::test]
async fn cancelling_interrupts_and_deletes_the_prompt() {
    let fake = FakeComfy::start(Behaviour::Hang, 0);
    let app = TestApp::spawn_with(comfy(&fake, 0)).await;
    let id = submit(&app, json!({})).await;
    // Wait until ComfyUI reports the first step.
    let mut running = false;
    for _ in 0..600 {
        let job = app
            .get(&format!("/api/v1/generation-jobs/{id}"))
            .await
            .expect(200);
        if job["progress"].as_f64().unwrap_or_default() > 0.0 {
            running = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(running, "the job reported progress");
    app.post_empty(&format!("/api/v1/generation-jobs/{id}/cancel"))
        .await
        .expect(200);
    assert!(fake.called("POST /interrupt").await, "{:?}", fake.log());
    assert!(fake.called("POST /queue").await, "{:?}", fake.log());
    let log = fake.log();
    assert!(
        log.contains(&r#"POST /interrupt {"prompt_id":"prompt-1"}"#.to_owned()),
        "{log:?}"
    );
    assert!(
        log.contains(&r#"POST /queue {"delete":["prompt-1"]}"#.to_owned()),
        "{log:?}"
    );
    let job = app
        .get(&format!("/api/v1/generation-jobs/{id}"))
        .await
        .expect(200);
    assert_eq!(job["status"], json!("cancelled"));
}

#[actix_web::test]
async fn an_unknown_workflow_is_refused_at_submission() {
    let fake = FakeComfy::start(Behaviour::Succeed, 0);
    let app = TestApp::spawn_with(comfy(&fake, 0)).await;
    let user = app.user("painter").await;
    let reply = app
        .post(
            "/api/v1/generation-jobs",
            json!({"user_id": user, "job_type": "image", "prompt": "a fox", "parameters": {"workflow": "landscape"}}),
        )
        .await;
    let body = reply.body.clone();
    assert_eq!(
        reply.problems(),
        vec![("value_error".to_owned(), "body.parameters.workflow".to_owned())]
    );
    assert_eq!(
        body["detail"][0]["msg"],
        json!("Value error, Unknown workflow 'landscape' (available: default)")
    );
    let jobs = app.get("/api/v1/generation-jobs").await.expect(200);
    assert_eq!(jobs["total"], json!(0), "nothing stored: {jobs}");
    // Other job types do not use workflows.
    app.post(
        "/api/v1/generation-jobs",
        json!({"user_id": user, "job_type": "text", "prompt": "a fox", "parameters": {"workflow": "landscape"}}),
    )
    .await
    .expect(201);
    assert!(fake.log().iter().all(|l| !l.starts_with("POST /prompt")));
}
