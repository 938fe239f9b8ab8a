//! Short pieces of music as 16-bit mono WAV: a melody on a scale chosen by the prompt's mood
//! (minor for dark words, major pentatonic otherwise) over a drone, tempo from the seed.

use std::io::Cursor;

use genonaut_domain::model::JsonObject;
use genonaut_domain::ports::{GenerationError, GenerationRequest, MediaFile};
use genonaut_domain::synthetic::Rng;
use serde_json::json;

use super::{Steps, keywords};

const RATE: u32 = 22_050;
const MAJOR_PENTATONIC: &[i32] = &[0, 2, 4, 7, 9, 12, 14, 16];
const NATURAL_MINOR: &[i32] = &[0, 2, 3, 5, 7, 8, 10, 12];
const DARK: &[&str] = &[
    "dark", "night", "horror", "sad", "storm", "cold", "lonely", "abyss", "rain", "ghost",
];

fn freq(root: f64, semitones: i32) -> f64 {
    root * 2f64.powf(f64::from(semitones) / 12.0)
}

/// Composes `seconds` of music, one progress step per second.
pub(crate) async fn compose(
    request: &GenerationRequest,
    seconds: u32,
    rng: &mut Rng,
    steps: &Steps<'_>,
) -> Result<(MediaFile, JsonObject), GenerationError> {
    let words = keywords(&request.prompt);
    let dark = words.iter().any(|w| DARK.contains(&w.as_str()));
    let scale = if dark { NATURAL_MINOR } else { MAJOR_PENTATONIC };
    let root = 196.0 * 2f64.powf(rng.below(7) as f64 / 12.0);
    let bpm = 70 + rng.below(70) as u32;
    let beat = f64::from(RATE) * 60.0 / f64::from(bpm);
    let total = (RATE * seconds) as usize;
    let mut samples: Vec<i16> = Vec::with_capacity(total);
    let mut degree = rng.below(scale.len());
    let mut note_start = 0usize;
    let mut note_len = beat as usize;
    let mut note_freq = freq(root, scale[degree]);
    for second in 0..seconds {
        for n in (second * RATE) as usize..((second + 1) * RATE) as usize {
            if n >= note_start + note_len {
                note_start = n;
                let step = rng.below(5) as isize - 2;
                degree = (degree as isize + step).clamp(0, scale.len() as isize - 1) as usize;
                note_freq = freq(root, scale[degree]);
                note_len = (beat * [0.5, 1.0, 1.0, 2.0][rng.below(4)]) as usize;
            }
            let t = n as f64 / f64::from(RATE);
            let age = (n - note_start) as f64 / note_len.max(1) as f64;
            let envelope = (age * 20.0).min(1.0) * (1.0 - age).max(0.0).powf(0.6);
            let tone = (t * note_freq * std::f64::consts::TAU).sin()
                + 0.35 * (t * note_freq * 2.0 * std::f64::consts::TAU).sin()
                + 0.15 * (t * note_freq * 3.0 * std::f64::consts::TAU).sin();
            let drone = 0.25 * (t * root / 2.0 * std::f64::consts::TAU).sin();
            let fade = ((total - n) as f64 / f64::from(RATE)).min(1.0);
            samples.push(((0.45 * envelope * tone + drone) * 0.5 * fade * f64::from(i16::MAX)) as i16);
        }
        steps
            .done(second + 1, format!("composed second {} of {seconds}", second + 1))
            .await?;
    }
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut cursor = Cursor::new(Vec::new());
    {
        let failed = |e: hound::Error| GenerationError::Permanent(format!("encoding failed: {e}"));
        let mut writer = hound::WavWriter::new(&mut cursor, spec).map_err(failed)?;
        for s in samples {
            writer.write_sample(s).map_err(failed)?;
        }
        writer.finalize().map_err(failed)?;
    }
    let metadata = json!({"duration": seconds, "sample_rate": RATE, "bpm": bpm, "mode": if dark { "minor" } else { "major" }, "format": "wav"});
    Ok((
        MediaFile {
            bytes: cursor.into_inner(),
            extension: "wav",
            mime: "audio/wav",
        },
        metadata.as_object().cloned().unwrap_or_default(),
    ))
}
