//! Tests of the synthetic data generator.

use super::*;
use chrono::NaiveDate;

fn end() -> Timestamp {
    NaiveDate::from_ymd_opt(2026, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default()
}

#[test]
fn the_demo_set_is_deterministic_and_big_enough() {
    let a = generate(&Spec::demo(end()));
    let b = generate(&Spec::demo(end()));
    assert_eq!(a, b);
    assert!(a.users.len() >= 50 && a.items.len() >= 1000 && a.interactions.len() >= 10_000);
    for t in ContentType::ALL {
        assert!(a.items.iter().any(|i| i.content_type == *t), "{t} present");
    }
    assert!(
        a.items
            .iter()
            .all(|i| !i.tags.is_empty() && !i.item_metadata.is_empty())
    );
    assert!(a.items.iter().all(|i| !(i.is_public && i.is_private)));
    let names: std::collections::HashSet<&str> = a.users.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names.len(), a.users.len(), "usernames unique");
    assert!(
        a.interactions
            .windows(2)
            .all(|w| w[0].created_at <= w[1].created_at),
        "oldest first"
    );
    assert!(a.interactions.iter().all(|i| i.created_at <= end()));
}

#[test]
fn interactions_follow_the_planted_tastes() {
    let data = generate(&Spec {
        noise: 0.1,
        ..Spec::demo(end())
    });
    let on_taste = data
        .interactions
        .iter()
        .filter(|i| {
            data.users[i.user]
                .tastes
                .iter()
                .any(|(t, _)| *t == data.items[i.item].theme)
        })
        .count();
    let share = on_taste as f64 / data.interactions.len() as f64;
    assert!(
        share > 0.85,
        "share of interactions on the user's themes: {share}"
    );
}

#[test]
fn bursty_histories_span_years_in_bursts_and_items_rise_and_fade() {
    let spec = Spec {
        users: 200,
        items: 2_000,
        interactions: 20_000,
        history: History::Bursty,
        ..Spec::demo(end())
    };
    let data = generate(&spec);
    assert_eq!(data, generate(&spec), "deterministic");
    assert!(data.interactions.len() > 19_000);
    assert!(
        data.interactions
            .windows(2)
            .all(|w| w[0].created_at <= w[1].created_at),
        "oldest first"
    );
    let first = data.interactions[0].created_at;
    let last = data.interactions[data.interactions.len() - 1].created_at;
    assert!(last <= end());
    assert!((last - first).num_days() > 2 * 365, "{first} … {last}");
    // Users are active on few distinct weeks.
    let mut weeks: std::collections::HashMap<usize, std::collections::HashSet<i64>> = Default::default();
    for i in &data.interactions {
        weeks
            .entry(i.user)
            .or_default()
            .insert((i.created_at - first).num_days() / 7);
    }
    let mut counts: Vec<usize> = weeks.values().map(|w| w.len()).collect();
    counts.sort_unstable();
    assert!(
        counts[counts.len() / 2] <= 6,
        "median active weeks {}",
        counts[counts.len() / 2]
    );
    // Nothing before release; most interactions within months of it.
    let ages: Vec<i64> = data
        .interactions
        .iter()
        .map(|i| (i.created_at - data.items[i.item].created_at).num_days())
        .collect();
    assert!(ages.iter().all(|a| *a >= 0));
    let young = ages.iter().filter(|a| **a < 120).count();
    assert!(
        young * 2 > ages.len(),
        "{young} of {} within 120 days of release",
        ages.len()
    );
}

#[test]
fn the_default_history_is_unchanged() {
    // A fingerprint of the default generator: the bursty option must not move it.
    let data = generate(&Spec::demo(end()));
    let i = &data.interactions[1234];
    assert_eq!((i.user, i.item), (49, 835));
}

#[test]
fn different_seeds_differ() {
    let a = generate(&Spec::demo(end()));
    let b = generate(&Spec {
        seed: 7,
        ..Spec::demo(end())
    });
    assert_ne!(a.items[0].title, b.items[0].title);
}
