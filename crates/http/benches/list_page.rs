//! Serialising list pages, the CPU work of every listing endpoint after the database answered:
//! domain items → DTOs → JSON bytes. `cargo bench -p genonaut-http`.

use chrono::NaiveDate;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use genonaut_domain::ids::{ContentId, UserId};
use genonaut_domain::model::{Content, ContentType};
use genonaut_http::dto::common::Page;
use genonaut_http::dto::content::ContentOut;
use serde_json::json;

fn item(i: i64) -> Content {
    let at = NaiveDate::from_ymd_opt(2025, 3, 1)
        .and_then(|d| d.and_hms_micro_opt(10, 0, 0, 123_456))
        .unwrap_or_default();
    let metadata =
        json!({"genre": "space opera", "resolution": "1024x1024", "model": "offline-v1", "seed": i});
    Content {
        id: ContentId(i),
        title: format!("Starship Dawn #{i}"),
        content_type: ContentType::Image,
        content_data: format!("/media/demo-job{i}-a1.png"),
        item_metadata: metadata.as_object().cloned().unwrap_or_default(),
        creator_id: UserId(i % 97 + 1),
        created_at: at,
        updated_at: at,
        tags: vec!["space".into(), "sci-fi".into(), "digital_art".into()],
        quality_score: 0.8125,
        is_public: true,
        is_private: false,
    }
}

fn bench(c: &mut Criterion) {
    for size in [20usize, 100] {
        let items: Vec<Content> = (1..=size as i64).map(item).collect();
        let mut group = c.benchmark_group("content list page");
        group.throughput(Throughput::Elements(size as u64));
        group.bench_function(format!("{size} items to JSON"), |b| {
            b.iter(|| {
                let page = genonaut_domain::Page {
                    items: items.clone(),
                    total: 20_000,
                };
                let dto: Page<ContentOut> = Page::of(page, 0, size as i64);
                serde_json::to_vec(&dto).map(|v| v.len())
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
