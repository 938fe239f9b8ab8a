//! Tests of the configuration.

use super::*;
use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    serve: ServeArgs,
}

fn parse(args: &[&str]) -> anyhow::Result<Config> {
    let mut full = vec!["genonaut"];
    full.extend_from_slice(args);
    Config::try_from(Cli::try_parse_from(full)?.serve)
}

#[test]
fn the_comfyui_generator_is_configured_and_its_workflows_checked_at_start() {
    let c = parse(&[
        "--generator",
        "comfyui",
        "--comfyui-url",
        "http://gpu:8188",
        "--comfyui-workflows",
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/comfyui"),
    ])
    .unwrap();
    assert_eq!(c.jobs.generator, GeneratorKind::Comfyui);
    assert_eq!(c.jobs.comfyui.url, "http://gpu:8188");
    assert_eq!(c.jobs.comfyui.timeout, Duration::from_secs(60));
    assert_eq!(crate::jobs::generator(&c.jobs).unwrap().name(), "comfyui");

    let missing = parse(&[
        "--generator",
        "comfyui",
        "--comfyui-workflows",
        "/nonexistent/flows",
    ])
    .unwrap();
    let error = crate::jobs::generator(&missing.jobs).err().unwrap().to_string();
    assert!(
        error.starts_with("COMFYUI_WORKFLOWS: reading /nonexistent/flows"),
        "{error}"
    );
    let tls = parse(&[
        "--generator",
        "comfyui",
        "--comfyui-url",
        "https://gpu",
        "--comfyui-workflows",
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/comfyui"),
    ])
    .unwrap();
    let error = crate::jobs::generator(&tls.jobs).err().unwrap().to_string();
    assert!(error.contains("must start with http://"), "{error}");
}

#[test]
fn defaults_serve_app_demo_and_test_on_localhost_8000() {
    // Runs without the variables set (nextest gives every test a clean process).
    let c = parse(&[]).unwrap();
    assert_eq!((c.host.as_str(), c.port), ("127.0.0.1", 8000));
    assert_eq!(
        c.database.schemas.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        ["app", "demo", "test"]
    );
    assert_eq!(c.database.default_schema.as_str(), "app");
    assert_eq!(c.seed_demo.as_ref().map(|s| s.as_str()), Some("demo"));
    assert!(c.cors_origins.is_none());
}

#[test]
fn webhook_settings_are_parsed_and_a_bad_secret_stops_the_start() {
    let c = parse(&[]).unwrap();
    assert!(c.jobs.webhooks.secret.is_none());
    assert!(!c.jobs.webhooks.allow_private);
    let c = parse(&[
        "--webhook-secret",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "--webhook-allow-private",
        "true",
    ])
    .unwrap();
    assert!(c.jobs.webhooks.secret.is_some());
    assert!(c.jobs.webhooks.allow_private);
    // The secret never appears in the configuration's debug output.
    assert!(!format!("{c:?}").contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
    let err = parse(&["--webhook-secret", "not-a-secret"])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("GENONAUT_WEBHOOK_SECRET") && err.contains("whsec_"),
        "{err}"
    );
    assert!(!err.contains("not-a-secret"), "{err}");
}

#[test]
fn invalid_schema_settings_are_rejected_clearly() {
    let err = parse(&["--schemas", "app,Bad-Name"]).unwrap_err().to_string();
    assert!(err.contains("GENONAUT_SCHEMAS"), "{err}");
    let err = parse(&["--schemas", "app", "--default-schema", "demo"])
        .unwrap_err()
        .to_string();
    assert!(err.contains("not among"), "{err}");
}

#[test]
fn demo_seeding_needs_the_demo_schema_to_be_served() {
    assert!(parse(&["--schemas", "app"]).unwrap().seed_demo.is_none());
    assert!(parse(&["--seed-demo", "false"]).unwrap().seed_demo.is_none());
}

#[test]
fn the_per_ip_limit_applies_with_keys_or_when_configured() {
    let twenty = rate(20, 40);
    assert!(twenty.is_some());
    assert_eq!(parse(&[]).unwrap().per_ip, twenty);
    assert_eq!(parse(&["--auth", "off"]).unwrap().per_ip, None);
    assert_eq!(
        parse(&["--auth", "off", "--rate-per-ip", "5"]).unwrap().per_ip,
        rate(5, 10)
    );
    assert_eq!(
        parse(&["--auth", "off", "--rate-per-ip", "5", "--burst-per-ip", "7"])
            .unwrap()
            .per_ip,
        rate(5, 7)
    );
    assert_eq!(parse(&["--rate-per-ip", "0"]).unwrap().per_ip, None);
    // The per-key limit does not depend on the mode.
    assert_eq!(parse(&["--auth", "off"]).unwrap().per_key, rate(100, 200));
}

#[test]
fn passwords_are_redacted() {
    assert_eq!(
        redact("postgres://app:s3cret@db:5432/x"),
        "postgres://app:***@db:5432/x"
    );
    assert_eq!(
        redact("postgres://postgres@127.0.0.1/x"),
        "postgres://postgres@127.0.0.1/x"
    );
}
