//! Media for the demo data set: small, deterministic files made by the offline generators'
//! renderers at seed time, so every demo item's `/media/demo/...` path resolves.
//!
//! Pictures are 64 × 64 PNG, "videos" 48 × 48 animated PNG of 6 frames, audio half a second
//! of 8 kHz 8-bit WAV: about 1,200 files and a few MB for the demo set.

use std::io::Cursor;
use std::path::Path;

use genonaut_domain::model::ContentType;
use genonaut_domain::synthetic::Rng;

use super::image::Scene;

const IMAGE_SIDE: u32 = 64;
const VIDEO_SIDE: u32 = 48;
const VIDEO_FRAMES: u32 = 6;
const AUDIO_RATE: u32 = 8_000;

/// The file behind a `/media/demo/<name>` path, or `None` for paths outside `/media/`.
pub fn media_file(media_dir: &Path, url_path: &str) -> Option<std::path::PathBuf> {
    let rest = url_path.strip_prefix("/media/")?;
    let safe = rest.split('/').all(|s| {
        !s.is_empty()
            && s != ".."
            && s != "."
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    });
    safe.then(|| media_dir.join(rest))
}

/// Renders the file of one demo item: `prompt` picks the palette, `seed` the layout.
/// `None` for text (no file).
pub fn render(content_type: ContentType, prompt: &str, seed: u64) -> Option<Result<Vec<u8>, String>> {
    let mut rng = Rng::new(seed);
    match content_type {
        ContentType::Text => None,
        ContentType::Image => Some(image(prompt, &mut rng)),
        ContentType::Video => Some(video(prompt, &mut rng)),
        ContentType::Audio => Some(audio(&mut rng)),
    }
}

fn image(prompt: &str, rng: &mut Rng) -> Result<Vec<u8>, String> {
    let scene = Scene::from_prompt(prompt, rng);
    let mut pixels = Vec::with_capacity((IMAGE_SIDE * IMAGE_SIDE * 3) as usize);
    scene.render_rows(IMAGE_SIDE, IMAGE_SIDE, 0..IMAGE_SIDE, 0.0, &mut pixels);
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, IMAGE_SIDE, IMAGE_SIDE);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(&pixels).map_err(|e| e.to_string())?;
    }
    Ok(bytes)
}

fn video(prompt: &str, rng: &mut Rng) -> Result<Vec<u8>, String> {
    let scene = Scene::from_prompt(prompt, rng);
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, VIDEO_SIDE, VIDEO_SIDE);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_animated(VIDEO_FRAMES, 0).map_err(|e| e.to_string())?;
        encoder.set_frame_delay(1, 6).map_err(|e| e.to_string())?;
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        for f in 0..VIDEO_FRAMES {
            let mut pixels = Vec::with_capacity((VIDEO_SIDE * VIDEO_SIDE * 3) as usize);
            let t = f64::from(f) / f64::from(VIDEO_FRAMES);
            scene.render_rows(VIDEO_SIDE, VIDEO_SIDE, 0..VIDEO_SIDE, t, &mut pixels);
            writer.write_image_data(&pixels).map_err(|e| e.to_string())?;
        }
        writer.finish().map_err(|e| e.to_string())?;
    }
    Ok(bytes)
}

fn audio(rng: &mut Rng) -> Result<Vec<u8>, String> {
    let root = 196.0 * 2f64.powf(rng.below(12) as f64 / 12.0);
    let fifth = root * 1.5;
    let total = AUDIO_RATE / 2;
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: AUDIO_RATE,
        bits_per_sample: 8,
        sample_format: hound::SampleFormat::Int,
    };
    let mut cursor = Cursor::new(Vec::new());
    {
        let mut writer = hound::WavWriter::new(&mut cursor, spec).map_err(|e| e.to_string())?;
        for n in 0..total {
            let t = f64::from(n) / f64::from(AUDIO_RATE);
            let fade = (f64::from(total - n) / f64::from(total)).min((t * 50.0).min(1.0));
            let v = 0.5 * (t * root * std::f64::consts::TAU).sin()
                + 0.3 * (t * fifth * std::f64::consts::TAU).sin();
            writer
                .write_sample((v * fade * 100.0) as i8)
                .map_err(|e| e.to_string())?;
        }
        writer.finalize().map_err(|e| e.to_string())?;
    }
    Ok(cursor.into_inner())
}

/// Writes the file of every `(path, type, prompt, seed)` that is missing under `media_dir`
/// (existing files are kept: seeding is idempotent). Returns how many files were written.
pub fn write_missing<'a>(
    media_dir: &Path,
    items: impl IntoIterator<Item = (&'a str, ContentType, &'a str, u64)>,
) -> Result<usize, String> {
    let mut written = 0;
    for (url_path, content_type, prompt, seed) in items {
        let Some(file) = media_file(media_dir, url_path) else {
            continue;
        };
        if file.exists() {
            continue;
        }
        let Some(bytes) = render(content_type, prompt, seed) else {
            continue;
        };
        let bytes = bytes.map_err(|e| format!("rendering {url_path}: {e}"))?;
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        }
        // Write then rename, so the file service never serves a half-written file.
        let temp = file.with_extension("tmp");
        std::fs::write(&temp, &bytes).map_err(|e| format!("writing {}: {e}", temp.display()))?;
        std::fs::rename(&temp, &file).map_err(|e| format!("storing {}: {e}", file.display()))?;
        written += 1;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_deterministic_small_and_of_their_format() {
        let png = render(ContentType::Image, "sunset over the sea", 7)
            .unwrap()
            .unwrap();
        assert_eq!(&png[1..4], b"PNG");
        assert_eq!(
            render(ContentType::Image, "sunset over the sea", 7)
                .unwrap()
                .unwrap(),
            png
        );
        assert_ne!(
            render(ContentType::Image, "sunset over the sea", 8)
                .unwrap()
                .unwrap(),
            png
        );
        let apng = render(ContentType::Video, "night sky", 3).unwrap().unwrap();
        assert_eq!(&apng[1..4], b"PNG");
        assert!(
            apng.windows(4).any(|w| w == b"acTL"),
            "animated PNG has an acTL chunk"
        );
        let wav = render(ContentType::Audio, "", 3).unwrap().unwrap();
        assert_eq!(&wav[0..4], b"RIFF");
        assert_eq!(&wav[8..12], b"WAVE");
        assert!(render(ContentType::Text, "x", 1).is_none());
        for bytes in [&png, &apng, &wav] {
            assert!(bytes.len() < 20_000, "{} bytes", bytes.len());
        }
    }

    #[test]
    fn only_missing_files_under_media_are_written() {
        let dir = std::env::temp_dir().join(format!("genonaut-demo-media-{}", std::process::id()));
        let items = [
            ("/media/demo/image_1.png", ContentType::Image, "forest", 1),
            ("/media/demo/video_2.apng", ContentType::Video, "ocean", 2),
            ("/media/demo/audio_3.wav", ContentType::Audio, "rain", 3),
            ("/media/../escape.png", ContentType::Image, "x", 4),
            ("https://example.com/x.png", ContentType::Image, "x", 5),
            ("a short story", ContentType::Text, "x", 6),
        ];
        assert_eq!(write_missing(&dir, items).unwrap(), 3);
        assert!(dir.join("demo/image_1.png").is_file());
        assert!(dir.join("demo/video_2.apng").is_file());
        assert!(dir.join("demo/audio_3.wav").is_file());
        assert!(!dir.join("../escape.png").exists());
        assert_eq!(write_missing(&dir, items).unwrap(), 0);
        let _ = std::fs::remove_dir_all(dir);
    }
}
