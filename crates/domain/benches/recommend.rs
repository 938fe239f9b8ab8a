//! Request-time recommender scoring on an in-memory snapshot (no I/O): the pure cost of
//! `recommend` per algorithm, and of a derived-state build. `cargo bench -p genonaut-domain`.

use criterion::{Criterion, criterion_group, criterion_main};
use genonaut_domain::ids::UserId;
use genonaut_domain::ports::Clock;
use genonaut_domain::recommender::Algorithm;
use genonaut_domain::recommender::build::{BuildConfig, Mode, rebuild};
use genonaut_domain::recommender::engine::recommend;
use genonaut_domain::recommender::eval::EvalData;
use genonaut_domain::recommender::snapshot::Snapshot;
use genonaut_domain::synthetic::{Spec, generate};
use genonaut_domain::testing::FixedClock;

fn bench(c: &mut Criterion) {
    let clock = FixedClock::default();
    let spec = Spec {
        users: 2_000,
        items: 20_000,
        interactions: 100_000,
        ..Spec::demo(clock.now())
    };
    let data = EvalData::from_synthetic(&generate(&spec));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let snapshot =
        Snapshot::new(data.items.clone(), data.signals.clone()).with_preferences(data.preferences.clone());
    c.bench_function("build full (2k users, 20k items, 100k interactions)", |b| {
        b.iter(|| {
            let fresh = Snapshot::new(data.items.clone(), data.signals.clone());
            runtime.block_on(rebuild(&fresh, Mode::Full, &BuildConfig::default(), &clock))
        })
    });
    runtime
        .block_on(rebuild(&snapshot, Mode::Full, &BuildConfig::default(), &clock))
        .unwrap_or_else(|e| panic!("build: {e}"));
    let now = clock.now();
    for algorithm in Algorithm::ALL {
        let mut user = 0;
        c.bench_function(&format!("recommend top 10: {algorithm}"), |b| {
            b.iter(|| {
                user = user % 2_000 + 1;
                runtime.block_on(recommend(&snapshot, UserId(user), algorithm, 10, now))
            })
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
