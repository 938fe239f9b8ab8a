//! Tests of the offline evaluation.

use super::*;
use crate::ports::Clock;
use crate::synthetic::{Spec, generate};
use crate::testing::FixedClock;

fn spec(users: usize, items: usize, interactions: usize) -> Spec {
    Spec {
        users,
        items,
        interactions,
        seed: 11,
        noise: 0.15,
        ..Spec::demo(FixedClock::default().now())
    }
}

#[tokio::test]
async fn on_long_bursty_histories_popularity_follows_the_users_era() {
    let data = EvalData::from_synthetic(&generate(&Spec {
        history: crate::synthetic::History::Bursty,
        ..spec(600, 4_000, 40_000)
    }));
    let config = EvalConfig {
        algorithms: vec![Algorithm::Popularity],
        ..EvalConfig::default()
    };
    let baselines: Vec<Box<dyn Baseline>> = vec![
        Box::new(AllTimePopularity::default()),
        Box::new(DecayedPopularity::new(14.0)),
    ];
    let report = evaluate_with(data, &config, baselines, &FixedClock::default(), &|_, _| {})
        .await
        .unwrap();
    let ndcg = |name: &str| report.of(name).unwrap().ndcg;
    eprintln!("{report:#?}");
    assert!(
        report.popularity_half_life_days > 30.0,
        "{}",
        report.popularity_half_life_days
    );
    assert!(
        ndcg("popularity") >= 1.2 * ndcg("all-time-popularity"),
        "era popularity {} vs all-time {}",
        ndcg("popularity"),
        ndcg("all-time-popularity")
    );
    assert!(
        ndcg("decayed-popularity") < ndcg("all-time-popularity"),
        "the old 14-day window fails here"
    );
    for m in &report.metrics {
        assert!(m.novelty > 0.0 && (0.0..=1.0).contains(&m.diversity), "{m:?}");
    }
}

#[tokio::test]
async fn learned_tastes_beat_popularity_which_beats_chance() {
    let data = EvalData::from_synthetic(&generate(&spec(250, 2_000, 25_000)));
    let report = evaluate(data, &EvalConfig::default(), &FixedClock::default(), &|_, _| {})
        .await
        .unwrap();
    let ndcg = |name: &str| report.of(name).unwrap().ndcg;
    eprintln!("{report:#?}");
    assert!(report.users > 200, "{}", report.users);
    assert!(ndcg("popularity") > 2.0 * ndcg("random"));
    assert!(ndcg("item-knn") > 1.5 * ndcg("popularity"));
    assert!(ndcg("hybrid") > 1.8 * ndcg("popularity"));
    assert!(ndcg("content") > ndcg("popularity"));
    assert!(ndcg("ease") > 1.5 * ndcg("popularity"));
    assert!(ndcg("ease-textbook") > 1.5 * ndcg("popularity"));
    assert!(
        report
            .textbook
            .is_some_and(|(lambda, n)| lambda > 0.0 && n > 1_000)
    );
    assert!(ndcg("textbook-item-knn") > ndcg("all-time-popularity"));
    assert!(
        report.of("all-time-popularity").unwrap().novelty < report.of("random").unwrap().novelty,
        "popular items are less novel"
    );
    for m in &report.metrics {
        assert!(
            (0.0..=1.0).contains(&m.ndcg) && m.recall >= m.precision && m.coverage > 0.0,
            "{m:?}"
        );
    }
}

/// Popularity tuning run (not part of the suite): era weight × split on bursty and steady
/// histories, `EVAL_SIZE=users,items,interactions`, `EVAL_ERA_WEIGHTS=0.25,0.5`,
/// `EVAL_SPAN_DIVISORS=8,16`.
#[tokio::test]
#[ignore = "a tuning run: cargo test -p genonaut-domain popularity_tune -- --ignored --nocapture"]
async fn popularity_tune() {
    let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
    let size: Vec<usize> = env("EVAL_SIZE", "2000,5000,200000")
        .split(',')
        .filter_map(|x| x.parse().ok())
        .collect();
    let weights: Vec<f64> = env("EVAL_ERA_WEIGHTS", "0,0.25,0.5,0.75,1")
        .split(',')
        .filter_map(|x| x.parse().ok())
        .collect();
    let divisors: Vec<f64> = env("EVAL_SPAN_DIVISORS", "16")
        .split(',')
        .filter_map(|x| x.parse().ok())
        .collect();
    for history in [
        crate::synthetic::History::Bursty,
        crate::synthetic::History::Recent,
    ] {
        let data = EvalData::from_synthetic(&generate(&Spec {
            history,
            ..spec(size[0], size[1], size[2])
        }));
        for split in [Split::LeaveLastOut, Split::Time(0.2)] {
            for (weight, divisor) in weights.iter().flat_map(|w| divisors.iter().map(move |d| (w, d))) {
                let mut config = EvalConfig {
                    split,
                    algorithms: vec![Algorithm::Popularity],
                    ..EvalConfig::default()
                };
                config.build.popularity.era_weight = *weight;
                config.build.popularity.span_divisor = *divisor;
                let baselines: Vec<Box<dyn Baseline>> = vec![Box::new(AllTimePopularity::default())];
                let report = evaluate_with(
                    data.clone(),
                    &config,
                    baselines,
                    &FixedClock::default(),
                    &|_, _| {},
                )
                .await
                .unwrap();
                let ndcg = |name: &str| report.of(name).unwrap().ndcg;
                eprintln!(
                    "{:<7} {:<22} era_weight {weight:.2} divisor {divisor}  half-life {:.1} d  popularity {:.4}  all-time {:.4}  ratio {:.2}",
                    history.as_str(),
                    report.split,
                    report.popularity_half_life_days,
                    ndcg("popularity"),
                    ndcg("all-time-popularity"),
                    ndcg("popularity") / ndcg("all-time-popularity")
                );
            }
        }
    }
}

/// Tuning run (not part of the suite): `EVAL_SIZE=users,items,interactions`,
/// `EVAL_LAMBDAS=100,200`, `EVAL_BINARY=1`, `EVAL_ITEMS=2500`, `EVAL_TEXTBOOK=0`,
/// `EVAL_HISTORY=bursty`, `EVAL_SPLIT=time`, `EVAL_TOPK=50`, `EVAL_PAIR_DAYS=30`.
#[tokio::test]
#[ignore = "a tuning run: cargo test --release -p genonaut-domain tune -- --ignored --nocapture"]
async fn tune() {
    let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
    let size: Vec<usize> = env("EVAL_SIZE", "2000,5000,200000")
        .split(',')
        .filter_map(|x| x.parse().ok())
        .collect();
    let mut textbook = env("EVAL_TEXTBOOK", "1") == "1";
    for lambda in env("EVAL_LAMBDAS", "200")
        .split(',')
        .filter_map(|x| x.parse::<f64>().ok())
    {
        let history = match env("EVAL_HISTORY", "recent").as_str() {
            "bursty" => crate::synthetic::History::Bursty,
            _ => crate::synthetic::History::Recent,
        };
        let data = EvalData::from_synthetic(&generate(&Spec {
            history,
            ..spec(size[0], size[1], size[2])
        }));
        let mut config = EvalConfig::default();
        if env("EVAL_SPLIT", "last") == "time" {
            config.split = Split::Time(0.2);
        }
        config.build.ease.lambda = lambda;
        config.build.ease.binary = env("EVAL_BINARY", "0") == "1";
        config.build.ease.items = env("EVAL_ITEMS", "2500").parse().unwrap_or(2500);
        config.build.ease.top_k = env("EVAL_TOPK", "50").parse().unwrap_or(50);
        if let Ok(days) = env("EVAL_PAIR_DAYS", "").parse() {
            config.build.ease.pair_days = days;
        }
        if !textbook {
            config.textbook_lambdas.clear();
        }
        textbook = false;
        let report = evaluate(data, &config, &crate::ports::SystemClock, &|_, _| {})
            .await
            .unwrap();
        let knn = report.of("item-knn").unwrap().ndcg;
        eprintln!(
            "λ {lambda} binary {} N {} build {} ms textbook {:?}",
            config.build.ease.binary, config.build.ease.items, report.build_millis, report.textbook
        );
        for m in &report.metrics {
            eprintln!(
                "  {:<14} ndcg {:.4}  ({:.2}× item-knn)  recall {:.4}  coverage {:.3}  {:.2} ms/user",
                m.algorithm,
                m.ndcg,
                m.ndcg / knn,
                m.recall,
                m.coverage,
                m.millis_per_user
            );
        }
    }
}

/// The build at scale, in memory (not part of the suite): `EVAL_SIZE`, `EVAL_ITEMS`.
/// Prints the full build's duration and the process's peak memory.
#[tokio::test(flavor = "current_thread")]
#[ignore = "a benchmark: cargo test --release -p genonaut-domain scale -- --ignored --nocapture"]
async fn scale() {
    let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
    let size: Vec<usize> = env("EVAL_SIZE", "10000,100000,1000000")
        .split(',')
        .filter_map(|x| x.parse().ok())
        .collect();
    let memory = |field: &str| {
        std::fs::read_to_string("/proc/self/status")
            .unwrap_or_default()
            .lines()
            .find(|l| l.starts_with(field))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    let data = EvalData::from_synthetic(&generate(&spec(size[0], size[1], size[2])));
    let users: Vec<UserId> = (1..=200).map(UserId).collect();
    let snapshot = Snapshot::new(data.items, data.signals);
    for items in env("EVAL_ITEMS", "0,2500")
        .split(',')
        .filter_map(|x| x.parse::<usize>().ok())
    {
        let mut config = BuildConfig::default();
        config.ease.items = items;
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let before = memory("VmRSS:");
        let started = std::time::Instant::now();
        let report = rebuild(&snapshot, Mode::Full, &config, &crate::ports::SystemClock)
            .await
            .unwrap();
        eprintln!(
            "N {items}: full build {:.1} s, {} pairs, peak +{:.0} MiB over {before:.0} MiB",
            started.elapsed().as_secs_f64(),
            report.info.pairs,
            memory("VmHWM:") - before
        );
        for algorithm in Algorithm::ALL {
            let mut ms: Vec<f64> = Vec::new();
            for user in &users {
                let t = std::time::Instant::now();
                recommend(&snapshot, *user, algorithm, 10, FixedClock::default().now())
                    .await
                    .unwrap();
                ms.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            ms.sort_by(f64::total_cmp);
            eprintln!(
                "  {:<10} in-memory scoring p50 {:.2} ms p99 {:.2} ms",
                algorithm.as_str(),
                ms[ms.len() / 2],
                ms[ms.len() * 99 / 100]
            );
        }
    }
}
