//! The two inner kernels every convolution here is made of, register-blocked on channels-last
//! data, compiled once per instruction set.
//!
//! - [`RowJob`] computes one output row of a direct convolution: for a tile of `R` output
//!   pixels × [`LANES`] output channels it keeps `R` accumulator vectors in registers and, for
//!   every kernel tap and input channel, loads one weight vector (the `LANES` output channels'
//!   weights for that tap and channel, contiguous after packing) and adds `input scalar ×
//!   weight vector` into each pixel's accumulator: `R` fused multiply-adds per load and
//!   broadcast, no im2col copy, no bounds checks (the input is padded beforehand). The tile is
//!   written once, straight into the NCHW result.
//! - [`GradJob`] adds one image's contribution to the weight gradient: for a tap and a block of
//!   `K` input channels × `LANES` output channels it keeps `K` accumulator vectors, and per
//!   output pixel loads the `LANES` channels of the output gradient once and adds `input scalar
//!   × gradient vector` into each.
//!
//! `LANES = 16` is one AVX-512 register, two AVX2 registers. The tile sizes per instruction
//! set (`R` = 8 / 4 / 4 pixels, `K` = 16 / 6 / 4 channels for AVX-512 / AVX2 / portable) keep
//! the accumulators plus the operands within the 32 (AVX-512) or 16 (AVX2) vector registers,
//! and give at least eight independent accumulation chains to cover the multiply-add latency.
//! On AVX-512 a forward tile also spans two blocks of output channels where the layer has them
//! (16 accumulators, each input broadcast feeding two multiply-adds): 8 chains left no slack
//! for the two 4-cycle FMA pipes of Zen 5, and the two-block tile runs 17–25% faster at 32 and
//! 64 channels there.

use crate::isa::Isa;

/// Output channels per register block.
pub const LANES: usize = 16;

/// Output channels below which Burn's own convolution is kept: a layer with few of them (an
/// image decoder's last layer with 1 or 3) would waste most of each block's multiply-adds.
pub const MIN_OUTPUT_CHANNELS: usize = 8;

/// The widest pixel tile ([`RowJob`] computes every tile whole, so it reads up to
/// `MAX_TILE - 1` windows past the end of a row: see [`input_padding`]).
pub const MAX_TILE: usize = 8;

/// `padding` (`[[top, bottom], [left, right]]`) with the extra zero columns on the right that
/// let [`RowJob`] compute a row's last tile whole at column `stride`.
pub fn input_padding(padding: [[usize; 2]; 2], stride: usize) -> [[usize; 2]; 2] {
    [
        padding[0],
        [padding[1][0], padding[1][1] + (MAX_TILE - 1) * stride],
    ]
}

type Vector = [f32; LANES];

/// The arithmetic of one instruction set: `a * b + c` on scalars (fused where the instruction
/// set has it), and on a vector of [`LANES`] floats.
trait MulAdd {
    type Lanes: Copy;
    fn mul_add(a: f32, b: f32, c: f32) -> f32;
    /// # Safety
    /// `p` points at [`LANES`] readable floats.
    unsafe fn load(p: *const f32) -> Self::Lanes;
    /// # Safety
    /// `p` points at [`LANES`] writable floats.
    unsafe fn store(p: *mut f32, v: Self::Lanes);
    /// `acc + x · v`, lane by lane.
    fn add_scaled(acc: Self::Lanes, x: f32, v: Self::Lanes) -> Self::Lanes;
}

/// One rounding (`vfmadd`): the AVX2 path, vectorised by the compiler.
struct Fused;

/// Multiply then add: the portable path (a fused `mul_add` without hardware FMA is a slow
/// library call).
struct Separate;

macro_rules! array_lanes {
    ($name:ident, |$a:ident, $b:ident, $c:ident| $mul_add:expr) => {
        impl MulAdd for $name {
            type Lanes = Vector;
            #[inline(always)]
            fn mul_add($a: f32, $b: f32, $c: f32) -> f32 {
                $mul_add
            }
            #[inline(always)]
            unsafe fn load(p: *const f32) -> Vector {
                unsafe { load(p) }
            }
            #[inline(always)]
            unsafe fn store(p: *mut f32, v: Vector) {
                unsafe { p.cast::<Vector>().write_unaligned(v) }
            }
            #[inline(always)]
            fn add_scaled(mut acc: Vector, x: f32, v: Vector) -> Vector {
                for l in 0..LANES {
                    acc[l] = Self::mul_add(x, v[l], acc[l]);
                }
                acc
            }
        }
    };
}

array_lanes!(Fused, |a, b, c| a.mul_add(b, c));
array_lanes!(Separate, |a, b, c| a * b + c);

/// AVX-512 with explicit 512-bit registers. The weight-gradient tile written on arrays, as for
/// the other paths, is vectorised at 512 bits into gathers and scatters across the
/// accumulators by LLVM (20× slower than AVX2 on Zen 5); with `__m512` values it is one
/// broadcast multiply-add per accumulator.
#[cfg(target_arch = "x86_64")]
struct Zmm;

#[cfg(target_arch = "x86_64")]
impl MulAdd for Zmm {
    type Lanes = std::arch::x86_64::__m512;
    #[inline(always)]
    fn mul_add(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self::Lanes {
        // SAFETY: only called inside `#[target_feature(enable = "avx512f")]` kernels.
        unsafe { std::arch::x86_64::_mm512_loadu_ps(p) }
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: Self::Lanes) {
        unsafe { std::arch::x86_64::_mm512_storeu_ps(p, v) }
    }
    #[inline(always)]
    fn add_scaled(acc: Self::Lanes, x: f32, v: Self::Lanes) -> Self::Lanes {
        use std::arch::x86_64::{_mm512_fmadd_ps, _mm512_set1_ps};
        // SAFETY: as above.
        unsafe { _mm512_fmadd_ps(_mm512_set1_ps(x), v, acc) }
    }
}

/// One output row of a direct convolution on channels-last input (see the module docs).
/// Distances are in elements. The last tile of the row is computed whole and stored in part,
/// so the input row has [`input_padding`]'s extra columns.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RowJob {
    /// Input at the window origin of the row's first output pixel, channel 0.
    pub x: *const f32,
    /// Between the windows of successive output pixels (stride × channels).
    pub x_step: usize,
    /// Between kernel rows and between kernel columns of one window.
    pub tap_row: usize,
    pub tap_col: usize,
    pub taps: [usize; 2],
    /// Channels summed over (the input's).
    pub channels: usize,
    /// Packed weights `[blocks][taps_h][taps_w][channels][LANES]`.
    pub w: *const f32,
    pub blocks: usize,
    /// Real output channels (the last block may be partial).
    pub outputs: usize,
    /// `[blocks * LANES]`, the accumulators' starting values.
    pub bias: *const f32,
    /// Output at (this row, pixel 0, channel 0), and its strides.
    pub out: *mut f32,
    pub out_channel: usize,
    pub out_step: usize,
    /// Output pixels in the row.
    pub width: usize,
}

/// One image's share of a weight gradient, accumulated into packed `dw`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct GradJob {
    /// Padded channels-last input of the image at (0, 0, channel 0), its row length and
    /// channel count.
    pub x: *const f32,
    pub x_row: usize,
    pub channels: usize,
    pub stride: [usize; 2],
    pub dilation: [usize; 2],
    pub taps: [usize; 2],
    /// Channels-last output gradient of the image at output (0, 0), channel 0; distances
    /// between its rows and pixels. Reads run up to `LANES - 1` elements past the last real
    /// channel (into lanes whose sums are discarded), so the buffer has that much slack.
    pub dy: *const f32,
    pub dy_row: usize,
    pub dy_pixel: usize,
    /// Output rows and columns.
    pub size: [usize; 2],
    pub blocks: usize,
    /// Packed `[blocks][taps_h][taps_w][channels][LANES]`, added to.
    pub dw: *mut f32,
}

// SAFETY (both job types): every pointer is derived from a buffer the caller keeps alive for
// the whole call, and concurrent jobs write disjoint elements.
unsafe impl Send for RowJob {}
unsafe impl Sync for RowJob {}
unsafe impl Send for GradJob {}
unsafe impl Sync for GradJob {}

impl RowJob {
    /// Runs the row with `isa`'s kernels.
    ///
    /// # Safety
    /// The pointers and distances describe buffers large enough for every access the job's
    /// geometry implies; `isa` runs on this CPU ([`crate::isa::active`] guarantees it).
    pub(crate) unsafe fn run(&self, isa: Isa) {
        unsafe {
            match isa {
                #[cfg(target_arch = "x86_64")]
                Isa::Avx512 => row_avx512(self),
                #[cfg(target_arch = "x86_64")]
                Isa::Avx2 => row_avx2(self),
                #[cfg(test)]
                _ if tests::wide() => conv_row::<8, 2, Fused>(self),
                _ => conv_row::<4, 1, Separate>(self),
            }
        }
    }
}

impl GradJob {
    /// Adds the image's gradient with `isa`'s kernels.
    ///
    /// # Safety
    /// As [`RowJob::run`].
    pub(crate) unsafe fn run(&self, isa: Isa) {
        unsafe {
            match isa {
                #[cfg(target_arch = "x86_64")]
                Isa::Avx512 => grad_avx512(self),
                #[cfg(target_arch = "x86_64")]
                Isa::Avx2 => grad_avx2(self),
                #[cfg(test)]
                _ if tests::wide() => weight_grad::<16, Fused>(self),
                _ => weight_grad::<4, Separate>(self),
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn row_avx512(job: &RowJob) {
    unsafe { conv_row::<8, 2, Zmm>(job) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn row_avx2(job: &RowJob) {
    unsafe { conv_row::<4, 1, Fused>(job) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn grad_avx512(job: &GradJob) {
    unsafe { weight_grad::<16, Zmm>(job) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn grad_avx2(job: &GradJob) {
    unsafe { weight_grad::<6, Fused>(job) }
}

#[inline(always)]
unsafe fn load(p: *const f32) -> Vector {
    unsafe { p.cast::<Vector>().read_unaligned() }
}

/// The row in tiles of `R` pixels × `B` blocks of output channels (then single blocks for the
/// remainder): each input broadcast feeds `B` multiply-adds.
#[inline(always)]
unsafe fn conv_row<const R: usize, const B: usize, F: MulAdd>(job: &RowJob) {
    let mut block = 0;
    while block + B <= job.blocks {
        unsafe { conv_blocks::<R, B, F>(job, block) };
        block += B;
    }
    while block < job.blocks {
        unsafe { conv_blocks::<R, 1, F>(job, block) };
        block += 1;
    }
}

/// Blocks `first..first + B` of the row.
#[inline(always)]
unsafe fn conv_blocks<const R: usize, const B: usize, F: MulAdd>(job: &RowJob, first: usize) {
    let block_len = job.taps[0] * job.taps[1] * job.channels * LANES;
    let w = unsafe { job.w.add(first * block_len) };
    let bias: [Vector; B] =
        std::array::from_fn(|b| unsafe { load(job.bias.add((first + b) * LANES)) });
    // Whole tiles only, the last one stored in part: a narrower remainder tile would have too
    // few independent accumulators to hide the multiply-add latency.
    for col in (0..job.width).step_by(R) {
        let pixels = (job.width - col).min(R);
        let tile = unsafe { conv_tile::<R, B, F>(job, w, block_len, bias, col) };
        for (b, tile) in tile.iter().enumerate() {
            let block = first + b;
            let valid = (job.outputs - block * LANES).min(LANES);
            let out = unsafe {
                job.out
                    .add(block * LANES * job.out_channel + col * job.out_step)
            };
            for l in 0..valid {
                let o = unsafe { out.add(l * job.out_channel) };
                for (r, pixel) in tile.iter().take(pixels).enumerate() {
                    unsafe { *o.add(r * job.out_step) = pixel[l] };
                }
            }
        }
    }
}

/// One tile's sums: `[block][pixel][lane]`.
#[inline(always)]
unsafe fn conv_tile<const R: usize, const B: usize, F: MulAdd>(
    job: &RowJob,
    w: *const f32,
    block_len: usize,
    bias: [Vector; B],
    col: usize,
) -> [[Vector; R]; B] {
    let mut acc = bias.map(|bias| [bias; R]);
    let x0 = unsafe { job.x.add(col * job.x_step) };
    for th in 0..job.taps[0] {
        for tw in 0..job.taps[1] {
            let x = unsafe { x0.add(th * job.tap_row + tw * job.tap_col) };
            let wt = unsafe { w.add((th * job.taps[1] + tw) * job.channels * LANES) };
            for c in 0..job.channels {
                let wv: [Vector; B] =
                    std::array::from_fn(|b| unsafe { load(wt.add(b * block_len + c * LANES)) });
                // Pixel outer, block inner: one input broadcast serves every block.
                #[allow(clippy::needless_range_loop)]
                for r in 0..R {
                    let xv = unsafe { *x.add(r * job.x_step + c) };
                    for b in 0..B {
                        for l in 0..LANES {
                            acc[b][r][l] = F::mul_add(xv, wv[b][l], acc[b][r][l]);
                        }
                    }
                }
            }
        }
    }
    // Leave registers once: the scatter indexes lanes at run time.
    std::hint::black_box(acc)
}

/// Every block and tap in input-channel tiles of `K`, then 8, 4, 2 and 1.
#[inline(always)]
unsafe fn weight_grad<const K: usize, F: MulAdd>(job: &GradJob) {
    let tap_len = job.channels * LANES;
    for block in 0..job.blocks {
        for th in 0..job.taps[0] {
            for tw in 0..job.taps[1] {
                let dw = unsafe {
                    job.dw
                        .add(((block * job.taps[0] + th) * job.taps[1] + tw) * tap_len)
                };
                let mut c = 0;
                while c + K <= job.channels {
                    unsafe { grad_tile::<K, F>(job, block, [th, tw], c, dw) };
                    c += K;
                }
                if K > 8 && c + 8 <= job.channels {
                    unsafe { grad_tile::<8, F>(job, block, [th, tw], c, dw) };
                    c += 8;
                }
                if K > 4 && c + 4 <= job.channels {
                    unsafe { grad_tile::<4, F>(job, block, [th, tw], c, dw) };
                    c += 4;
                }
                if K > 2 && c + 2 <= job.channels {
                    unsafe { grad_tile::<2, F>(job, block, [th, tw], c, dw) };
                    c += 2;
                }
                if c < job.channels {
                    unsafe { grad_tile::<1, F>(job, block, [th, tw], c, dw) };
                }
            }
        }
    }
}

#[inline(always)]
unsafe fn grad_tile<const K: usize, F: MulAdd>(
    job: &GradJob,
    block: usize,
    tap: [usize; 2],
    channel: usize,
    dw: *mut f32,
) {
    let mut acc: [F::Lanes; K] =
        std::array::from_fn(|k| unsafe { F::load(dw.add((channel + k) * LANES)) });
    let x_tap = tap[0] * job.dilation[0] * job.x_row + tap[1] * job.dilation[1] * job.channels;
    for oh in 0..job.size[0] {
        let x_row = unsafe { job.x.add(oh * job.stride[0] * job.x_row + x_tap + channel) };
        let dy_row = unsafe { job.dy.add(oh * job.dy_row + block * LANES) };
        for ow in 0..job.size[1] {
            let dv = unsafe { F::load(dy_row.add(ow * job.dy_pixel)) };
            let x = unsafe { x_row.add(ow * job.stride[1] * job.channels) };
            for (k, acc) in acc.iter_mut().enumerate() {
                *acc = F::add_scaled(*acc, unsafe { *x.add(k) }, dv);
            }
        }
    }
    for (k, acc) in acc.into_iter().enumerate() {
        unsafe { F::store(dw.add((channel + k) * LANES), acc) };
    }
}

/// Test hook: the portable path runs the AVX-512 tiles (8 pixels × 2 blocks, 16 channels, fused
/// multiply-add) without the AVX-512 target feature, so that machines without AVX-512 check
/// that tiling against the narrow one (`conv`'s tests). Process-wide, as the kernels run on
/// rayon's threads; only that test sets it.
#[cfg(test)]
pub(crate) mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    pub(crate) static WIDE: AtomicBool = AtomicBool::new(false);

    pub(crate) fn wide() -> bool {
        WIDE.load(Ordering::Relaxed)
    }
}
