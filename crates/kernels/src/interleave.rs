//! The channels-last copy every convolution starts with: one image row of `channels` planes
//! (NCHW) becomes `width` pixels of interleaved channels. Element by element this is a strided
//! gather per value; here whole 8 × 8 blocks (8 channels × 8 columns) are loaded as 8 vectors,
//! transposed in registers (unpack, shuffle, lane permute: 24 instructions) and stored as 8
//! vectors. Edges that do not fill a block are copied one value at a time.

use std::mem::MaybeUninit;

use crate::isa::Isa;

/// `dst[w * channels + c] = src[c * plane + w]` for every column `w < width` and channel
/// `c < channels`.
pub(crate) fn interleave_row(
    isa: Isa,
    src: &[f32],
    plane: usize,
    channels: usize,
    width: usize,
    dst: &mut [MaybeUninit<f32>],
) {
    assert!(channels > 0 && width > 0 && width <= plane);
    assert!(src.len() >= (channels - 1) * plane + width, "source row");
    assert!(dst.len() >= width * channels, "destination row");
    let (mut block_c, mut block_w) = (0, 0);
    #[cfg(target_arch = "x86_64")]
    if isa >= Isa::Avx2 {
        (block_c, block_w) = (channels / 8 * 8, width / 8 * 8);
        for c in (0..block_c).step_by(8) {
            for w in (0..block_w).step_by(8) {
                // SAFETY: rows c..c + 8 and columns w..w + 8 are inside both buffers (the
                // asserts above); AVX2 is on the CPU (`isa::active` never picks more).
                unsafe {
                    transpose_8x8(
                        src.as_ptr().add(c * plane + w),
                        plane,
                        dst.as_mut_ptr().add(w * channels + c).cast(),
                        channels,
                    )
                };
            }
        }
    }
    let _ = isa;
    let mut copy = |w: usize, c: usize| {
        dst[w * channels + c].write(src[c * plane + w]);
    };
    // Channels past the last whole block, every column; then the columns past the last whole
    // block, for the blocked channels.
    for w in 0..width {
        for c in block_c..channels {
            copy(w, c);
        }
    }
    for w in block_w..width {
        for c in 0..block_c {
            copy(w, c);
        }
    }
}

/// Transposes the 8 × 8 block at `src` (rows `src_stride` apart) into `dst` (rows
/// `dst_stride` apart).
///
/// # Safety
/// Both blocks are inside their buffers; the CPU has AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn transpose_8x8(src: *const f32, src_stride: usize, dst: *mut f32, dst_stride: usize) {
    use std::arch::x86_64::*;
    unsafe {
        let row = |i: usize| _mm256_loadu_ps(src.add(i * src_stride));
        let (r0, r1, r2, r3) = (row(0), row(1), row(2), row(3));
        let (r4, r5, r6, r7) = (row(4), row(5), row(6), row(7));
        // Pairs of rows interleaved: (r0[0], r1[0], r0[1], r1[1]) per 128-bit lane.
        let (t0, t1) = (_mm256_unpacklo_ps(r0, r1), _mm256_unpackhi_ps(r0, r1));
        let (t2, t3) = (_mm256_unpacklo_ps(r2, r3), _mm256_unpackhi_ps(r2, r3));
        let (t4, t5) = (_mm256_unpacklo_ps(r4, r5), _mm256_unpackhi_ps(r4, r5));
        let (t6, t7) = (_mm256_unpacklo_ps(r6, r7), _mm256_unpackhi_ps(r6, r7));
        // Four rows' values of one column per 128-bit lane.
        let s0 = _mm256_shuffle_ps::<0x44>(t0, t2);
        let s1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
        let s2 = _mm256_shuffle_ps::<0x44>(t1, t3);
        let s3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
        let s4 = _mm256_shuffle_ps::<0x44>(t4, t6);
        let s5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
        let s6 = _mm256_shuffle_ps::<0x44>(t5, t7);
        let s7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
        // The low lanes hold columns 0-3, the high lanes columns 4-7.
        let store = |i: usize, v: __m256| _mm256_storeu_ps(dst.add(i * dst_stride), v);
        store(0, _mm256_permute2f128_ps::<0x20>(s0, s4));
        store(1, _mm256_permute2f128_ps::<0x20>(s1, s5));
        store(2, _mm256_permute2f128_ps::<0x20>(s2, s6));
        store(3, _mm256_permute2f128_ps::<0x20>(s3, s7));
        store(4, _mm256_permute2f128_ps::<0x31>(s0, s4));
        store(5, _mm256_permute2f128_ps::<0x31>(s1, s5));
        store(6, _mm256_permute2f128_ps::<0x31>(s2, s6));
        store(7, _mm256_permute2f128_ps::<0x31>(s3, s7));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every path this CPU has against the plain definition, at block-aligned and ragged
    /// channel counts and widths, with a plane wider than the row (a padded source).
    #[test]
    fn blocks_and_edges_match_the_definition() {
        for (channels, width, plane) in [
            (8, 8, 8),
            (16, 32, 1024),
            (3, 32, 1024),
            (17, 15, 225),
            (64, 7, 49),
            (24, 9, 20),
            (1, 1, 1),
        ] {
            let src: Vec<f32> = (0..channels * plane).map(|i| i as f32).collect();
            for isa in Isa::ALL
                .into_iter()
                .filter(|isa| *isa <= crate::isa::detected())
            {
                let mut dst = vec![MaybeUninit::new(f32::NAN); width * channels];
                interleave_row(isa, &src, plane, channels, width, &mut dst);
                for w in 0..width {
                    for c in 0..channels {
                        // SAFETY: every element was initialised above.
                        let got = unsafe { dst[w * channels + c].assume_init() };
                        assert_eq!(
                            got,
                            src[c * plane + w],
                            "{} c {c} w {w} ({channels} × {width})",
                            isa.name()
                        );
                    }
                }
            }
        }
    }
}
