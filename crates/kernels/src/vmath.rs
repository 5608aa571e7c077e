//! `exp` and the normal distribution's CDF in f32, written without branches or library calls so
//! that a loop over a slice compiles to vector instructions (libm's `expf` and `erff`, which
//! Burn's CPU backends call per element, are scalar).

use std::f32::consts::{FRAC_1_SQRT_2, LN_2, LOG2_E};

/// 1.5 · 2²³: adding and subtracting it rounds an f32 below 2²² to the nearest integer, and the
/// sum's low mantissa bits hold that integer.
const ROUNDER: f32 = 12_582_912.0;
/// ln 2 split in two (Cody and Waite), so that `x - n ln 2` loses nothing for |n| ≤ 128.
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = LN_2 - LN2_HI;

/// eˣ, within 3 ulp of the exact value for x in [-87.3, 88]: 0 below (where eˣ is subnormal:
/// a masked softmax entry must come out exactly 0), e⁸⁸ above; NaN stays NaN.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let underflows = x < -87.3;
    let x = x.clamp(-87.3, 88.0);
    // x = n ln 2 + r with n an integer and |r| ≤ ln 2 / 2; eˣ = 2ⁿ eʳ.
    let shifted = x * LOG2_E + ROUNDER;
    let n = shifted - ROUNDER;
    let r = x - n * LN2_HI - n * LN2_LO;
    // Cephes' `expf` polynomial for eʳ on [-ln 2 / 2, ln 2 / 2].
    let p = 1.987_569_1e-4;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 0.5;
    let e_r = p * r * r + r + 1.0;
    let n = shifted.to_bits().wrapping_sub(ROUNDER.to_bits()) as i32;
    let y = e_r * f32::from_bits(((n + 127) as u32) << 23);
    if underflows { 0.0 } else { y }
}

/// The standard normal CDF Φ(x) and density φ(x), the two factors of GELU and its derivative.
///
/// Φ(x) = erfc(-x/√2) / 2 through Abramowitz and Stegun's 7.1.26 (|error of erf| ≤ 1.5e-7),
/// evaluated from erfc(|x|/√2), so the left tail is not `1 - 0.99999…` rounded in f32. The
/// error is absolute, as that of `0.5 (1 + erf(x/√2))` in f32 (what PyTorch computes): in the
/// far left tail, where Φ itself is below 1e-7, it is not small relative to Φ.
#[inline(always)]
pub fn normal_cdf_and_density(x: f32) -> (f32, f32) {
    const P: f32 = 0.327_591_1;
    const A: [f32; 5] = [
        0.254_829_6,
        -0.284_496_74,
        1.421_413_8,
        -1.453_152,
        1.061_405_4,
    ];
    const FRAC_1_SQRT_2PI: f32 = 0.398_942_3;
    let z = x * FRAC_1_SQRT_2;
    let t = 1.0 / (1.0 + P * z.abs());
    let poly = t * (A[0] + t * (A[1] + t * (A[2] + t * (A[3] + t * A[4]))));
    let gauss = exp(-z * z); // e^(-x²/2)
    let tail = 0.5 * poly * gauss; // Φ(-|x|)
    let cdf = if x < 0.0 { tail } else { 1.0 - tail };
    (cdf, gauss * FRAC_1_SQRT_2PI)
}

/// f64 references for the tests.
#[cfg(test)]
pub(crate) mod reference {

    /// erf in f64 by its Maclaurin series (|x| ≤ 3) or its continued fraction for erfc.
    pub(crate) fn erf64(x: f64) -> f64 {
        if x.abs() <= 3.0 {
            let (mut term, mut sum, mut n) = (x, x, 0.0);
            while term.abs() > 1e-17 * sum.abs().max(1e-300) {
                n += 1.0;
                term *= -x * x / n;
                sum += term / (2.0 * n + 1.0);
            }
            sum * 2.0 / std::f64::consts::PI.sqrt()
        } else {
            // erfc(a) = e^(-a²)/√π · 1/(a + 1/2/(a + 1/(a + 3/2/(a + …)))), a = |x|.
            let a = x.abs();
            let mut fraction = a;
            for k in (1..60).rev() {
                fraction = a + (k as f64 / 2.0) / fraction;
            }
            let erfc = (-a * a).exp() / std::f64::consts::PI.sqrt() / fraction;
            x.signum() * (1.0 - erfc)
        }
    }

    pub(crate) fn normal_cdf64(x: f64) -> f64 {
        if x < -3.0 * std::f64::consts::SQRT_2 {
            // The tail straight from the continued fraction, without 1 - (1 - tail).
            let a = -x / std::f64::consts::SQRT_2;
            let mut fraction = a;
            for k in (1..60).rev() {
                fraction = a + (k as f64 / 2.0) / fraction;
            }
            0.5 * (-a * a).exp() / std::f64::consts::PI.sqrt() / fraction
        } else {
            0.5 * (1.0 + erf64(x / std::f64::consts::SQRT_2))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::reference::normal_cdf64;
    use super::*;

    fn grid() -> impl Iterator<Item = f32> {
        (-200_000..=200_000).map(|i| i as f32 * 1e-4)
    }

    #[test]
    fn exp_is_within_three_ulp() {
        let mut worst = 0f64;
        for x in (-873_000..=880_000).map(|i| i as f32 * 1e-4) {
            let (got, want) = (exp(x) as f64, (x as f64).exp());
            let ulp = (want as f32).abs() as f64 * f32::EPSILON as f64;
            worst = worst.max((got - want).abs() / ulp);
        }
        assert!(worst <= 3.0, "{worst} ulp");
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(f32::NAN).is_nan());
        assert_eq!(exp(-88.0), 0.0);
        assert_eq!(exp(f32::NEG_INFINITY), 0.0);
    }

    #[test]
    fn normal_cdf_and_density_match_f64() {
        let (mut cdf_abs, mut density_rel) = (0f64, 0f64);
        for x in grid() {
            let (cdf, density) = normal_cdf_and_density(x);
            let want = normal_cdf64(x as f64);
            cdf_abs = cdf_abs.max((cdf as f64 - want).abs());
            let phi = (-(x as f64).powi(2) / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
            if phi > 1e-30 {
                density_rel = density_rel.max((density as f64 - phi).abs() / phi);
            }
        }
        println!("Φ: abs {cdf_abs:e}; φ: relative {density_rel:e}");
        // A&S's 7.5e-8 on Φ plus f32 rounding.
        assert!(cdf_abs < 4e-7, "{cdf_abs}");
        // x²/2 rounded in f32 moves e^(-x²/2) by up to x²/2 · 6e-8 relative (as in any f32
        // evaluation, PyTorch's included): 1.2e-5 near x = 12, where φ is 1e-32.
        assert!(density_rel < 2e-5, "{density_rel}");
        assert_eq!(normal_cdf_and_density(50.0).0, 1.0);
        assert_eq!(normal_cdf_and_density(-50.0).0, 0.0);
    }
}
