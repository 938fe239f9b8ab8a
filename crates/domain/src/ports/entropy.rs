/// Source of random bytes: key and ticket secrets, webhook signing secrets, retry jitter. A port
/// so the domain reads no OS state and tests can make every secret and delay reproducible.
pub trait Entropy: Send + Sync {
    /// Fills `buf` with random bytes; secrets are only as strong as this source.
    fn fill(&self, buf: &mut [u8]) -> Result<(), EntropyUnavailable>;
}

/// The random source could not give bytes; nothing secret can be made.
#[derive(Debug, Clone, thiserror::Error)]
#[error("no randomness: {0}")]
pub struct EntropyUnavailable(pub String);

/// A number in [0, 1) from `entropy`, or 0.5 when it has none (for jitter, where any value works).
pub fn unit_interval(entropy: &dyn Entropy) -> f64 {
    let mut bytes = [0u8; 4];
    match entropy.fill(&mut bytes) {
        Ok(()) => f64::from(u32::from_le_bytes(bytes)) / (f64::from(u32::MAX) + 1.0),
        Err(_) => 0.5,
    }
}
