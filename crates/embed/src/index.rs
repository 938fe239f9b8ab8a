//! Nearest neighbours over item embeddings: exact below a size threshold, HNSW above.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use genonaut_domain::ids::ContentId;
use genonaut_domain::ports::VectorIndex;
use hnsw_rs::prelude::{DistCosine, Hnsw};

/// Below this many vectors every query scans them all (a few milliseconds at most); from here
/// on an HNSW graph answers, plus an exact scan of the vectors added since it was built.
pub const EXACT_BELOW: usize = 20_000;
/// The graph is rebuilt (in the background) once this share of the vectors is newer than it.
const REBUILD_FRACTION: f64 = 0.1;
/// Candidates the graph search visits (recall against speed).
const EF_SEARCH: usize = 128;
/// Graph construction: links per node and candidates per insertion.
const MAX_LINKS: usize = 16;
const EF_CONSTRUCTION: usize = 100;
const MAX_LAYERS: usize = 16;

/// An HNSW graph over positions `0..len` as they were when it was built.
struct Graph {
    hnsw: Hnsw<'static, f32, DistCosine>,
    len: usize,
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[derive(Default)]
struct State {
    items: Vec<ContentId>,
    vectors: Vec<Arc<[f32]>>,
    at: HashMap<ContentId, usize>,
    /// The graph over positions `0..graph.len` as they were when it was built.
    graph: Option<Arc<Graph>>,
    /// Positions below the graph's size whose vector changed after it was built.
    replaced: Vec<usize>,
}

/// An in-process nearest-neighbour index over unit vectors (cosine = dot product).
#[derive(Default, Clone)]
pub struct AnnIndex {
    state: Arc<RwLock<State>>,
    building: Arc<AtomicBool>,
}

impl std::fmt::Debug for AnnIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnnIndex").field("len", &self.len()).finish()
    }
}

impl AnnIndex {
    /// An empty index.
    pub fn new() -> Self {
        AnnIndex::default()
    }

    /// Whether an HNSW graph currently answers (false: exact scan).
    pub fn has_graph(&self) -> bool {
        self.read().graph.is_some()
    }

    /// Builds the graph now, in this thread (normally done in the background).
    pub fn build_graph(&self) {
        // The snapshot the graph is built from; replacements from now on are marked again.
        let vectors: Vec<Arc<[f32]>> = {
            let mut state = self.write();
            state.replaced.clear();
            state.vectors.clone()
        };
        let n = vectors.len();
        let hnsw = Hnsw::new(MAX_LINKS, n.max(1), MAX_LAYERS, EF_CONSTRUCTION, DistCosine {});
        let data: Vec<(&[f32], usize)> = vectors.iter().map(|v| &v[..]).zip(0..).collect();
        hnsw.parallel_insert_slice(&data);
        let mut state = self.write();
        state.graph = Some(Arc::new(Graph { hnsw, len: n }));
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    fn maybe_rebuild(&self) {
        let (n, built, stale) = {
            let state = self.read();
            let built = state.graph.as_ref().map_or(0, |g| g.len);
            let n = state.vectors.len();
            (n, built, n - built + state.replaced.len())
        };
        if n < EXACT_BELOW || (built > 0 && (stale as f64) < REBUILD_FRACTION * built as f64) {
            return;
        }
        if self.building.swap(true, Ordering::AcqRel) {
            return;
        }
        let me = self.clone();
        let spawned = std::thread::Builder::new()
            .name("ann-build".into())
            .spawn(move || {
                let started = std::time::Instant::now();
                me.build_graph();
                tracing::info!(
                    vectors = me.len(),
                    ms = started.elapsed().as_millis() as u64,
                    "built the HNSW graph"
                );
                me.building.store(false, Ordering::Release);
                // Vectors that arrived meanwhile (e.g. the rest of the start-up load) may
                // already call for the next graph.
                me.maybe_rebuild();
            });
        if spawned.is_err() {
            self.building.store(false, Ordering::Release);
        }
    }
}

/// Keeps the `k` best `(similarity, position)` pairs.
fn push_top(top: &mut Vec<(f32, usize)>, k: usize, candidate: (f32, usize)) {
    if top.len() < k {
        top.push(candidate);
        if top.len() == k {
            top.sort_by(|a, b| b.0.total_cmp(&a.0));
        }
        return;
    }
    if let Some(last) = top.last()
        && candidate.0 > last.0
    {
        let at = top.partition_point(|x| x.0 >= candidate.0);
        top.insert(at, candidate);
        top.pop();
    }
}

impl VectorIndex for AnnIndex {
    fn upsert(&self, item: ContentId, vector: &[f32]) {
        {
            let mut state = self.write();
            let vector: Arc<[f32]> = Arc::from(vector);
            match state.at.get(&item).copied() {
                Some(at) => {
                    state.vectors[at] = vector;
                    if state.graph.as_ref().is_some_and(|g| at < g.len)
                        || self.building.load(Ordering::Acquire)
                    {
                        state.replaced.push(at);
                    }
                }
                None => {
                    let at = state.items.len();
                    state.items.push(item);
                    state.vectors.push(vector);
                    state.at.insert(item, at);
                }
            }
        }
        self.maybe_rebuild();
    }

    fn nearest(&self, query: &[f32], k: usize) -> Vec<(ContentId, f32)> {
        if k == 0 {
            return Vec::new();
        }
        let state = self.read();
        let mut top: Vec<(f32, usize)> = Vec::with_capacity(k + 1);
        match &state.graph {
            None => {
                for (at, v) in state.vectors.iter().enumerate() {
                    push_top(&mut top, k, (dot(query, v), at));
                }
            }
            Some(graph) => {
                let built = graph.len;
                let mut seen = std::collections::HashSet::new();
                // Similarities are recomputed from the current vectors (a replaced one may
                // have moved); the replaced and the newer ones are scanned exactly.
                for hit in graph.hnsw.search(query, k, EF_SEARCH.max(k)) {
                    let at = hit.d_id;
                    if at < state.vectors.len() && seen.insert(at) {
                        push_top(&mut top, k, (dot(query, &state.vectors[at]), at));
                    }
                }
                for at in state.replaced.iter().copied().chain(built..state.vectors.len()) {
                    if seen.insert(at) {
                        push_top(&mut top, k, (dot(query, &state.vectors[at]), at));
                    }
                }
            }
        }
        top.sort_by(|a, b| b.0.total_cmp(&a.0).then(state.items[a.1].cmp(&state.items[b.1])));
        top.into_iter().map(|(s, at)| (state.items[at], s)).collect()
    }

    fn vector(&self, item: ContentId) -> Option<Vec<f32>> {
        let state = self.read();
        state.at.get(&item).map(|at| state.vectors[*at].to_vec())
    }

    fn len(&self) -> usize {
        self.read().items.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(seed: u64) -> Vec<f32> {
        // A deterministic pseudo-random unit vector.
        let mut x = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut v: Vec<f32> = (0..384)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((x >> 33) as f32 / (1u64 << 31) as f32) - 0.5
            })
            .collect();
        let norm = v.iter().map(|a| a * a).sum::<f32>().sqrt();
        v.iter_mut().for_each(|a| *a /= norm);
        v
    }

    #[test]
    fn exact_scan_finds_the_item_itself_first_and_replacements_count() {
        let index = AnnIndex::new();
        for i in 1..=200 {
            index.upsert(ContentId(i), &unit(i as u64));
        }
        let found = index.nearest(&unit(42), 3);
        assert_eq!(found[0].0, ContentId(42));
        assert!((found[0].1 - 1.0).abs() < 1e-4);
        assert!(found[1].1 < found[0].1);
        // Replacing item 42's vector moves it.
        index.upsert(ContentId(42), &unit(9_999));
        assert_ne!(index.nearest(&unit(42), 1)[0].0, ContentId(42));
        assert_eq!(index.nearest(&unit(9_999), 1)[0].0, ContentId(42));
        assert_eq!(index.len(), 200);
        assert!(index.vector(ContentId(7)).is_some() && index.vector(ContentId(777)).is_none());
    }

    #[test]
    fn the_graph_answers_like_the_scan_and_sees_newer_vectors() {
        let index = AnnIndex::new();
        for i in 1..=300 {
            index.upsert(ContentId(i), &unit(i as u64));
        }
        let exact: Vec<ContentId> = index.nearest(&unit(5), 5).into_iter().map(|x| x.0).collect();
        index.build_graph();
        assert!(index.has_graph());
        let approx: Vec<ContentId> = index.nearest(&unit(5), 5).into_iter().map(|x| x.0).collect();
        assert_eq!(approx[0], ContentId(5));
        let overlap = approx.iter().filter(|a| exact.contains(a)).count();
        assert!(overlap >= 4, "recall@5 {overlap}/5");
        // Added after the build: found by the exact part.
        index.upsert(ContentId(50_000), &unit(123_456));
        assert_eq!(index.nearest(&unit(123_456), 1)[0].0, ContentId(50_000));
        // Replaced after the build: found at its new place.
        index.upsert(ContentId(9), &unit(777_777));
        assert_eq!(index.nearest(&unit(777_777), 1)[0].0, ContentId(9));
    }
}
