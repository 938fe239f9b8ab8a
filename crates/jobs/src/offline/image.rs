//! Procedural pictures: a scene (sky gradient, sun or moon, mountains, stars) whose palette
//! and layout come from the prompt's words and the seed.

use genonaut_domain::model::JsonObject;
use genonaut_domain::ports::{GenerationError, GenerationRequest, MediaFile};
use genonaut_domain::synthetic::Rng;
use serde_json::json;

use super::{Steps, keywords, param};

type Rgb = [f64; 3];

/// Everything needed to render the scene at any time `t` (0…1 for animations).
pub(crate) struct Scene {
    top: Rgb,
    bottom: Rgb,
    ground: Rgb,
    orb: Rgb,
    orb_x: f64,
    orb_y: f64,
    orb_r: f64,
    ridges: Vec<(f64, f64, f64)>,
    stars: Vec<(f64, f64)>,
    pub(crate) mood: &'static str,
}

fn any(words: &[String], of: &[&str]) -> bool {
    words.iter().any(|w| of.iter().any(|o| w.starts_with(o)))
}

impl Scene {
    pub(crate) fn from_prompt(prompt: &str, rng: &mut Rng) -> Scene {
        let words = keywords(prompt);
        let (mood, top, bottom, ground, orb): (&'static str, Rgb, Rgb, Rgb, Rgb) = if any(
            &words,
            &["sunset", "dusk", "dawn", "sunrise", "fire", "autumn", "warm"],
        ) {
            (
                "warm",
                [0.26, 0.09, 0.38],
                [1.0, 0.55, 0.25],
                [0.16, 0.06, 0.12],
                [1.0, 0.85, 0.45],
            )
        } else if any(
            &words,
            &[
                "night", "space", "galaxy", "star", "moon", "dark", "nebula", "cosmic",
            ],
        ) {
            (
                "night",
                [0.02, 0.02, 0.10],
                [0.12, 0.10, 0.32],
                [0.03, 0.03, 0.07],
                [0.92, 0.93, 1.0],
            )
        } else if any(
            &words,
            &[
                "ocean", "sea", "water", "rain", "ice", "winter", "snow", "lake", "river",
            ],
        ) {
            (
                "cool",
                [0.35, 0.62, 0.86],
                [0.85, 0.93, 0.98],
                [0.08, 0.27, 0.45],
                [1.0, 1.0, 0.95],
            )
        } else if any(
            &words,
            &[
                "forest", "garden", "green", "spring", "meadow", "nature", "jungle",
            ],
        ) {
            (
                "green",
                [0.55, 0.78, 0.95],
                [0.90, 0.96, 0.85],
                [0.13, 0.36, 0.16],
                [1.0, 0.96, 0.7],
            )
        } else if any(&words, &["desert", "sand", "dune", "canyon"]) {
            (
                "sand",
                [0.55, 0.75, 0.95],
                [0.98, 0.88, 0.7],
                [0.80, 0.58, 0.33],
                [1.0, 0.97, 0.8],
            )
        } else {
            let h = rng.unit();
            (
                "free",
                hue(h, 0.55, 0.35),
                hue(h + 0.1, 0.45, 0.85),
                hue(h + 0.5, 0.5, 0.2),
                hue(h + 0.15, 0.3, 0.95),
            )
        };
        let ridges = (0..3)
            .map(|i| {
                (
                    0.55 + 0.12 * f64::from(i) + 0.05 * rng.unit(),
                    2.0 + 6.0 * rng.unit(),
                    rng.unit() * std::f64::consts::TAU,
                )
            })
            .collect();
        let stars = if mood == "night" {
            (0..120).map(|_| (rng.unit(), rng.unit() * 0.6)).collect()
        } else {
            Vec::new()
        };
        Scene {
            top,
            bottom,
            ground,
            orb,
            orb_x: 0.2 + 0.6 * rng.unit(),
            orb_y: 0.15 + 0.3 * rng.unit(),
            orb_r: 0.05 + 0.06 * rng.unit(),
            ridges,
            stars,
            mood,
        }
    }

    /// The colour at (x, y) in [0, 1]², at time t.
    fn pixel(&self, x: f64, y: f64, t: f64) -> Rgb {
        let mut c = mix(self.top, self.bottom, y.clamp(0.0, 1.0));
        for (sx, sy) in &self.stars {
            if (x - sx).abs() < 0.003 && (y - sy).abs() < 0.003 {
                c = [0.95, 0.95, 1.0];
            }
        }
        let ox = self.orb_x + 0.15 * (t * std::f64::consts::TAU).sin() * if t > 0.0 { 1.0 } else { 0.0 };
        let oy = self.orb_y + 0.05 * t;
        let d = ((x - ox).powi(2) + (y - oy).powi(2)).sqrt();
        if d < self.orb_r {
            c = self.orb;
        } else if d < self.orb_r * 2.2 {
            c = mix(c, self.orb, 0.35 * (1.0 - (d - self.orb_r) / (self.orb_r * 1.2)));
        }
        for (i, (base, freq, phase)) in self.ridges.iter().enumerate() {
            let height = base + 0.06 * (x * freq + phase + t).sin() + 0.03 * (x * freq * 2.7 + phase).sin();
            if y > height {
                let shade = 0.55 + 0.2 * i as f64;
                c = mix(self.ground, c, 1.0 - shade.min(1.0));
            }
        }
        c
    }

    /// Renders `w × h` RGB bytes, rows `rows` only (for banded progress).
    pub(crate) fn render_rows(&self, w: u32, h: u32, rows: std::ops::Range<u32>, t: f64, out: &mut Vec<u8>) {
        for py in rows {
            for px in 0..w {
                let c = self.pixel(f64::from(px) / f64::from(w), f64::from(py) / f64::from(h), t);
                out.extend(c.iter().map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8));
            }
        }
    }
}

fn mix(a: Rgb, b: Rgb, k: f64) -> Rgb {
    [
        a[0] + (b[0] - a[0]) * k,
        a[1] + (b[1] - a[1]) * k,
        a[2] + (b[2] - a[2]) * k,
    ]
}

fn hue(h: f64, s: f64, l: f64) -> Rgb {
    let h = h.rem_euclid(1.0) * 6.0;
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let x = c * (1.0 - (h % 2.0 - 1.0).abs());
    let (r, g, b) = match h as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    [r + m, g + m, b + m]
}

pub(crate) fn encoding_error(e: impl std::fmt::Display) -> GenerationError {
    GenerationError::Permanent(format!("encoding failed: {e}"))
}

/// Bands between two previews.
const PREVIEW_EVERY: u32 = 2;
/// Widest preview, in pixels.
const PREVIEW_WIDTH: u32 = 96;

fn encode_png(width: u32, height: u32, rgb: &[u8]) -> Result<Vec<u8>, GenerationError> {
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(encoding_error)?;
        writer.write_image_data(rgb).map_err(encoding_error)?;
    }
    Ok(bytes)
}

/// A small PNG of the picture with its top `done` fraction painted and the rest grey.
fn preview(scene: &Scene, width: u32, height: u32, done: f64) -> Result<MediaFile, GenerationError> {
    let w = width.min(PREVIEW_WIDTH);
    let h =
        (u64::from(height) * u64::from(w) / u64::from(width)).clamp(1, u64::from(PREVIEW_WIDTH) * 4) as u32;
    let painted = ((f64::from(h) * done).round() as u32).min(h);
    let mut pixels = Vec::with_capacity((w * h * 3) as usize);
    scene.render_rows(w, h, 0..painted, 0.0, &mut pixels);
    pixels.resize((w * h * 3) as usize, 0x80);
    Ok(MediaFile {
        bytes: encode_png(w, h, &pixels)?,
        extension: "png",
        mime: "image/png",
    })
}

/// Paints the picture in 8 bands, one progress step each (with a preview every other band),
/// and encodes it as PNG.
pub(crate) async fn paint(
    request: &GenerationRequest,
    rng: &mut Rng,
    steps: &Steps<'_>,
) -> Result<(MediaFile, JsonObject), GenerationError> {
    let width = param(&request.parameters, "width", 512, 16, 2048);
    let height = param(&request.parameters, "height", 512, 16, 2048);
    let scene = Scene::from_prompt(&request.prompt, rng);
    let mut pixels = Vec::with_capacity((width * height * 3) as usize);
    let bands = 8;
    for band in 0..bands {
        let rows = (height * band / bands)..(height * (band + 1) / bands);
        scene.render_rows(width, height, rows, 0.0, &mut pixels);
        let message = format!("painted band {} of {bands}", band + 1);
        // Every other band but the last (the result itself), a small preview of the bands so
        // far.
        let preview = (band % PREVIEW_EVERY == PREVIEW_EVERY - 1 && band + 1 < bands)
            .then(|| preview(&scene, width, height, f64::from(band + 1) / f64::from(bands)))
            .transpose()?;
        steps.done_showing(band + 1, message, preview).await?;
    }
    let bytes = encode_png(width, height, &pixels)?;
    let metadata = json!({"width": width, "height": height, "format": "png", "palette": scene.mood});
    Ok((
        MediaFile {
            bytes,
            extension: "png",
            mime: "image/png",
        },
        metadata.as_object().cloned().unwrap_or_default(),
    ))
}
