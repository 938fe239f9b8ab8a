//! Previews of the offline image generator: progress events carry the URL of a small PNG of
//! the picture so far; the files are removed when the job ends.

use genonaut_tests::{TestApp, with_workers};
use serde_json::{Value, json};

#[actix_web::test]
async fn offline_images_show_previews_while_they_are_painted() {
    let app = TestApp::spawn_with(with_workers(1)).await;
    let user = app.user("painter").await;
    let job = app
        .post(
            "/api/v1/generation-jobs",
            json!({"user_id": user, "job_type": "image", "prompt": "a quiet lake",
                   "parameters": {"width": 200, "height": 100}}),
        )
        .await
        .expect(201);
    let id = job["id"].as_i64().unwrap();
    let (messages, close) = app.watch(id, "?since=0").await;
    assert_eq!(close, Some(1000));
    assert_eq!(
        messages.last().unwrap()["type"],
        json!("completed"),
        "{messages:?}"
    );
    let progress: Vec<&Value> = messages.iter().filter(|m| m["type"] == "progress").collect();
    let steps_with_preview: Vec<u64> = progress
        .iter()
        .filter(|m| m["preview"].is_string())
        .map(|m| m["step"].as_u64().unwrap())
        .collect();
    assert_eq!(steps_with_preview, vec![2, 4, 6], "every other band but the last");
    assert!(
        progress
            .iter()
            .filter(|m| m["preview"].is_null())
            .all(|m| m.get("preview").is_none()),
        "no preview: no field"
    );
    let media = std::env::temp_dir().join("genonaut-tests-media");
    for m in progress.iter().filter(|m| m["preview"].is_string()) {
        let path = m["preview"].as_str().unwrap();
        assert!(
            path.starts_with("/media/preview-") && path.ends_with(".png"),
            "{path}"
        );
        assert!(
            m["preview_url"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{path}?expires="))
        );
        assert!(
            !media.join(path.strip_prefix("/media/").unwrap()).exists(),
            "{path} removed when the job ended"
        );
    }
}
