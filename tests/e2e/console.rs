//! The console: its page and assets are served (content types, cache, its own CSP) without a
//! key, and `/` sends browsers there while JSON clients of `/` are unchanged.

use std::time::Duration;

use genonaut_domain::model::Scope;
use genonaut_tests::TestApp;

const BROWSER_ACCEPT: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

/// A client that reports redirects instead of following them.
async fn fetch(
    app: &TestApp,
    path: &str,
    accept: Option<&str>,
) -> (u16, awc::http::header::HeaderMap, String) {
    let client = awc::Client::builder()
        .disable_redirects()
        .timeout(Duration::from_secs(30))
        .finish();
    let mut req = client.get(format!("{}{path}", app.address));
    if let Some(accept) = accept {
        req = req.insert_header(("Accept", accept));
    }
    let mut res = req.send().await.unwrap_or_else(|e| panic!("request sent: {e}"));
    let body = res
        .body()
        .limit(4 * 1024 * 1024)
        .await
        .unwrap_or_else(|e| panic!("body read: {e}"));
    (
        res.status().as_u16(),
        res.headers().clone(),
        String::from_utf8_lossy(&body).into_owned(),
    )
}

fn header<'a>(headers: &'a awc::http::header::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

async fn secured() -> TestApp {
    TestApp::spawn_with(Box::new(|c| {
        c.auth = true;
        c.key_cache = Duration::ZERO;
    }))
    .await
}

#[actix_web::test]
async fn the_page_and_its_assets_are_served_with_types_cache_and_a_strict_policy_without_a_key() {
    let app = secured().await;
    // The API itself needs a key here.
    assert_eq!(fetch(&app, "/api/v1/users", None).await.0, 401);

    for path in ["/console", "/console/"] {
        let (status, headers, body) = fetch(&app, path, Some(BROWSER_ACCEPT)).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(header(&headers, "content-type"), "text/html; charset=utf-8");
        assert_eq!(header(&headers, "cache-control"), "no-cache");
        let csp = header(&headers, "content-security-policy");
        assert!(csp.starts_with("default-src 'self'"), "{csp}");
        assert!(csp.contains("script-src 'self';"), "no inline script: {csp}");
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
        assert!(body.contains("<main id=\"main\""), "{body}");
        assert!(!body.contains("{{ASSETS}}"), "the asset path is filled in");
        assert!(!body.contains("<script>") && !body.contains("http://") && !body.contains("https://"));
    }

    // The page names its assets under the build's version: immutable, cached for a year.
    let (_, _, page) = fetch(&app, "/console", None).await;
    let start = page.find("/console/v/").expect("a versioned asset path");
    let version: String = page[start + "/console/v/".len()..]
        .chars()
        .take_while(|c| *c != '/')
        .collect();
    assert_eq!(version.len(), 16, "{version}");
    let (status, headers, body) = fetch(&app, &format!("/console/v/{version}/app.js"), None).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), "text/javascript; charset=utf-8");
    assert_eq!(
        header(&headers, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert!(header(&headers, "content-security-policy").starts_with("default-src 'self'"));
    assert!(body.contains("import"), "an ES module");

    // Under a stable name, and every module the page loads.
    for (file, kind) in [
        ("api.js", "text/javascript; charset=utf-8"),
        ("ui.js", "text/javascript; charset=utf-8"),
        ("gallery.js", "text/javascript; charset=utf-8"),
        ("item.js", "text/javascript; charset=utf-8"),
        ("generate.js", "text/javascript; charset=utf-8"),
        ("for-you.js", "text/javascript; charset=utf-8"),
        ("experiments.js", "text/javascript; charset=utf-8"),
        ("ops.js", "text/javascript; charset=utf-8"),
        ("charts.js", "text/javascript; charset=utf-8"),
        ("console.css", "text/css; charset=utf-8"),
    ] {
        let (status, headers, body) = fetch(&app, &format!("/console/{file}"), None).await;
        assert_eq!(status, 200, "{file}");
        assert_eq!(header(&headers, "content-type"), kind, "{file}");
        assert_eq!(
            header(&headers, "cache-control"),
            "public, max-age=3600",
            "{file}"
        );
        assert!(!body.is_empty());
        // Nothing from another host (the SVG namespace is a name, not a request).
        let body = body.replace("http://www.w3.org/2000/svg", "");
        assert!(
            !body.contains("https://") && !body.contains("http://"),
            "{file} names another host"
        );
    }
    // An asset of another version is served, but not cached for long.
    let (status, headers, _) = fetch(&app, "/console/v/0000000000000000/app.js", None).await;
    assert_eq!((status, header(&headers, "cache-control")), (200, "no-cache"));

    // Unknown files are 404, with the console's policy; nothing outside the folder is reachable.
    for path in [
        "/console/nope.js",
        "/console/v/1/nope.js",
        "/console/..%2Flib.rs",
        "/console/a/b/c",
    ] {
        let (status, _, _) = fetch(&app, path, None).await;
        assert_eq!(status, 404, "{path}");
    }
    // The API keeps its own, stricter policy.
    let (_, headers, _) = fetch(&app, "/api/v1/health", None).await;
    assert_eq!(
        header(&headers, "content-security-policy"),
        "default-src 'none'; frame-ancestors 'none'"
    );
}

#[actix_web::test]
async fn the_root_sends_browsers_to_the_console_and_answers_json_clients_as_before() {
    let app = TestApp::spawn().await;
    let (status, headers, body) = fetch(&app, "/", Some(BROWSER_ACCEPT)).await;
    assert_eq!(status, 303, "{body}");
    assert_eq!(header(&headers, "location"), "/console");
    assert!(
        header(&headers, "vary").split(", ").any(|v| v == "Accept"),
        "{headers:?}"
    );

    for accept in [
        None,
        Some("*/*"),
        Some("application/json"),
        Some("application/json, text/html;q=0.5"),
    ] {
        let (status, headers, body) = fetch(&app, "/", accept).await;
        assert_eq!(status, 200, "Accept {accept:?}: {body}");
        assert!(header(&headers, "content-type").starts_with("application/json"));
        let json: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        assert!(
            json["message"].as_str().is_some_and(|m| m.contains("Genonaut")),
            "{json}"
        );
    }
    // The same JSON as before: what the harness (no Accept) gets.
    let plain = app.get("/").await.expect(200);
    let (_, _, again) = fetch(&app, "/", Some("*/*")).await;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&again).expect("JSON"),
        plain
    );

    // With keys off the console is open: what the page asks first answers without a key.
    assert_eq!(fetch(&app, "/api/v1/schemas", None).await.0, 200);

    // The redirect is only for `/`.
    let (status, _, _) = fetch(&app, "/health", Some(BROWSER_ACCEPT)).await;
    assert_eq!(status, 200);
}

#[actix_web::test]
async fn with_keys_on_the_page_loads_without_a_key_and_the_api_behind_it_still_needs_one() {
    let app = secured().await;
    let keys = app.keys();
    let read = keys
        .create("console", Scope::Read, None, None)
        .await
        .expect("a key")
        .secret;
    // The browser's first request, with no key: redirected, then the page.
    let (status, _, _) = fetch(&app, "/", Some(BROWSER_ACCEPT)).await;
    assert_eq!(status, 303);
    assert_eq!(fetch(&app, "/console", Some(BROWSER_ACCEPT)).await.0, 200);
    assert_eq!(fetch(&app, "/console/app.js", None).await.0, 200);
    // What the page asks first decides whether it shows the sign-in form.
    assert_eq!(fetch(&app, "/api/v1/schemas", None).await.0, 401);
    let headers = [("Authorization", format!("Bearer {read}"))];
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let schemas = app
        .send(actix_web::http::Method::GET, "/api/v1/schemas", None, &headers)
        .await
        .expect(200);
    assert_eq!(schemas["default"], app.schema().to_string());
    // A path that merely starts like the console is not public.
    assert_eq!(fetch(&app, "/consoles", None).await.0, 401);
}
