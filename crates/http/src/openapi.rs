//! The OpenAPI document's header: title, description, tags.

use apistos::info::Info;
use apistos::spec::Spec;
use apistos::tag::Tag;

const DESCRIPTION: &str = "\
Genonaut records what users do with generated content, recommends content, and runs content \
generation jobs.

**Compatibility.** Paths, fields, status codes and error bodies are those of the previous \
service: collection paths work with and without the trailing slash; timestamps are UTC without \
zone (`2025-09-19T23:52:25.364437`); listings answer `{items, total, skip, limit}`; validation \
errors are 422 with `detail` as a list of `{type, loc, msg, input, ctx}`, business-rule \
errors are 422 with `detail` as a string, missing entities 404.

**Data sets.** Every `/api/v1` route serves one PostgreSQL schema, chosen with the \
`X-Genonaut-Schema` header (default: the configured default; `GET /api/v1/schemas` lists them).";

fn tag(name: &str, description: &str) -> Tag {
    Tag {
        name: name.to_owned(),
        description: Some(description.to_owned()),
        ..Default::default()
    }
}

/// The document's metadata; operations are collected from the routes.
pub fn spec() -> Spec {
    Spec {
        info: Info {
            title: "Genonaut API".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            description: Some(DESCRIPTION.to_owned()),
            ..Default::default()
        },
        tags: vec![
            tag("system", "Health, data sets and global counters."),
            tag("users", "User accounts, preferences and per-user views."),
            tag(
                "content",
                "Content items: creation, search, visibility and quality.",
            ),
            tag(
                "interactions",
                "What users do with content, and aggregates of it.",
            ),
            tag(
                "recommendations",
                "Stored recommendations, generation, serving and feedback.",
            ),
            tag("generation-jobs", "Content generation jobs and their queue."),
            tag(
                "admin",
                "Operations: the recommender's derived state and its builds.",
            ),
        ],
        ..Default::default()
    }
}
