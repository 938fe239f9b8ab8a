//! The offline generator's artifacts are real files, deterministic, and follow the prompt; the
//! OpenAI adapter speaks the protocol and retries as specified; previews and ComfyUI workflow
//! refusals.
#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use genonaut_domain::model::{JobType, Progress};
use genonaut_domain::ports::{GenerationControl, GenerationError, GenerationRequest, Generator, Output};
use genonaut_jobs::offline::OfflineGenerator;
use genonaut_jobs::openai::{OpenAiConfig, OpenAiGenerator};
use serde_json::json;

#[derive(Default)]
struct Recorder(Mutex<Vec<Progress>>);

#[async_trait]
impl GenerationControl for Recorder {
    async fn progress(&self, p: Progress) -> bool {
        self.0.lock().unwrap().push(p);
        true
    }
    fn should_stop(&self) -> bool {
        false
    }
}

fn request(job_type: JobType, prompt: &str, parameters: serde_json::Value) -> GenerationRequest {
    GenerationRequest {
        job_id: 1,
        job_type,
        prompt: prompt.into(),
        parameters: parameters.as_object().cloned().unwrap(),
    }
}

async fn media(
    job_type: JobType,
    prompt: &str,
    parameters: serde_json::Value,
) -> (Vec<u8>, &'static str, usize) {
    let control = Recorder::default();
    let artifact = OfflineGenerator::new(Duration::ZERO)
        .generate(&request(job_type, prompt, parameters), &control)
        .await
        .unwrap();
    let steps = control.0.lock().unwrap().len();
    match artifact.output {
        Output::Media(f) => (f.bytes, f.mime, steps),
        Output::Text(_) => panic!("expected media"),
    }
}

#[tokio::test]
async fn images_are_valid_pngs_and_deterministic() {
    let (bytes, mime, steps) = media(
        JobType::Image,
        "sunset over the sea",
        json!({"width": 40, "height": 30, "seed": 3}),
    )
    .await;
    assert_eq!((mime, steps), ("image/png", 8));
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes.clone()));
    let reader = decoder.read_info().unwrap();
    assert_eq!((reader.info().width, reader.info().height), (40, 30));
    let (again, _, _) = media(
        JobType::Image,
        "sunset over the sea",
        json!({"width": 40, "height": 30, "seed": 3}),
    )
    .await;
    assert_eq!(bytes, again, "same prompt and seed, same picture");
    let (other, _, _) = media(
        JobType::Image,
        "a dark forest",
        json!({"width": 40, "height": 30, "seed": 3}),
    )
    .await;
    assert_ne!(bytes, other, "the prompt changes the picture");
}

#[tokio::test]
async fn audio_is_a_valid_wav_of_the_requested_length() {
    let (bytes, mime, steps) = media(JobType::Audio, "a gentle morning", json!({"duration": 3})).await;
    assert_eq!((mime, steps), ("audio/wav", 3));
    let reader = hound::WavReader::new(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(reader.spec().channels, 1);
    assert_eq!(reader.duration(), 3 * reader.spec().sample_rate);
}

#[tokio::test]
async fn video_is_an_animated_png() {
    let (bytes, mime, steps) = media(
        JobType::Video,
        "night over the city",
        json!({"frames": 5, "width": 20, "height": 20}),
    )
    .await;
    assert_eq!((mime, steps), ("image/apng", 5));
    let reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .unwrap();
    let animation = reader.info().animation_control().unwrap();
    assert_eq!(animation.num_frames, 5);
}

#[tokio::test]
async fn text_follows_the_prompt_and_reports_each_paragraph() {
    let control = Recorder::default();
    let req = request(
        JobType::Text,
        "write a story about a clockwork heron and the tide",
        json!({"paragraphs": 3, "seed": 1}),
    );
    let artifact = OfflineGenerator::new(Duration::ZERO)
        .generate(&req, &control)
        .await
        .unwrap();
    let Output::Text(text) = artifact.output else {
        panic!("text")
    };
    assert!(text.contains("clockwork") && text.contains("heron"), "{text}");
    assert!(!text.to_lowercase().contains("lorem"));
    assert_eq!(control.0.lock().unwrap().len(), 3);
    let again = OfflineGenerator::new(Duration::ZERO)
        .generate(&req, &Recorder::default())
        .await
        .unwrap();
    assert_eq!(Output::Text(text), again.output, "deterministic");
    let poem = OfflineGenerator::new(Duration::ZERO)
        .generate(
            &request(JobType::Text, "a haiku about snow", json!({})),
            &Recorder::default(),
        )
        .await
        .unwrap();
    assert_eq!(poem.metadata["form"], json!("haiku"));
}

/// A scripted answer: status, extra headers, body.
type Scripted = (u16, Vec<(&'static str, String)>, String);

/// A one-connection-at-a-time HTTP server answering with the scripted responses in order,
/// recording every request's line, headers and body.
fn fake_server(responses: Vec<Scripted>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}/v1", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for (stream, (status, headers, body)) in listener.incoming().zip(responses) {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if let Some(v) = line.to_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
                head.push_str(&line);
                if line == "\r\n" {
                    break;
                }
            }
            let mut request_body = vec![0; length];
            reader.read_exact(&mut request_body).unwrap();
            log.lock()
                .unwrap()
                .push(format!("{head}{}", String::from_utf8_lossy(&request_body)));
            let mut reply = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (k, v) in headers {
                reply.push_str(&format!("{k}: {v}\r\n"));
            }
            reply.push_str("\r\n");
            reply.push_str(&body);
            stream.write_all(reply.as_bytes()).unwrap();
        }
    });
    (address, seen)
}

fn openai(base_url: String, image_model: Option<&str>) -> OpenAiGenerator {
    let config = OpenAiConfig {
        base_url,
        api_key: Some("sk-test".into()),
        text_model: "tiny-llm".into(),
        image_model: image_model.map(str::to_owned),
        timeout: Duration::from_secs(5),
        max_retries: 2,
        retry_base: Duration::from_millis(10),
    };
    OpenAiGenerator::new(config, Arc::new(OfflineGenerator::new(Duration::ZERO)))
}

#[tokio::test(flavor = "multi_thread")]
async fn chat_completions_with_retries_on_429_and_5xx() {
    let ok = json!({"model": "tiny-llm", "choices": [{"message": {"role": "assistant", "content": "Once there was a heron."}}],
                    "usage": {"total_tokens": 12}})
    .to_string();
    let (url, seen) = fake_server(vec![
        (
            429,
            vec![("Retry-After", "0".into())],
            "{\"error\": \"slow down\"}".into(),
        ),
        (503, vec![], "{}".into()),
        (200, vec![], ok),
    ]);
    let artifact = openai(url, None)
        .generate(
            &request(JobType::Text, "a heron", json!({"temperature": 0.2})),
            &Recorder::default(),
        )
        .await
        .unwrap();
    assert_eq!(artifact.output, Output::Text("Once there was a heron.".into()));
    assert_eq!(artifact.metadata["usage"]["total_tokens"], json!(12));
    let requests = seen.lock().unwrap();
    assert_eq!(requests.len(), 3);
    assert!(requests[2].starts_with("POST /v1/chat/completions"));
    assert!(
        requests[2]
            .to_lowercase()
            .contains("authorization: bearer sk-test")
    );
    let body: serde_json::Value =
        serde_json::from_str(requests[2].split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(
        (body["model"].clone(), body["temperature"].clone()),
        (json!("tiny-llm"), json!(0.2))
    );
    assert_eq!(body["messages"][1], json!({"role": "user", "content": "a heron"}));
}

#[tokio::test(flavor = "multi_thread")]
async fn exhausted_retries_are_transient_and_4xx_are_permanent() {
    let (url, _) = fake_server(vec![
        (500, vec![], "{}".into()),
        (500, vec![], "{}".into()),
        (500, vec![], "{}".into()),
    ]);
    let err = openai(url, None)
        .generate(&request(JobType::Text, "x", json!({})), &Recorder::default())
        .await
        .unwrap_err();
    assert!(matches!(err, GenerationError::Transient(_)), "{err:?}");
    let (url, _) = fake_server(vec![(400, vec![], "{\"error\": \"bad model\"}".into())]);
    let err = openai(url, None)
        .generate(&request(JobType::Text, "x", json!({})), &Recorder::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, GenerationError::Permanent(ref m) if m.contains("400")),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn images_come_back_as_base64_png() {
    let mut png = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut png, 2, 2);
        encoder.set_color(png::ColorType::Rgb);
        encoder
            .write_header()
            .unwrap()
            .write_image_data(&[0; 12])
            .unwrap();
    }
    use base64::Engine as _;
    let body =
        json!({"data": [{"b64_json": base64::engine::general_purpose::STANDARD.encode(&png)}]}).to_string();
    let (url, seen) = fake_server(vec![(200, vec![], body)]);
    let artifact = openai(url, Some("tiny-diffusion"))
        .generate(
            &request(JobType::Image, "a heron", json!({"size": "256x256"})),
            &Recorder::default(),
        )
        .await
        .unwrap();
    let Output::Media(file) = artifact.output else {
        panic!("media")
    };
    assert_eq!((file.bytes, file.mime), (png, "image/png"));
    assert!(seen.lock().unwrap()[0].starts_with("POST /v1/images/generations"));
    // Audio is not part of the API: the fallback produces it.
    let (url, seen) = fake_server(vec![]);
    let audio = openai(url, Some("tiny-diffusion"))
        .generate(
            &request(JobType::Audio, "rain", json!({"duration": 1})),
            &Recorder::default(),
        )
        .await
        .unwrap();
    assert!(matches!(audio.output, Output::Media(ref f) if f.mime == "audio/wav"));
    assert!(seen.lock().unwrap().is_empty());
}

/// Keeps the previews a generator shows, as `/media/p<n>.png`.
#[derive(Default)]
struct PreviewKeeper {
    previews: Mutex<Vec<genonaut_domain::ports::MediaFile>>,
    progress: Mutex<Vec<Progress>>,
}

#[async_trait]
impl GenerationControl for PreviewKeeper {
    async fn progress(&self, p: Progress) -> bool {
        self.progress.lock().unwrap().push(p);
        true
    }
    fn should_stop(&self) -> bool {
        false
    }
    async fn save_preview(&self, image: &genonaut_domain::ports::MediaFile) -> Option<String> {
        let mut previews = self.previews.lock().unwrap();
        previews.push(image.clone());
        Some(format!("/media/p{}.png", previews.len()))
    }
}

#[tokio::test]
async fn offline_images_show_small_previews_every_other_band() {
    let control = PreviewKeeper::default();
    OfflineGenerator::new(Duration::ZERO)
        .generate(
            &request(
                JobType::Image,
                "a quiet lake",
                json!({"width": 400, "height": 200}),
            ),
            &control,
        )
        .await
        .unwrap();
    let progress = control.progress.lock().unwrap();
    let shown: Vec<(u32, Option<String>)> = progress
        .iter()
        .filter(|p| p.preview.is_some())
        .map(|p| (p.step, p.preview.clone()))
        .collect();
    assert_eq!(
        shown,
        vec![
            (2, Some("/media/p1.png".into())),
            (4, Some("/media/p2.png".into())),
            (6, Some("/media/p3.png".into()))
        ]
    );
    for image in control.previews.lock().unwrap().iter() {
        assert_eq!(image.mime, "image/png");
        let reader = png::Decoder::new(std::io::Cursor::new(image.bytes.clone()))
            .read_info()
            .unwrap();
        assert_eq!(
            (reader.info().width, reader.info().height),
            (96, 48),
            "small, same aspect"
        );
    }
}

#[tokio::test]
async fn comfyui_fails_a_job_naming_an_unknown_workflow_for_good() {
    use genonaut_jobs::comfyui::{ComfyUiConfig, ComfyUiGenerator, Workflows};
    let workflows = Workflows::new([(
        "default".to_owned(),
        json!({"9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "{{prompt}}"}}}),
    )])
    .unwrap();
    let generator = ComfyUiGenerator::new(
        ComfyUiConfig {
            // Nothing listens: the job must fail before any request.
            url: "http://127.0.0.1:9".into(),
            timeout: Duration::from_secs(1),
            retries: genonaut_jobs::retry::Retries {
                max_retries: 0,
                base: Duration::from_millis(1),
            },
        },
        workflows,
        Arc::new(OfflineGenerator::new(Duration::ZERO)),
    )
    .unwrap();
    let parameters = json!({"workflow": "landscape"});
    let refusal = generator
        .validate(JobType::Image, parameters.as_object().unwrap())
        .unwrap_err();
    assert_eq!(refusal.parameter, "workflow");
    let failure = generator
        .generate(
            &request(JobType::Image, "a fox", parameters.clone()),
            &Recorder::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        failure,
        GenerationError::Permanent("Unknown workflow 'landscape' (available: default)".into())
    );
    // Text goes to the fallback, whatever the workflow.
    assert!(
        generator
            .validate(JobType::Text, parameters.as_object().unwrap())
            .is_ok()
    );
    let text = generator
        .generate(&request(JobType::Text, "a fox", parameters), &Recorder::default())
        .await
        .unwrap();
    assert!(matches!(text.output, Output::Text(_)));
}
