//! Convolutions on host buffers (NCHW in and out, channels-last inside): the forward pass, the
//! transposed convolution (which is also the forward's input gradient) and the weight
//! gradient, each a loop of [`crate::direct`] jobs spread over threads with rayon.
//!
//! - **Forward**: the input is copied once into a zero-padded channels-last buffer (kept for
//!   the backward pass), weights are packed `[c_out / 16][kh][kw][c_in][16]`, and one job per
//!   (image, output row) writes NCHW output directly.
//! - **Transposed** (`conv_transpose2d`, and the input gradient `dX` of a convolution): with
//!   stride `s`, output position `i` only receives kernel taps `k ≡ (i + pad) mod s`, so the
//!   output splits into `s²` phases, each a stride-1 direct convolution of the (padded)
//!   input with that phase's taps, rotated 180° and with input/output channels swapped.
//!   No zero-insertion, no scatter-add: each output element is written once.
//! - **Weight gradient**: per thread, a packed partial sum over its images ([`GradJob`]),
//!   then the partials are added and unpacked to `[c_out][c_in][kh][kw]`.

use std::mem::MaybeUninit;

use rayon::prelude::*;

use crate::direct::{GradJob, LANES, MAX_TILE, RowJob};
use crate::interleave::interleave_row;
use crate::isa::Isa;

/// A zero-padded channels-last batch, `[batch][rows][cols][channels]`, with [`LANES`] spare
/// elements at the end (see [`GradJob::dy`]).
#[derive(Clone, Debug)]
pub struct ChannelsLast {
    pub data: Vec<f32>,
    pub batch: usize,
    pub rows: usize,
    pub cols: usize,
    pub channels: usize,
}

impl ChannelsLast {
    /// Copies NCHW `src` (`[batch, channels, height, width]`) with `pad = [[top, bottom], [left,
    /// right]]` zeros around each image.
    pub fn from_nchw(src: &[f32], dims: [usize; 4], pad: [[usize; 2]; 2]) -> ChannelsLast {
        let [batch, channels, height, width] = dims;
        assert_eq!(
            src.len(),
            batch * channels * height * width,
            "NCHW buffer size"
        );
        let rows = pad[0][0] + height + pad[0][1];
        let cols = pad[1][0] + width + pad[1][1];
        let row_len = cols * channels;
        let len = batch * rows * row_len;
        // Every element is written below (values or padding zeros): no zeroing pass first.
        let mut data = Vec::<f32>::with_capacity(len + LANES);
        let spare = &mut data.spare_capacity_mut()[..len + LANES];
        spare[len..].fill(MaybeUninit::new(0.0));
        let plane = height * width;
        let isa = crate::isa::active();
        spare[..len]
            .par_chunks_mut(row_len)
            .enumerate()
            .for_each(|(index, row)| {
                let (image, r) = (index / rows, index % rows);
                let Some(h) = r.checked_sub(pad[0][0]).filter(|h| *h < height) else {
                    row.fill(MaybeUninit::new(0.0));
                    return;
                };
                let (before, rest) = row.split_at_mut(pad[1][0] * channels);
                let (real, after) = rest.split_at_mut(width * channels);
                before.fill(MaybeUninit::new(0.0));
                after.fill(MaybeUninit::new(0.0));
                let src = &src[image * channels * plane + h * width..];
                interleave_row(isa, src, plane, channels, width, real);
            });
        // SAFETY: all `len + LANES` elements were written.
        unsafe { data.set_len(len + LANES) };
        ChannelsLast {
            data,
            batch,
            rows,
            cols,
            channels,
        }
    }

    fn image_len(&self) -> usize {
        self.rows * self.cols * self.channels
    }

    fn row_len(&self) -> usize {
        self.cols * self.channels
    }
}

/// A convolution's weights `[outputs][inputs][kh][kw]`.
#[derive(Clone, Copy, Debug)]
pub struct Weights<'a> {
    pub data: &'a [f32],
    pub dims: [usize; 4],
}

pub(crate) fn blocks(channels: usize) -> usize {
    channels.div_ceil(LANES)
}

/// `bias` (or zeros) padded to whole blocks.
pub(crate) fn padded_bias(bias: Option<&[f32]>, channels: usize) -> Vec<f32> {
    let mut out = vec![0.0; blocks(channels) * LANES];
    if let Some(bias) = bias {
        out[..channels].copy_from_slice(&bias[..channels]);
    }
    out
}

/// Packs `[blocks(outputs)][taps_h][taps_w][inputs][LANES]` from a weight accessor
/// `value(output, input, tap_h, tap_w)`; lanes past `outputs` are zero.
pub(crate) fn pack(
    outputs: usize,
    inputs: usize,
    taps: [usize; 2],
    value: impl Fn(usize, usize, usize, usize) -> f32,
) -> Vec<f32> {
    let mut packed = vec![0.0f32; blocks(outputs) * taps[0] * taps[1] * inputs * LANES];
    for o in 0..outputs {
        let (block, lane) = (o / LANES, o % LANES);
        for th in 0..taps[0] {
            for tw in 0..taps[1] {
                for i in 0..inputs {
                    let at = (((block * taps[0] + th) * taps[1] + tw) * inputs + i) * LANES + lane;
                    packed[at] = value(o, i, th, tw);
                }
            }
        }
    }
    packed
}

/// Raw pointer to share an output buffer between jobs that write disjoint elements.
#[derive(Clone, Copy)]
pub(crate) struct Shared(pub(crate) *mut f32);
// SAFETY: jobs built from it write disjoint elements (see the callers).
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}

impl Shared {
    /// # Safety
    /// `offset` is inside the buffer.
    pub(crate) unsafe fn at(self, offset: usize) -> *mut f32 {
        unsafe { self.0.add(offset) }
    }
}

/// Direct convolution of padded `x` with `weight` (`[c_out][c_in][kh][kw]`): NCHW
/// `[batch, c_out, out[0], out[1]]`.
pub fn forward(
    isa: Isa,
    x: &ChannelsLast,
    weight: Weights,
    bias: Option<&[f32]>,
    stride: [usize; 2],
    dilation: [usize; 2],
    out: [usize; 2],
) -> Vec<f32> {
    let [c_out, c_in, kh, kw] = weight.dims;
    assert_eq!(c_in, x.channels, "input channels");
    assert!(
        (out[0] - 1) * stride[0] + (kh - 1) * dilation[0] < x.rows,
        "rows"
    );
    assert!(
        (out[1] - 1) * stride[1] + (kw - 1) * dilation[1] < x.cols,
        "columns"
    );
    let packed = pack(c_out, c_in, [kh, kw], |o, i, h, w| {
        weight.data[((o * c_in + i) * kh + h) * kw + w]
    });
    let bias = padded_bias(bias, c_out);
    let plane = out[0] * out[1];
    let len = x.batch * c_out * plane;
    // Every element is written by exactly one job: no zeroing pass first.
    let mut y = Vec::<f32>::with_capacity(len);
    let y_ptr = Shared(y.as_mut_ptr());
    (0..x.batch * out[0]).into_par_iter().for_each(|index| {
        let (image, row) = (index / out[0], index % out[0]);
        let job = RowJob {
            x: x.data[image * x.image_len() + row * stride[0] * x.row_len()..].as_ptr(),
            x_step: stride[1] * c_in,
            tap_row: dilation[0] * x.row_len(),
            tap_col: dilation[1] * c_in,
            taps: [kh, kw],
            channels: c_in,
            w: packed.as_ptr(),
            blocks: blocks(c_out),
            outputs: c_out,
            bias: bias.as_ptr(),
            // SAFETY: inside `y`; rows of different jobs never overlap.
            out: unsafe { y_ptr.at(image * c_out * plane + row * out[1]) },
            out_channel: plane,
            out_step: 1,
            width: out[1],
        };
        // SAFETY: the asserts above bound every read of `x`; `packed` and `bias` are sized
        // by `pack` and `padded_bias`.
        unsafe { job.run(isa) };
    });
    // SAFETY: the jobs wrote all (image, channel, row, column) elements.
    unsafe { y.set_len(len) };
    y
}

/// Shape of a transposed convolution: the input `[batch, c_in, in[0], in[1]]` is the
/// output gradient of a convolution whose input (our output) is `out`, weight
/// `[c_in][c_out][kh][kw]`, `stride` and leading padding `pad`.
#[derive(Clone, Copy, Debug)]
pub struct Transposed {
    pub input: [usize; 4],
    pub out: [usize; 2],
    pub stride: [usize; 2],
    pub pad: [usize; 2],
}

impl Transposed {
    /// Per dimension: the zero rows to put before the input (`ceil(k / s) - 1`, the most taps
    /// a phase has, less one) and the padded length.
    fn padding(&self, kernel: [usize; 2]) -> [[usize; 2]; 2] {
        std::array::from_fn(|d| {
            let (k, s, p) = (kernel[d], self.stride[d], self.pad[d]);
            let before = k.div_ceil(s) - 1;
            // The last phase row reads input position (out - 1 + pad) / s.
            let needed = ((self.out[d] - 1 + p) / s + 1).max(self.input[2 + d]);
            // Columns: room for the row jobs' last whole tile (stride 1 in a phase).
            let tile = if d == 1 { MAX_TILE - 1 } else { 0 };
            [before, needed - self.input[2 + d] + tile]
        })
    }

    /// Where the real input starts in [`Transposed::pad_input`]'s buffer (row, column).
    pub fn leading(&self, kernel: [usize; 2]) -> [usize; 2] {
        let padding = self.padding(kernel);
        [padding[0][0], padding[1][0]]
    }

    /// The padded channels-last copy of the input that [`transposed`] reads.
    pub fn pad_input(&self, src: &[f32], kernel: [usize; 2]) -> ChannelsLast {
        ChannelsLast::from_nchw(src, self.input, self.padding(kernel))
    }
}

/// Transposed convolution (`conv_transpose2d`, or a convolution's input gradient) of `input`
/// (from [`Transposed::pad_input`]) with `weight` `[c_in][c_out][kh][kw]`: NCHW
/// `[batch, c_out, out[0], out[1]]`.
pub fn transposed(
    isa: Isa,
    geometry: &Transposed,
    input: &ChannelsLast,
    weight: Weights,
    bias: Option<&[f32]>,
) -> Vec<f32> {
    let [c_in, c_out, kh, kw] = weight.dims;
    let kernel = [kh, kw];
    let [batch, channels, ..] = geometry.input;
    assert_eq!(channels, c_in, "transposed convolution input channels");
    let padding = geometry.padding(kernel);
    assert_eq!(
        [input.rows, input.cols, input.channels],
        [
            padding[0][0] + geometry.input[2] + padding[0][1],
            padding[1][0] + geometry.input[3] + padding[1][1],
            c_in
        ]
    );
    let [oh, ow] = geometry.out;
    let plane = oh * ow;
    let len = batch * c_out * plane;
    // Every output position is in exactly one phase; when every phase has taps, its job
    // writes it and no zeroing pass is needed. Otherwise the positions of tapless phases
    // keep the bias (or zero).
    let mut y = Vec::<f32>::with_capacity(len);
    let every_phase_has_taps = (0..2).all(|d| kernel[d] >= geometry.stride[d]);
    if !every_phase_has_taps {
        y.resize(len, 0.0);
        if let Some(bias) = bias {
            for (i, chunk) in y.chunks_mut(plane).enumerate() {
                chunk.fill(bias[i % c_out]);
            }
        }
    }
    let bias = padded_bias(bias, c_out);
    let y_ptr = Shared(y.as_mut_ptr());
    let [sh, sw] = geometry.stride;
    for rh in 0..sh {
        for rw in 0..sw {
            let phase = [rh, rw];
            // Per dimension: taps in this phase, first and count of the phase's positions
            // (output `s * q + r - pad` for q in first..first + count).
            let dims: [(usize, usize, usize); 2] = std::array::from_fn(|d| {
                let (k, s, p, r) = (kernel[d], geometry.stride[d], geometry.pad[d], phase[d]);
                let taps = if r < k { (k - r).div_ceil(s) } else { 0 };
                let first = p.saturating_sub(r).div_ceil(s);
                let count = (geometry.out[d] - 1 + p)
                    .checked_sub(r)
                    .map_or(0, |top| (top / s + 1).saturating_sub(first));
                (taps, first, count)
            });
            let [(taps_h, first_h, rows), (taps_w, first_w, cols)] = dims;
            if taps_h == 0 || taps_w == 0 || rows == 0 || cols == 0 {
                continue; // bias (or zero) already there
            }
            // Tap t' of the phase is kernel tap r + s (taps - 1 - t'): rotated.
            let packed = pack(c_out, c_in, [taps_h, taps_w], |o, i, th, tw| {
                let h = rh + sh * (taps_h - 1 - th);
                let w = rw + sw * (taps_w - 1 - tw);
                weight.data[((i * c_out + o) * kh + h) * kw + w]
            });
            let origin_h = first_h + padding[0][0] + 1 - taps_h;
            let origin_w = first_w + padding[1][0] + 1 - taps_w;
            let out_h0 = sh * first_h + rh - geometry.pad[0];
            let out_w0 = sw * first_w + rw - geometry.pad[1];
            (0..batch * rows).into_par_iter().for_each(|index| {
                let (image, j) = (index / rows, index % rows);
                let start =
                    image * input.image_len() + (origin_h + j) * input.row_len() + origin_w * c_in;
                let job = RowJob {
                    x: input.data[start..].as_ptr(),
                    x_step: c_in,
                    tap_row: input.row_len(),
                    tap_col: c_in,
                    taps: [taps_h, taps_w],
                    channels: c_in,
                    w: packed.as_ptr(),
                    blocks: blocks(c_out),
                    outputs: c_out,
                    bias: bias.as_ptr(),
                    // SAFETY: the phase's positions are disjoint from every other phase's
                    // and row's.
                    out: unsafe {
                        y_ptr.at(image * c_out * plane + (out_h0 + sh * j) * ow + out_w0)
                    },
                    out_channel: plane,
                    out_step: sw,
                    width: cols,
                };
                // SAFETY: `padding` sized the input for every phase's reads.
                unsafe { job.run(isa) };
            });
        }
    }
    // SAFETY: initialised above, or written by the phases' jobs.
    unsafe { y.set_len(len) };
    y
}

/// A convolution's sliding window: kernel size, stride and dilation per dimension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub dilation: [usize; 2],
}

/// The gradient of a convolution's weight: `dw[o][i][th][tw] = Σ dy[o] · x[i]` over images and
/// output pixels, where `x` is the padded input and `dy` the output gradient, channels-last,
/// starting at `dy_origin` (row, column) of its buffer and `size` pixels large.
pub fn weight_grad(
    isa: Isa,
    x: &ChannelsLast,
    dy: &ChannelsLast,
    dy_origin: [usize; 2],
    size: [usize; 2],
    window: Window,
) -> Vec<f32> {
    let Window {
        kernel,
        stride,
        dilation,
    } = window;
    let (c_in, c_out) = (x.channels, dy.channels);
    assert_eq!(x.batch, dy.batch, "batch");
    assert!(
        (size[0] - 1) * stride[0] + (kernel[0] - 1) * dilation[0] < x.rows,
        "rows"
    );
    assert!(
        (size[1] - 1) * stride[1] + (kernel[1] - 1) * dilation[1] < x.cols,
        "columns"
    );
    assert!(dy_origin[0] + size[0] <= dy.rows && dy_origin[1] + size[1] <= dy.cols);
    let packed_len = blocks(c_out) * kernel[0] * kernel[1] * c_in * LANES;
    let threads = rayon::current_num_threads().max(1);
    let per_task = x.batch.div_ceil(threads).max(1);
    let packed = (0..x.batch)
        .into_par_iter()
        .with_min_len(per_task)
        .fold(
            || vec![0.0f32; packed_len],
            |mut partial, image| {
                let job = GradJob {
                    x: x.data[image * x.image_len()..].as_ptr(),
                    x_row: x.row_len(),
                    channels: c_in,
                    stride,
                    dilation,
                    taps: kernel,
                    dy: dy.data[image * dy.image_len()
                        + dy_origin[0] * dy.row_len()
                        + dy_origin[1] * c_out..]
                        .as_ptr(),
                    dy_row: dy.row_len(),
                    dy_pixel: c_out,
                    size,
                    blocks: blocks(c_out),
                    dw: partial.as_mut_ptr(),
                };
                // SAFETY: the asserts bound the reads; `dy` has LANES spare elements at its
                // end; `partial` is this fold's own.
                unsafe { job.run(isa) };
                partial
            },
        )
        .reduce_with(|mut a, b| {
            a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
            a
        })
        .unwrap_or_else(|| vec![0.0; packed_len]);
    let [kh, kw] = kernel;
    let mut dw = vec![0.0f32; c_out * c_in * kh * kw];
    for o in 0..c_out {
        let (block, lane) = (o / LANES, o % LANES);
        for i in 0..c_in {
            for th in 0..kh {
                for tw in 0..kw {
                    dw[((o * c_in + i) * kh + th) * kw + tw] =
                        packed[(((block * kh + th) * kw + tw) * c_in + i) * LANES + lane];
                }
            }
        }
    }
    dw
}

/// Per-channel sums of NCHW `dy`: a bias gradient.
pub fn channel_sums(dy: &[f32], dims: [usize; 4]) -> Vec<f32> {
    let [batch, channels, h, w] = dims;
    let plane = h * w;
    (0..channels)
        .map(|c| {
            (0..batch)
                .map(|n| {
                    let start = (n * channels + c) * plane;
                    dy[start..start + plane]
                        .iter()
                        .map(|v| *v as f64)
                        .sum::<f64>()
                })
                .sum::<f64>() as f32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    //! The AVX-512 tiles checked on any machine, against the narrow ones (see
    //! `direct::tests`).

    use std::sync::atomic::Ordering;

    use super::*;
    use crate::direct::input_padding;
    use crate::direct::tests::WIDE;

    fn numbers(n: usize, seed: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (((i * 7919 + seed * 104_729) % 2003) as f32 - 1001.0) / 500.0)
            .collect()
    }

    /// Forward, transposed and weight gradient through both tilings, on shapes whose widths
    /// and channel counts leave every remainder tile (4, 2, 1) in use.
    fn all_ops() -> Vec<Vec<f32>> {
        let (batch, c_in, c_out, side, k) = (2, 29, 21, 15, 3);
        let x = numbers(batch * c_in * side * side, 1);
        let w = numbers(c_out * c_in * k * k, 2);
        let bias = numbers(c_out, 3);
        let padded = ChannelsLast::from_nchw(
            &x,
            [batch, c_in, side, side],
            input_padding([[1, 1], [1, 1]], 1),
        );
        let weights = Weights {
            data: &w,
            dims: [c_out, c_in, k, k],
        };
        let y = forward(
            Isa::Portable,
            &padded,
            weights,
            Some(&bias),
            [1, 1],
            [1, 1],
            [side, side],
        );
        let geometry = Transposed {
            input: [batch, c_out, side, side],
            out: [side, side],
            stride: [1, 1],
            pad: [1, 1],
        };
        let dy = geometry.pad_input(&y, [k, k]);
        let dx = transposed(Isa::Portable, &geometry, &dy, weights, None);
        let dw = weight_grad(
            Isa::Portable,
            &padded,
            &dy,
            geometry.leading([k, k]),
            [side, side],
            Window {
                kernel: [k, k],
                stride: [1, 1],
                dilation: [1, 1],
            },
        );
        vec![y, dx, dw]
    }

    #[test]
    fn wide_tiles_match_the_narrow_ones() {
        let narrow = all_ops();
        WIDE.store(true, Ordering::Relaxed);
        let wide = all_ops();
        WIDE.store(false, Ordering::Relaxed);
        for (a, b) in wide.iter().zip(&narrow) {
            let scale = b.iter().fold(1.0f32, |m, v| m.max(v.abs()));
            for (x, y) in a.iter().zip(b) {
                assert!((x - y).abs() <= 1e-5 * scale, "{x} vs {y}");
            }
        }
    }
}
