//! Embedding cost per item on one core (`cargo bench -p genonaut-embed`), for typical item
//! texts (title, prompt, tags), in batches of 1 and 32, and a batch of 32 of mixed lengths.
//! Needs the model (scripts/fetch-model.sh).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use genonaut_embed::{MiniLm, test_model_dir};

fn texts(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            format!(
                "Lighthouse study {i}. a lighthouse at dusk over a stormy sea, oil painting, warm light, \
                 long exposure. tags: lighthouse, ocean, night, painting"
            )
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let Ok(model) = MiniLm::load(&test_model_dir(), "all-MiniLM-L6-v2") else {
        panic!("the model is missing: run scripts/fetch-model.sh");
    };
    let mut group = c.benchmark_group("embed");
    for batch in [1usize, 32] {
        let input = texts(batch);
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_function(format!("batch_{batch}"), |b| {
            b.iter(|| model.embed_sync(&input).map(|v| v.len()).unwrap_or(0))
        });
    }
    // Mixed lengths, as a catalogue's texts are: one text at the 128-token cap among 31 short
    // ones (length groups keep the long one from padding the rest).
    let mut mixed = texts(31);
    mixed.push("a lighthouse keeper writes about the sea at night ".repeat(30));
    group.throughput(Throughput::Elements(mixed.len() as u64));
    group.bench_function("batch_32_mixed", |b| {
        b.iter(|| model.embed_sync(&mixed).map(|v| v.len()).unwrap_or(0))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
