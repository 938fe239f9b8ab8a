//! `just bench-recs` — the recommender at scale, through the real PostgreSQL adapters.
//!
//! 1. A schema with a synthetic data set (default 10,000 users, 100,000 items, 1,000,000
//!    interactions; loaded once, kept for later runs).
//! 2. A full build of the derived state: duration and peak memory (the process's resident
//!    high-water mark, reset just before the build).
//! 3. Generating and storing the top 10 for sampled users, one at a time: p50/p99 per
//!    algorithm.
//! 4. Reading a user's stored recommendations (the listing route's query): p50/p99.
//! 5. An incremental build after 1,000 new interactions.
//!
//!     cargo run --release -p genonaut-tests --bin bench-recs -- [users] [items] [interactions] [samples]
//!
//! `DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/genonaut`) names the database.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a benchmark: fail loudly")]

use std::sync::Arc;
use std::time::Instant;

use genonaut_db::{PgPool, PoolSettings, SchemaName, migrate, seed};
use genonaut_domain::ids::UserId;
use genonaut_domain::model::{InteractionType, JsonObject, NewInteraction, RecommendationQuery};
use genonaut_domain::ports::{Clock, SystemClock};
use genonaut_domain::recommender::Algorithm;
use genonaut_domain::services::{GenerateRequest, Services};
use genonaut_domain::synthetic::{self, Rng};
use genonaut_domain::{DomainError, PageRequest, Rule};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn summary(mut millis: Vec<f64>) -> String {
    millis.sort_by(f64::total_cmp);
    format!(
        "p50 {:>6.2} ms   p99 {:>6.2} ms   mean {:>6.2} ms",
        percentile(&millis, 0.5),
        percentile(&millis, 0.99),
        millis.iter().sum::<f64>() / millis.len() as f64
    )
}

/// `VmRSS` or `VmHWM` of this process, in MiB.
fn memory(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let users = args.first().copied().unwrap_or(10_000);
    let items = args.get(1).copied().unwrap_or(100_000);
    let interactions = args.get(2).copied().unwrap_or(1_000_000);
    let samples = args.get(3).copied().unwrap_or(300);
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/genonaut".into());
    genonaut_db::admin::ensure_database(&url).await.unwrap();
    let schema = SchemaName::parse(&format!("bench_recs_{users}_{items}_{interactions}")).unwrap();
    migrate::migrate(&url, &schema).await.unwrap();
    let pool = PgPool::new(&url, &schema, &PoolSettings::default()).unwrap();
    if seed::is_empty(&pool).await.unwrap() {
        let started = Instant::now();
        let spec = synthetic::Spec {
            users,
            items,
            interactions,
            seed: 42,
            ..synthetic::Spec::demo(SystemClock.now())
        };
        let data = synthetic::generate(&spec);
        seed::load(&pool, &data, &|_, _, _| {}).await.unwrap();
        println!(
            "loaded {users} users, {items} items, {interactions} interactions into {schema} in {:.0} s",
            started.elapsed().as_secs_f64()
        );
    } else {
        println!("reusing {schema}");
    }
    let services = Services::new(genonaut_db::repositories(&pool), Arc::new(SystemClock));

    // Full build, with its peak memory.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = memory("VmRSS:");
    let started = Instant::now();
    let report = services.recommender.rebuild_now("bench", true).await.unwrap();
    let took = started.elapsed().as_secs_f64();
    let peak = memory("VmHWM:");
    println!(
        "full build: {took:.1} s ({} interactions, {} items with state, {} neighbour pairs); peak memory +{:.0} MiB over {before:.0} MiB",
        report.info.signals,
        report.rows_written,
        report.info.pairs,
        peak - before
    );

    // Generate and store the top 10, per algorithm, for sampled users.
    let mut rng = Rng::new(7);
    let sample: Vec<UserId> = (0..samples)
        .map(|_| UserId(1 + rng.below(users) as i64))
        .collect();
    for algorithm in Algorithm::ALL {
        let mut millis = Vec::with_capacity(samples);
        let mut empty = 0;
        for user in &sample {
            let t = Instant::now();
            let request = GenerateRequest {
                user_id: *user,
                algorithm_version: algorithm.as_str().into(),
                limit: 10,
            };
            match services.recommendations.generate(request).await {
                Ok(recs) => empty += usize::from(recs.is_empty()),
                Err(e) => assert!(matches!(e, DomainError::Rule(Rule::InactiveUser(_))), "{e}"),
            }
            millis.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        println!(
            "generate+store top 10, {:<10} {}  ({} of {samples} empty)",
            algorithm.as_str(),
            summary(millis),
            empty
        );
    }

    // Where the time goes: each read of one hybrid call, and the insert of its 10 rows.
    let repos = genonaut_db::repositories(&pool);
    let (mut state_ms, mut lists_ms, mut facts_ms, mut users_ms) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for user in &sample {
        let t = Instant::now();
        let _ = repos.users.get(*user).await.unwrap();
        users_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let state = repos.recommender.user_state(*user, 200).await.unwrap();
        state_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        let request = genonaut_domain::recommender::CandidateRequest {
            seeds: state.history.iter().take(30).map(|(s, _)| s.item).collect(),
            tags: state
                .history
                .iter()
                .flat_map(|(_, f)| f.tags.clone())
                .take(8)
                .collect(),
            per_tag: 60,
            popular: 150,
            popular_at: state.history.first().map(|(s, _)| s.at),
            recent: 20,
            model: true,
        };
        let t = Instant::now();
        let lists = repos.recommender.candidates(&request).await.unwrap();
        lists_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        let mut ids: Vec<_> = lists
            .neighbours
            .iter()
            .flat_map(|(_, n)| n.iter().map(|x| x.0))
            .take(300)
            .collect();
        ids.extend(lists.popular.iter().map(|p| p.0));
        ids.extend(lists.tags.iter().flat_map(|t| t.top.iter().map(|x| x.0)));
        let t = Instant::now();
        let _ = repos.recommender.facts(&ids).await.unwrap();
        facts_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!("  user check                     {}", summary(users_ms));
    println!("  user state (history, rejected) {}", summary(state_ms));
    println!("  candidate lists                {}", summary(lists_ms));
    println!("  candidate facts                {}", summary(facts_ms));

    // Read stored recommendations (GET /recommendations/user/{id}/recommendations).
    let mut millis = Vec::with_capacity(samples);
    for user in &sample {
        let t = Instant::now();
        let query = RecommendationQuery {
            user_id: Some(*user),
            ..RecommendationQuery::default()
        };
        let _ = services
            .recommendations
            .list(&query, PageRequest::first(10))
            .await;
        millis.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!("read stored recommendations      {}", summary(millis));

    // Incremental build after 1,000 new interactions.
    let mut added = 0;
    while added < 1_000 {
        let new = NewInteraction {
            user_id: UserId(1 + rng.below(users) as i64),
            content_item_id: genonaut_domain::ids::ContentId(1 + rng.below(items) as i64),
            interaction_type: InteractionType::Like,
            rating: None,
            duration: None,
            metadata: JsonObject::new(),
        };
        added += usize::from(services.interactions.record(new).await.is_ok());
    }
    let started = Instant::now();
    let report = services.recommender.rebuild_now("bench", false).await.unwrap();
    println!(
        "incremental build after {added} interactions: {:.1} s ({} item rows rewritten)",
        started.elapsed().as_secs_f64(),
        report.rows_written
    );
    pool.close();
}
