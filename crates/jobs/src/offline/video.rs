//! Short animations as animated PNG (played by every current browser in an `<img>` tag): the
//! prompt's scene with the sun or moon drifting and the ridges rolling.

use genonaut_domain::model::JsonObject;
use genonaut_domain::ports::{GenerationError, GenerationRequest, MediaFile};
use genonaut_domain::synthetic::Rng;
use serde_json::json;

use super::image::{Scene, encoding_error};
use super::{Steps, param};

/// Renders `frames` frames (one progress step each) at 12 frames per second.
pub(crate) async fn animate(
    request: &GenerationRequest,
    frames: u32,
    rng: &mut Rng,
    steps: &Steps<'_>,
) -> Result<(MediaFile, JsonObject), GenerationError> {
    let width = param(&request.parameters, "width", 256, 16, 1024);
    let height = param(&request.parameters, "height", 256, 16, 1024);
    let fps = param(&request.parameters, "fps", 12, 1, 30);
    let scene = Scene::from_prompt(&request.prompt, rng);
    let mut rendered = Vec::with_capacity(frames as usize);
    for f in 0..frames {
        let mut pixels = Vec::with_capacity((width * height * 3) as usize);
        scene.render_rows(
            width,
            height,
            0..height,
            f64::from(f) / f64::from(frames),
            &mut pixels,
        );
        rendered.push(pixels);
        steps
            .done(f + 1, format!("rendered frame {} of {frames}", f + 1))
            .await?;
    }
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_animated(frames, 0).map_err(encoding_error)?;
        encoder
            .set_frame_delay(1, u16::try_from(fps).unwrap_or(12))
            .map_err(encoding_error)?;
        let mut writer = encoder.write_header().map_err(encoding_error)?;
        for frame in &rendered {
            writer.write_image_data(frame).map_err(encoding_error)?;
        }
        writer.finish().map_err(encoding_error)?;
    }
    let seconds = f64::from(frames) / f64::from(fps);
    let metadata = json!({"width": width, "height": height, "frames": frames, "fps": fps, "duration": seconds, "format": "apng"});
    Ok((
        MediaFile {
            bytes,
            extension: "apng",
            mime: "image/apng",
        },
        metadata.as_object().cloned().unwrap_or_default(),
    ))
}
