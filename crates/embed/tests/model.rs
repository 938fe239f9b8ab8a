//! The real model (weights fetched by scripts/fetch-model.sh; a missing model fails loudly).

use genonaut_domain::ports::EMBEDDING_DIM;
use genonaut_embed::{MiniLm, test_model_dir};

fn model() -> MiniLm {
    let dir = test_model_dir();
    MiniLm::load(&dir, "all-MiniLM-L6-v2")
        .unwrap_or_else(|e| panic!("{e} — run scripts/fetch-model.sh (looked in {})", dir.display()))
}

fn cos(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn embeddings_are_unit_vectors_that_follow_meaning() {
    let m = model();
    let texts: Vec<String> = [
        "sea at night",
        "the lighthouse at night over the ocean",
        "a spreadsheet of tax figures",
        "",
    ]
    .map(String::from)
    .to_vec();
    let v = m.embed_sync(&texts).unwrap();
    assert_eq!(v.len(), 4);
    for e in &v[..3] {
        assert_eq!(e.len(), EMBEDDING_DIM);
        assert!((cos(e, e) - 1.0).abs() < 1e-4);
    }
    let (near, far) = (cos(&v[0], &v[1]), cos(&v[0], &v[2]));
    assert!(near > far + 0.2, "near {near}, far {far}");
    // Batching does not change a text's vector (padding is masked out).
    let alone = m.embed_sync(&texts[..1]).unwrap();
    assert!(cos(&alone[0], &v[0]) > 0.9999);
}

#[test]
fn texts_of_any_lengths_keep_their_vectors_and_order_in_a_batch() {
    let m = model();
    // Lengths from 2 tokens to the 128-token cap, out of order: several length groups.
    let long = "a lighthouse keeper writes about the sea at night ".repeat(30);
    let texts: Vec<String> = [
        long.as_str(),
        "sea",
        "a spreadsheet of tax figures for the second quarter",
        "",
        "the lighthouse at night over the ocean, oil painting, warm light",
        "sea at night",
    ]
    .map(String::from)
    .to_vec();
    let batch = m.embed_sync(&texts).unwrap();
    assert_eq!(batch.len(), texts.len());
    for (text, vector) in texts.iter().zip(&batch) {
        let alone = m.embed_sync(std::slice::from_ref(text)).unwrap();
        assert!(
            cos(&alone[0], vector) > 0.9999,
            "{text:?}: {}",
            cos(&alone[0], vector)
        );
    }
}

#[test]
fn a_missing_folder_is_a_clear_error() {
    let err = MiniLm::load(std::path::Path::new("/nonexistent/model"), "x").unwrap_err();
    assert!(err.to_string().contains("config.json is missing"), "{err}");
}
