//! The pointwise half of an LSTM step, forward and backward, on host slices: everything of a
//! step but its two matrix products.
//!
//! Built from Burn's tensor ops, one step is about fifteen whole-tensor passes forward (add the
//! two projections and the bias, the gate sigmoids, the cell update, `tanh`, the output) and
//! twenty backward, each allocating its result and calling libm's scalar `expf`. Here each
//! direction is one pass over the batch, in vector instructions ([`crate::vmath::exp`]), with
//! the gate activations, the previous cell state and `tanh(c')` kept for the backward pass.
//!
//! The equations are PyTorch's `torch.nn.LSTM` (gate blocks i, f, g, o):
//! `i, f, o = σ(·)`, `g = tanh(·)` of `x W_ih + b_ih + h W_hh + b_hh`; `c' = f c + i g`;
//! `h' = o tanh(c')`. A step whose mask is 0 (padding) keeps the state and outputs zeros:
//! `state = old + m (new - old)`, `output = m h'`.

use crate::isa::{self, with_isa};
use crate::vmath::exp;

/// σ(x) = 1 / (1 + e⁻ˣ).
#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// tanh(x) = 2σ(2x) - 1.
#[inline(always)]
fn tanh(x: f32) -> f32 {
    2.0 * sigmoid(2.0 * x) - 1.0
}

/// One LSTM step forward for a batch, given the step's input projection and its recurrent
/// product. `hidden` is the state's width; gate rows are `4 * hidden` wide.
///
/// - `gates_x`: `[batch, 4 hidden]`, `x W_ih + b_ih` for this step;
/// - `recurrent`: `[batch, 4 hidden]`, `h W_hh` for the state before the step;
/// - `b_hh`: `[4 hidden]`; `mask`: this step's `[batch]` entries, `None` when all are real;
/// - `h`, `c`: `[batch, hidden]`, the state before the step, updated in place;
/// - written: `gates` `[batch, 4 hidden]` (the activations i, f, g, o), `tanh_c` and `output`
///   `[batch, hidden]`.
#[allow(clippy::too_many_arguments)]
pub fn lstm_forward_step(
    hidden: usize,
    gates_x: &[f32],
    recurrent: &[f32],
    b_hh: &[f32],
    mask: Option<&[f32]>,
    h: &mut [f32],
    c: &mut [f32],
    gates: &mut [f32],
    tanh_c: &mut [f32],
    output: &mut [f32],
) {
    let width = 4 * hidden;
    let batch = h.len() / hidden;
    assert_eq!(gates_x.len(), batch * width, "gates_x is [batch, 4 hidden]");
    assert_eq!(
        recurrent.len(),
        batch * width,
        "recurrent is [batch, 4 hidden]"
    );
    assert_eq!(b_hh.len(), width, "b_hh is [4 hidden]");
    assert_eq!(c.len(), h.len(), "h and c have the same shape");
    assert_eq!(gates.len(), batch * width, "gates is [batch, 4 hidden]");
    assert!(tanh_c.len() == h.len() && output.len() == h.len());
    assert!(
        mask.is_none_or(|m| m.len() == batch),
        "one mask entry per batch row"
    );
    with_isa(
        isa::active(),
        #[inline(always)]
        || {
            for row in 0..batch {
                let m = mask.map_or(1.0, |m| m[row]);
                let gates = &mut gates[row * width..][..width];
                let pre = gates_x[row * width..][..width]
                    .iter()
                    .zip(&recurrent[row * width..][..width])
                    .zip(b_hh);
                for (gate, ((x, h), b)) in gates.iter_mut().zip(pre) {
                    *gate = x + h + b;
                }
                let (i, rest) = gates.split_at_mut(hidden);
                let (f, rest) = rest.split_at_mut(hidden);
                let (g, o) = rest.split_at_mut(hidden);
                let state = row * hidden..(row + 1) * hidden;
                let (h, c) = (&mut h[state.clone()], &mut c[state.clone()]);
                let (tanh_c, output) = (&mut tanh_c[state.clone()], &mut output[state]);
                for j in 0..hidden {
                    let (ij, fj, gj, oj) =
                        (sigmoid(i[j]), sigmoid(f[j]), tanh(g[j]), sigmoid(o[j]));
                    (i[j], f[j], g[j], o[j]) = (ij, fj, gj, oj);
                    let c_new = fj * c[j] + ij * gj;
                    let t = tanh(c_new);
                    let h_new = oj * t;
                    tanh_c[j] = t;
                    output[j] = m * h_new;
                    h[j] += m * (h_new - h[j]);
                    c[j] += m * (c_new - c[j]);
                }
            }
        },
    )
}

/// One LSTM step backward for a batch: the gradients of the step's pre-activations and of the
/// cell state before it, from what [`lstm_forward_step`] kept (`gates`, `tanh_c`) and the cell
/// state before the step (`c_prev`).
///
/// - `d_output`: `[batch, hidden]`, the gradient of the step's output;
/// - `d_h`: in, the gradient reaching the hidden state after the step; out, the part that
///   reaches the state before it directly (`(1 - m) d_h` at padding, else 0). The caller adds
///   `d_pre W_hhᵀ`.
/// - `d_c`: in, the gradient reaching the cell state after the step; out, before it.
/// - written: `d_pre` `[batch, 4 hidden]`.
#[allow(clippy::too_many_arguments)]
pub fn lstm_backward_step(
    hidden: usize,
    gates: &[f32],
    c_prev: &[f32],
    tanh_c: &[f32],
    mask: Option<&[f32]>,
    d_output: &[f32],
    d_h: &mut [f32],
    d_c: &mut [f32],
    d_pre: &mut [f32],
) {
    let width = 4 * hidden;
    let batch = d_h.len() / hidden;
    assert_eq!(gates.len(), batch * width, "gates is [batch, 4 hidden]");
    assert!(c_prev.len() == d_h.len() && tanh_c.len() == d_h.len());
    assert!(d_output.len() == d_h.len() && d_c.len() == d_h.len());
    assert_eq!(d_pre.len(), batch * width, "d_pre is [batch, 4 hidden]");
    assert!(
        mask.is_none_or(|m| m.len() == batch),
        "one mask entry per batch row"
    );
    with_isa(
        isa::active(),
        #[inline(always)]
        || {
            for row in 0..batch {
                let m = mask.map_or(1.0, |m| m[row]);
                let gates = &gates[row * width..][..width];
                let (i, f, g, o) = (
                    &gates[..hidden],
                    &gates[hidden..2 * hidden],
                    &gates[2 * hidden..3 * hidden],
                    &gates[3 * hidden..],
                );
                let d_pre = &mut d_pre[row * width..][..width];
                let (d_i, rest) = d_pre.split_at_mut(hidden);
                let (d_f, rest) = rest.split_at_mut(hidden);
                let (d_g, d_o) = rest.split_at_mut(hidden);
                let state = row * hidden..(row + 1) * hidden;
                let (c_prev, tanh_c) = (&c_prev[state.clone()], &tanh_c[state.clone()]);
                let d_output = &d_output[state.clone()];
                let (d_h, d_c) = (&mut d_h[state.clone()], &mut d_c[state]);
                for j in 0..hidden {
                    let (ij, fj, gj, oj, t) = (i[j], f[j], g[j], o[j], tanh_c[j]);
                    // The new state gets m of the gradient, the kept old state 1 - m.
                    let d_h_new = m * (d_h[j] + d_output[j]);
                    let d_c_new = m * d_c[j] + d_h_new * oj * (1.0 - t * t);
                    d_i[j] = d_c_new * gj * ij * (1.0 - ij);
                    d_f[j] = d_c_new * c_prev[j] * fj * (1.0 - fj);
                    d_g[j] = d_c_new * ij * (1.0 - gj * gj);
                    d_o[j] = d_h_new * t * oj * (1.0 - oj);
                    d_h[j] *= 1.0 - m;
                    d_c[j] = d_c_new * fj + (1.0 - m) * d_c[j];
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The step in f64, written the obvious way.
    fn reference_forward(
        pre: &[f64],
        c: &[f64],
        h: &[f64],
        m: f64,
        hidden: usize,
    ) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let s = |x: f64| 1.0 / (1.0 + (-x).exp());
        let (mut h_out, mut c_out, mut out) = (vec![], vec![], vec![]);
        for j in 0..hidden {
            let (i, f, g, o) = (
                s(pre[j]),
                s(pre[hidden + j]),
                pre[2 * hidden + j].tanh(),
                s(pre[3 * hidden + j]),
            );
            let c_new = f * c[j] + i * g;
            let h_new = o * c_new.tanh();
            out.push(m * h_new);
            h_out.push(h[j] + m * (h_new - h[j]));
            c_out.push(c[j] + m * (c_new - c[j]));
        }
        (h_out, c_out, out)
    }

    fn values(n: usize, seed: u32) -> Vec<f32> {
        // A fixed spread of values in about [-3, 3], without a random-number crate.
        (0..n)
            .map(|k| (((k as u32).wrapping_mul(2_654_435_761) ^ seed) % 6001) as f32 / 1000.0 - 3.0)
            .collect()
    }

    #[test]
    fn the_forward_step_matches_the_equations_in_f64() {
        let (batch, hidden) = (3, 5);
        let width = 4 * hidden;
        let gates_x = values(batch * width, 1);
        let recurrent = values(batch * width, 2); // [batch, width]
        let b_hh = values(width, 3);
        let mask = [1.0, 0.0, 1.0];
        let (h0, c0) = (values(batch * hidden, 4), values(batch * hidden, 5));
        let (mut h, mut c) = (h0.clone(), c0.clone());
        let mut gates = vec![0.0; batch * width];
        let (mut tanh_c, mut output) = (vec![0.0; h.len()], vec![0.0; h.len()]);
        lstm_forward_step(
            hidden,
            &gates_x,
            &recurrent,
            &b_hh,
            Some(&mask),
            &mut h,
            &mut c,
            &mut gates,
            &mut tanh_c,
            &mut output,
        );
        for row in 0..batch {
            let pre: Vec<f64> = (0..width)
                .map(|n| (gates_x[row * width + n] + b_hh[n] + recurrent[row * width + n]) as f64)
                .collect();
            let state = row * hidden..(row + 1) * hidden;
            let widen = |v: &[f32]| v.iter().map(|&x| x as f64).collect::<Vec<_>>();
            let (h_ref, c_ref, out_ref) = reference_forward(
                &pre,
                &widen(&c0[state.clone()]),
                &widen(&h0[state.clone()]),
                mask[row] as f64,
                hidden,
            );
            for j in 0..hidden {
                let k = row * hidden + j;
                assert!((h[k] as f64 - h_ref[j]).abs() < 1e-6, "h[{row}, {j}]");
                assert!((c[k] as f64 - c_ref[j]).abs() < 1e-6, "c[{row}, {j}]");
                assert!((output[k] as f64 - out_ref[j]).abs() < 1e-6, "output");
            }
        }
        // The padded row keeps its state and outputs zeros.
        assert_eq!(&h[hidden..2 * hidden], &h0[hidden..2 * hidden]);
        assert!(output[hidden..2 * hidden].iter().all(|&x| x == 0.0));
    }

    #[test]
    fn the_backward_step_matches_finite_differences() {
        // Loss L = Σ w_out · output + Σ w_h · h' + Σ w_c · c' for fixed weights: the backward
        // step's d_pre and d_c against central differences of the forward step in f32 (the
        // tolerance allows for that).
        let (batch, hidden) = (2, 3);
        let width = 4 * hidden;
        let pre = values(batch * width, 7)
            .iter()
            .map(|x| x * 0.5)
            .collect::<Vec<_>>();
        let zeros = vec![0.0; batch * width];
        let b_hh = vec![0.0; width];
        let c0 = values(batch * hidden, 8);
        let h0 = values(batch * hidden, 9);
        let (w_out, w_h, w_c) = (
            values(batch * hidden, 10),
            values(batch * hidden, 11),
            values(batch * hidden, 12),
        );
        for mask in [None, Some([1.0f32, 0.0])] {
            let loss = |pre: &[f32], c0: &[f32]| -> f64 {
                let (mut h, mut c) = (h0.clone(), c0.to_vec());
                let mut gates = vec![0.0; batch * width];
                let (mut t, mut out) = (vec![0.0; h.len()], vec![0.0; h.len()]);
                lstm_forward_step(
                    hidden,
                    pre,
                    &zeros,
                    &b_hh,
                    mask.as_ref().map(|m| &m[..]),
                    &mut h,
                    &mut c,
                    &mut gates,
                    &mut t,
                    &mut out,
                );
                (0..h.len())
                    .map(|k| (w_out[k] * out[k] + w_h[k] * h[k] + w_c[k] * c[k]) as f64)
                    .sum()
            };
            let (mut h, mut c) = (h0.clone(), c0.clone());
            let mut gates = vec![0.0; batch * width];
            let (mut tanh_c, mut out) = (vec![0.0; h.len()], vec![0.0; h.len()]);
            lstm_forward_step(
                hidden,
                &pre,
                &zeros,
                &b_hh,
                mask.as_ref().map(|m| &m[..]),
                &mut h,
                &mut c,
                &mut gates,
                &mut tanh_c,
                &mut out,
            );
            let (mut d_h, mut d_c) = (w_h.clone(), w_c.clone());
            let mut d_pre = vec![0.0; batch * width];
            lstm_backward_step(
                hidden,
                &gates,
                &c0,
                &tanh_c,
                mask.as_ref().map(|m| &m[..]),
                &w_out,
                &mut d_h,
                &mut d_c,
                &mut d_pre,
            );
            let eps = 1e-2;
            let numeric = |x: &[f32], k: usize, f: &dyn Fn(&[f32]) -> f64| {
                let (mut up, mut down) = (x.to_vec(), x.to_vec());
                up[k] += eps;
                down[k] -= eps;
                (f(&up) - f(&down)) / (2.0 * eps as f64)
            };
            for (k, &analytic) in d_pre.iter().enumerate() {
                let expected = numeric(&pre, k, &|p| loss(p, &c0));
                assert!(
                    (analytic as f64 - expected).abs() < 2e-3,
                    "d_pre[{k}] {mask:?}"
                );
            }
            for (k, &analytic) in d_c.iter().enumerate() {
                let expected = numeric(&c0, k, &|c| loss(&pre, c));
                assert!(
                    (analytic as f64 - expected).abs() < 2e-3,
                    "d_c[{k}] {mask:?}"
                );
            }
            // d h reaches the old state directly only where the step was padding.
            let kept: Vec<f32> = (0..d_h.len())
                .map(|k| {
                    let m = mask.map_or(1.0, |m| m[k / hidden]);
                    (1.0 - m) * w_h[k]
                })
                .collect();
            assert_eq!(d_h, kept);
        }
    }
}
