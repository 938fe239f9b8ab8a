//! Tests of the experiment model.

use super::*;

fn variant(name: &str, algorithm: &str, weight: f64) -> Variant {
    Variant {
        name: name.into(),
        algorithm: algorithm.into(),
        weight,
    }
}

fn experiment(weights: &[f64]) -> Experiment {
    Experiment {
        id: ExperimentId(7),
        name: "e".into(),
        description: None,
        variants: weights
            .iter()
            .enumerate()
            .map(|(i, w)| variant(&format!("v{i}"), "hybrid", *w))
            .collect(),
        engagement_window_hours: 24,
        created_at: Timestamp::default(),
        stopped_at: None,
    }
}

#[test]
fn the_bucket_is_the_documented_hash() {
    // The bucket is the digest's first 8 bytes over 2^64.
    let digest = Sha256::digest(b"7:42");
    let prefix = u64::from_be_bytes([
        digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7],
    ]);
    let expected = prefix as f64 / 2f64.powi(64);
    assert!((bucket(ExperimentId(7), UserId(42)) - expected).abs() < 1e-12);
    assert_ne!(
        bucket(ExperimentId(7), UserId(42)),
        bucket(ExperimentId(8), UserId(42))
    );
}

#[test]
fn assignment_is_stable_and_follows_the_weights() {
    let e = experiment(&[1.0, 3.0]);
    let mut counts = [0usize; 2];
    for user in 1..=20_000 {
        let first = e.assign(UserId(user)).map(|v| v.name.clone());
        // The same user always lands in the same variant.
        assert_eq!(first, e.assign(UserId(user)).map(|v| v.name.clone()));
        let index = usize::from(first.as_deref() == Some("v1"));
        counts[index] += 1;
    }
    let share = counts[1] as f64 / 20_000.0;
    assert!(
        (share - 0.75).abs() < 0.015,
        "share of the weight-3 variant: {share}"
    );
    // Three equal arms get a third each.
    let e = experiment(&[2.0, 2.0, 2.0]);
    let mut counts = [0usize; 3];
    for user in 1..=30_000 {
        let name = e.assign(UserId(user)).map(|v| v.name.clone()).unwrap_or_default();
        counts[name[1..].parse::<usize>().unwrap_or(0)] += 1;
    }
    for n in counts {
        assert!((n as f64 / 30_000.0 - 1.0 / 3.0).abs() < 0.015, "{counts:?}");
    }
}

#[test]
fn validation_names_the_first_bad_field() {
    let ok = || vec![variant("a", "popularity", 1.0), variant("b", "item_knn_v2", 2.0)];
    let parsed = NewExperiment::parse(" home-feed ", Some("  ".into()), ok(), None);
    let parsed = parsed.ok();
    assert_eq!(parsed.as_ref().map(|e| e.name.as_str()), Some("home-feed"));
    assert_eq!(parsed.as_ref().and_then(|e| e.description.clone()), None);
    assert_eq!(parsed.as_ref().map(|e| e.engagement_window_hours), Some(24));
    let field = |r: Result<NewExperiment, DomainError>| match r {
        Err(DomainError::Invalid { field, .. }) => field.join("."),
        other => format!("{other:?}"),
    };
    assert_eq!(field(NewExperiment::parse(" ", None, ok(), None)), "name");
    assert_eq!(field(NewExperiment::parse("a b", None, ok(), None)), "name");
    assert_eq!(
        field(NewExperiment::parse(&"x".repeat(40), None, ok(), None)),
        "name"
    );
    assert_eq!(
        field(NewExperiment::parse(
            "e",
            None,
            vec![variant("a", "hybrid", 1.0)],
            None
        )),
        "variants"
    );
    let with = |v: Variant| vec![variant("a", "hybrid", 1.0), v];
    assert_eq!(
        field(NewExperiment::parse(
            "e",
            None,
            with(variant(" a ", "content", 1.0)),
            None
        )),
        "variants.1.name"
    );
    assert_eq!(
        field(NewExperiment::parse(
            "e",
            None,
            with(variant("", "content", 1.0)),
            None
        )),
        "variants.1.name"
    );
    assert_eq!(
        field(NewExperiment::parse(
            "e",
            None,
            with(variant("b", "magic", 1.0)),
            None
        )),
        "variants.1.algorithm"
    );
    for weight in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert_eq!(
            field(NewExperiment::parse(
                "e",
                None,
                with(variant("b", "content", weight)),
                None
            )),
            "variants.1.weight"
        );
    }
    assert_eq!(
        field(NewExperiment::parse(
            "e",
            None,
            vec![variant("a", "hybrid", f64::MAX), variant("b", "hybrid", f64::MAX)],
            None
        )),
        "variants"
    );
    assert_eq!(
        field(NewExperiment::parse("e", None, ok(), Some(0))),
        "engagement_window_hours"
    );
}

#[test]
fn labels_route_to_experiments() {
    assert_eq!(experiment_name("experiment:home"), Some("home"));
    assert_eq!(experiment_name(" experiment: home "), Some("home"));
    assert_eq!(experiment_name("hybrid"), None);
    assert_eq!(experiment_name("experimental"), None);
}

#[test]
fn wilson_intervals_match_the_textbook() {
    // 50 of 100: centre 0.5, 95 % interval ≈ [0.4038, 0.5962].
    let p = Proportion::wilson(50, 100);
    assert!(
        (p.low - 0.4038).abs() < 1e-3 && (p.high - 0.5962).abs() < 1e-3,
        "{p:?}"
    );
    // 0 of 10: [0, 0.2775].
    let p = Proportion::wilson(0, 10);
    assert!(p.low == 0.0 && (p.high - 0.2775).abs() < 1e-3, "{p:?}");
    assert_eq!(Proportion::wilson(0, 0).high, 1.0);
    // The rate is always inside its interval, also at the edges.
    for (k, n) in [(0, 1), (0, 7), (0, 1000), (3, 3), (999, 999), (1, 3)] {
        let p = Proportion::wilson(k, n);
        assert!(p.low <= p.rate && p.rate <= p.high, "{k}/{n}: {p:?}");
    }
}

#[test]
fn the_leader_needs_a_significant_difference() {
    let e = experiment(&[1.0, 1.0]);
    let counts = |a: (i64, i64), b: (i64, i64)| {
        vec![
            VariantCounts {
                variant: "v0".into(),
                users: 10,
                served: a.1,
                engaged: a.0,
                rejected: 0,
            },
            VariantCounts {
                variant: "v1".into(),
                users: 10,
                served: b.1,
                engaged: b.0,
                rejected: 0,
            },
        ]
    };
    // 30 % vs 20 % of 1000 each: z ≈ 5.1, significant.
    let r = ExperimentResults::compute(e.clone(), &counts((300, 1000), (200, 1000)));
    assert_eq!(r.leader.as_deref(), Some("v0"));
    let test = r.test.clone().unwrap_or_else(|| unreachable!());
    assert!((test.z - 5.15).abs() < 0.05, "{test:?}");
    assert!(test.p_value < 1e-5);
    // 22 % vs 20 % of 100 each: not significant.
    let r = ExperimentResults::compute(e.clone(), &counts((22, 100), (20, 100)));
    assert_eq!((r.leader, r.test.map(|t| t.best)), (None, Some("v0".to_owned())));
    // A variant without data: no test.
    let r = ExperimentResults::compute(e, &counts((30, 100), (0, 0)));
    assert_eq!((r.leader, r.test), (None, None));
    assert!((normal_upper_tail(1.959_964) - 0.025).abs() < 1e-6);
    assert!((normal_upper_tail(-1.0) - 0.841_345).abs() < 1e-5);
}
