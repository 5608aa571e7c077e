//! Pictures of an episode: each state drawn as a cart on its track with the pole, written as
//! an animated GIF (real time: one frame per τ = 0.02 s) or a PNG contact sheet.

use crate::cartpole::{HALF_POLE, POSITION_LIMIT};
use std::path::Path;

const WIDTH: usize = 300;
const HEIGHT: usize = 200;
/// Pixels per metre: the track's ±2.4 m span the picture.
const SCALE: f64 = WIDTH as f64 / (2.0 * POSITION_LIMIT);
const TRACK_Y: f64 = 150.0;
const PALETTE: [[u8; 3]; 5] = [
    [255, 255, 255], // background
    [0, 0, 0],       // track
    [60, 60, 60],    // cart
    [202, 152, 101], // pole
    [129, 132, 203], // axle
];

/// One state `[x, x_dot, theta, theta_dot]` as palette indices, `WIDTH × HEIGHT`.
pub fn draw(state: [f64; 4]) -> Vec<u8> {
    let mut pixels = vec![0u8; WIDTH * HEIGHT];
    let cart_x = WIDTH as f64 / 2.0 + state[0] * SCALE;
    let (cart_w, cart_h) = (25.0, 15.0);
    let axle = (cart_x, TRACK_Y - cart_h * 0.75);
    // Positive θ leans the pole to the right (as Gymnasium draws it).
    let length = 2.0 * HALF_POLE * SCALE;
    let tip = (
        axle.0 + length * state[2].sin(),
        axle.1 - length * state[2].cos(),
    );
    for y in 0..HEIGHT {
        for x in 0..WIDTH {
            let (px, py) = (x as f64 + 0.5, y as f64 + 0.5);
            let colour = if (px - axle.0).hypot(py - axle.1) <= 2.5 {
                4
            } else if distance_to_segment((px, py), axle, tip) <= 2.5 {
                3
            } else if (px - cart_x).abs() <= cart_w / 2.0
                && (py - (TRACK_Y - cart_h / 2.0)).abs() <= cart_h / 2.0
            {
                2
            } else if (py - TRACK_Y).abs() <= 0.5 {
                1
            } else {
                0
            };
            pixels[y * WIDTH + x] = colour;
        }
    }
    pixels
}

fn distance_to_segment(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let t = (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
    (p.0 - a.0 - t * dx).hypot(p.1 - a.1 - t * dy)
}

/// Writes `states` to `out`: `.gif` animates every state; `.png` is a contact sheet of at most
/// 24 evenly spaced states, five per row.
pub fn write(states: &[[f64; 4]], out: &Path) -> anyhow::Result<()> {
    anyhow::ensure!(!states.is_empty(), "no states to draw");
    let ext = out.extension().and_then(|e| e.to_str()).unwrap_or("");
    let file = || {
        std::fs::File::create(out)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))
    };
    match ext {
        "gif" => {
            let palette: Vec<u8> = PALETTE.iter().flatten().copied().collect();
            let mut encoder = gif::Encoder::new(file()?, WIDTH as u16, HEIGHT as u16, &palette)?;
            encoder.set_repeat(gif::Repeat::Infinite)?;
            for state in states {
                let frame = gif::Frame {
                    width: WIDTH as u16,
                    height: HEIGHT as u16,
                    delay: 2, // hundredths of a second: τ
                    buffer: std::borrow::Cow::Owned(draw(*state)),
                    ..gif::Frame::default()
                };
                encoder.write_frame(&frame)?;
            }
            Ok(())
        }
        "png" => {
            let shown = states.len().min(24);
            let picks: Vec<usize> = (0..shown)
                .map(|i| i * (states.len() - 1) / (shown - 1).max(1))
                .collect();
            let columns = shown.min(5);
            let rows = shown.div_ceil(columns);
            let mut sheet = image::RgbImage::from_pixel(
                (columns * WIDTH) as u32,
                (rows * HEIGHT) as u32,
                image::Rgb([255, 255, 255]),
            );
            for (n, &i) in picks.iter().enumerate() {
                let (ox, oy) = ((n % columns) * WIDTH, (n / columns) * HEIGHT);
                for (k, &c) in draw(states[i]).iter().enumerate() {
                    // A thin grey frame around each state.
                    let (x, y) = (k % WIDTH, k / WIDTH);
                    let border = x == 0 || y == 0 || x == WIDTH - 1 || y == HEIGHT - 1;
                    let rgb = if border {
                        [200, 200, 200]
                    } else {
                        PALETTE[c as usize]
                    };
                    sheet.put_pixel((ox + x) as u32, (oy + y) as u32, image::Rgb(rgb));
                }
            }
            sheet
                .save(out)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))
        }
        _ => Err(trainer::UsageError(format!(
            "--out {}: name a .gif (an animation) or a .png (a contact sheet)",
            out.display()
        ))
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pole_leans_the_way_theta_says() {
        let colour_right_of_axle = |theta: f64| {
            let pixels = draw([0.0, 0.0, theta, 0.0]);
            (0..HEIGHT)
                .flat_map(|y| (WIDTH / 2 + 10..WIDTH).map(move |x| (x, y)))
                .filter(|&(x, y)| pixels[y * WIDTH + x] == 3)
                .count()
        };
        assert!(colour_right_of_axle(0.2) > 50);
        assert_eq!(colour_right_of_axle(-0.2), 0);
    }
}
