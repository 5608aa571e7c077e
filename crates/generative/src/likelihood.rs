//! Per-image log-likelihood terms of pixel models.

use burn::prelude::*;

/// −log p(x | logits) of independent Bernoulli pixels, summed over each image's pixels: the
/// binary cross-entropy with logits for targets in `[0, 1]`, written out because Burn's BCE
/// takes integer targets. The stable form max(l, 0) − l·x + log(1 + e^(−|l|)) never
/// exponentiates a large number. `[batch, pixels]` → `[batch]`.
pub fn bernoulli_nll(logits: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
    let softplus_tail = logits.clone().abs().neg().exp().log1p();
    (logits.clone().clamp_min(0.0) - logits * targets + softplus_tail)
        .sum_dim(1)
        .squeeze_dim(1)
}

/// Summed squared error per image: `[batch, pixels]` → `[batch]`.
pub fn squared_error(reconstruction: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
    (reconstruction - targets)
        .powi_scalar(2)
        .sum_dim(1)
        .squeeze_dim(1)
}

/// KL(q(z|x) ‖ N(0, I)) of a diagonal Gaussian, per row, in closed form (Kingma & Welling 2014,
/// appendix B): −½ Σ (1 + log σ² − μ² − σ²). `[batch, latent]` → `[batch]`.
pub fn gaussian_kl(mu: Tensor<2>, log_var: Tensor<2>) -> Tensor<1> {
    (log_var.clone().exp() + mu.powi_scalar(2) - log_var - 1.0)
        .sum_dim(1)
        .squeeze_dim(1)
        .mul_scalar(0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor(values: Vec<f32>, rows: usize, device: &Device) -> Tensor<2> {
        let cols = values.len() / rows;
        Tensor::from_data(TensorData::new(values, [rows, cols]), device)
    }

    #[test]
    fn bernoulli_nll_matches_the_definition_and_stays_finite() {
        let device = Device::flex();
        let logits = [-3.0f32, 0.0, 2.5, 40.0, -40.0];
        let targets = [0.2f32, 1.0, 0.0, 1.0, 0.7];
        let got: Vec<f32> = bernoulli_nll(
            tensor(logits.to_vec(), 1, &device),
            tensor(targets.to_vec(), 1, &device),
        )
        .into_data()
        .try_to_vec()
        .unwrap();
        let expected: f64 = logits
            .iter()
            .zip(targets)
            .map(|(&l, t)| {
                // log p = −log(1 + e^−l) and log(1 − p) = −l + log p, exact when saturated.
                let log_p = -(1.0 + (-(l as f64)).exp()).ln();
                let log_1mp = -(l as f64) + log_p;
                -(t as f64 * log_p + (1.0 - t as f64) * log_1mp)
            })
            .sum();
        assert!(
            (got[0] as f64 - expected).abs() < 1e-4 * expected.abs(),
            "{got:?} vs {expected}"
        );
    }

    #[test]
    fn gaussian_kl_is_zero_at_the_prior_and_matches_the_formula() {
        let device = Device::flex();
        let kl: Vec<f32> = gaussian_kl(
            tensor(vec![0.0, 0.0, 1.0, -2.0], 2, &device),
            tensor(vec![0.0, 0.0, 0.5, -1.0], 2, &device),
        )
        .into_data()
        .try_to_vec()
        .unwrap();
        assert!(kl[0].abs() < 1e-7);
        let expected =
            0.5 * ((0.5f32.exp() + 1.0 - 0.5 - 1.0) + ((-1.0f32).exp() + 4.0 + 1.0 - 1.0));
        assert!((kl[1] - expected).abs() < 1e-5, "{kl:?} vs {expected}");
    }
}
