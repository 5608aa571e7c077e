//! Image grids as PNG files: samples, reconstructions, interpolations.

use burn::prelude::*;
use std::path::Path;

/// Pixels between tiles, and each tile's upscale factor (28-pixel digits are small on screen).
const GAP: u32 = 2;
const SCALE: u32 = 2;
/// Tile gaps are dark grey, so black digit backgrounds stay distinguishable.
const GAP_SHADE: u8 = 96;

/// Writes `images` (`[n, channels, height, width]`, values in `[0, 1]`; 1 or 3 channels) as one
/// PNG with `columns` tiles per row, creating the parent folder.
pub fn save_grid(images: Tensor<4>, columns: usize, path: &Path) -> anyhow::Result<()> {
    let [n, channels, height, width] = images.dims();
    anyhow::ensure!(
        channels == 1 || channels == 3,
        "cannot draw {channels}-channel images"
    );
    anyhow::ensure!(n > 0 && columns > 0, "no images to draw");
    let values: Vec<f32> = images.into_data().try_to_vec()?;
    let rows = n.div_ceil(columns) as u32;
    let (h, w) = (height as u32, width as u32);
    let tile_w = w * SCALE + GAP;
    let tile_h = h * SCALE + GAP;
    let mut canvas = image::RgbImage::from_pixel(
        columns as u32 * tile_w + GAP,
        rows * tile_h + GAP,
        image::Rgb([GAP_SHADE; 3]),
    );
    let plane = height * width;
    for (i, img) in values.chunks_exact(channels * plane).enumerate() {
        let (x0, y0) = (
            GAP + (i % columns) as u32 * tile_w,
            GAP + (i / columns) as u32 * tile_h,
        );
        for y in 0..h {
            for x in 0..w {
                let at = (y * w + x) as usize;
                let byte = |c: usize| (img[c * plane + at].clamp(0.0, 1.0) * 255.0).round() as u8;
                let rgb = if channels == 1 {
                    [byte(0); 3]
                } else {
                    [byte(0), byte(1), byte(2)]
                };
                for dy in 0..SCALE {
                    for dx in 0..SCALE {
                        canvas.put_pixel(x0 + x * SCALE + dx, y0 + y * SCALE + dy, image::Rgb(rgb));
                    }
                }
            }
        }
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", parent.display()))?;
    }
    canvas
        .save(path)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_places_each_tile_and_its_pixels() {
        let device = Device::flex();
        // Two 2x2 grey images: the first black with one white pixel at (row 1, column 0).
        let values = vec![0.0, 0.0, 1.0, 0.0, 0.5, 0.5, 0.5, 0.5];
        let images = Tensor::<4>::from_data(TensorData::new(values, [2, 1, 2, 2]), &device);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/grid.png");
        save_grid(images, 2, &path).unwrap();
        let png = image::open(&path).unwrap().to_rgb8();
        let tile = 2 * SCALE + GAP;
        assert_eq!(png.dimensions(), (2 * tile + GAP, tile + GAP));
        assert_eq!(png.get_pixel(0, 0).0, [GAP_SHADE; 3]);
        assert_eq!(png.get_pixel(GAP, GAP).0, [0; 3]);
        assert_eq!(png.get_pixel(GAP, GAP + SCALE).0, [255; 3]);
        assert_eq!(png.get_pixel(GAP + tile, GAP).0, [128; 3]);
    }
}
