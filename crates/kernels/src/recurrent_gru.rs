//! One GRU step for a batch, forward and backward, on host slices: as [`crate::recurrent`] does
//! for the LSTM, each core takes a block of batch rows through the recurrent product and one
//! vectorised pass.
//!
//! The equations are PyTorch's `torch.nn.GRU` (gate blocks r, z, n):
//! `r, z = σ(x W_ih + b_ih + h W_hh + b_hh)` on their blocks;
//! `n = tanh(x_n + r (h W_hn + b_hn))`; `h' = (1 - z) n + z h`. A step whose mask is 0
//! (padding) keeps the state and outputs zeros.

use rayon::prelude::*;

use crate::isa::{self, Isa};
use crate::linear::PackedWeight;
use crate::recurrent::{row_on, rows_per_task, sigmoid, split, split_mask, split_mut, tanh};

/// One step's buffers forward, row-major, `hidden` wide (gate rows `3 hidden`).
pub struct GruForwardStep<'a> {
    /// `[batch, 3 hidden]`: `x W_ih + b_ih` for this step.
    pub gates_x: &'a [f32],
    /// `[3 hidden]`.
    pub b_hh: &'a [f32],
    /// This step's `[batch]` mask entries; `None` when all are real.
    pub mask: Option<&'a [f32]>,
    /// `[batch, hidden]`: the state before the step, updated in place.
    pub h: &'a mut [f32],
    /// Written: r and z `[batch, 2 hidden]`, n and `h W_hn + b_hn` `[batch, hidden]`, the
    /// output `[batch, hidden]`.
    pub rz: &'a mut [f32],
    pub n: &'a mut [f32],
    pub hn: &'a mut [f32],
    pub output: &'a mut [f32],
}

/// One step's buffers backward, row-major.
pub struct GruBackwardStep<'a> {
    /// What the forward step kept, and the hidden state before the step.
    pub rz: &'a [f32],
    pub n: &'a [f32],
    pub hn: &'a [f32],
    pub h_prev: &'a [f32],
    pub mask: Option<&'a [f32]>,
    /// `[batch, hidden]`: the gradient of the step's output.
    pub d_output: &'a [f32],
    /// In, the gradient reaching the hidden state after the step; out, before it.
    pub d_h: &'a mut [f32],
    /// Written, `[batch, 3 hidden]`: the gradients of the input-side pre-activations
    /// (`x W_ih + b_ih`) and of the recurrent-side ones (`h W_hh + b_hh`); they differ on the n
    /// block, where the recurrent side is scaled by r.
    pub d_gates_x: &'a mut [f32],
    pub d_gates_h: &'a mut [f32],
}

/// One GRU step forward: `h W_hh` through `w_hh` (packed from `W_hh` `[hidden, 3 hidden]`),
/// then the gates and new state of every batch row.
pub fn gru_forward_step(w_hh: &PackedWeight, hidden: usize, step: GruForwardStep<'_>) {
    let width = 3 * hidden;
    let batch = step.h.len() / hidden;
    assert!(
        w_hh.channels() == hidden && w_hh.outputs() == width,
        "w_hh is [hidden, 3 hidden]"
    );
    assert_eq!(
        step.gates_x.len(),
        batch * width,
        "gates_x is [batch, 3 hidden]"
    );
    assert_eq!(step.b_hh.len(), width, "b_hh is [3 hidden]");
    assert_eq!(step.rz.len(), 2 * step.h.len(), "rz is [batch, 2 hidden]");
    assert!(step.n.len() == step.h.len() && step.hn.len() == step.h.len());
    assert_eq!(step.output.len(), step.h.len(), "output is [batch, hidden]");
    assert!(
        step.mask.is_none_or(|m| m.len() == batch),
        "one mask entry per batch row"
    );
    let isa = isa::active();
    let rows = rows_per_task(batch);
    let masks = split_mask(step.mask, batch, rows);
    let tasks: Vec<GruForwardStep<'_>> = split(step.gates_x, rows, width)
        .zip(masks)
        .zip(split_mut(step.h, rows, hidden))
        .zip(split_mut(step.rz, rows, 2 * hidden))
        .zip(split_mut(step.n, rows, hidden))
        .zip(split_mut(step.hn, rows, hidden))
        .zip(split_mut(step.output, rows, hidden))
        .map(
            |((((((gates_x, mask), h), rz), n), hn), output)| GruForwardStep {
                gates_x,
                b_hh: step.b_hh,
                mask,
                h,
                rz,
                n,
                hn,
                output,
            },
        )
        .collect();
    tasks.into_par_iter().for_each(|task| {
        let mut recurrent = vec![0.0; task.gates_x.len()];
        w_hh.product_on_this_thread(isa, task.h, &mut recurrent);
        forward_rows(isa, hidden, &recurrent, task);
    });
}

/// The pointwise part of [`gru_forward_step`] for some rows, `recurrent` their `h W_hh`.
fn forward_rows(isa: Isa, hidden: usize, recurrent: &[f32], step: GruForwardStep<'_>) {
    let width = 3 * hidden;
    let GruForwardStep {
        gates_x,
        b_hh,
        mask,
        h,
        rz,
        n,
        hn,
        output,
    } = step;
    fn block(row: &[f32], k: usize, hidden: usize) -> &[f32] {
        &row[k * hidden..(k + 1) * hidden]
    }
    for row in 0..h.len() / hidden {
        let m = mask.map_or(1.0, |m| m[row]);
        let x = &gates_x[row * width..][..width];
        let rec = &recurrent[row * width..][..width];
        let inputs = [
            block(x, 0, hidden),
            block(x, 1, hidden),
            block(x, 2, hidden),
        ];
        let recurrents = [
            block(rec, 0, hidden),
            block(rec, 1, hidden),
            block(rec, 2, hidden),
        ];
        let biases = [
            block(b_hh, 0, hidden),
            block(b_hh, 1, hidden),
            block(b_hh, 2, hidden),
        ];
        let (r, z) = rz[row * 2 * hidden..][..2 * hidden].split_at_mut(hidden);
        let state = row * hidden..(row + 1) * hidden;
        let gates = [r, z, &mut n[state.clone()], &mut hn[state.clone()]];
        let states = [&mut h[state.clone()], &mut output[state]];
        row_on!(
            isa,
            forward_row(
                m: f32,
                inputs: [&[f32]; 3],
                recurrents: [&[f32]; 3],
                biases: [&[f32]; 3],
                gates: [&mut [f32]; 4],
                states: [&mut [f32]; 2],
            )
        );
    }
}

/// One row of [`forward_rows`]; run through [`row_on`].
#[inline(always)]
fn forward_row(
    m: f32,
    [x_r, x_z, x_n]: [&[f32]; 3],
    [h_r, h_z, h_n]: [&[f32]; 3],
    [b_r, b_z, b_n]: [&[f32]; 3],
    [r, z, n, hn]: [&mut [f32]; 4],
    [h, output]: [&mut [f32]; 2],
) {
    let len = h.len();
    let (x_r, x_z, x_n) = (&x_r[..len], &x_z[..len], &x_n[..len]);
    let (h_r, h_z, h_n) = (&h_r[..len], &h_z[..len], &h_n[..len]);
    let (b_r, b_z, b_n) = (&b_r[..len], &b_z[..len], &b_n[..len]);
    let (r, z, n, hn, output) = (
        &mut r[..len],
        &mut z[..len],
        &mut n[..len],
        &mut hn[..len],
        &mut output[..len],
    );
    for j in 0..len {
        let rj = sigmoid(x_r[j] + h_r[j] + b_r[j]);
        let zj = sigmoid(x_z[j] + h_z[j] + b_z[j]);
        let hnj = h_n[j] + b_n[j];
        let nj = tanh(x_n[j] + rj * hnj);
        // (1 - z) n + z h = n + z (h - n)
        let h_new = nj + zj * (h[j] - nj);
        (r[j], z[j], n[j], hn[j]) = (rj, zj, nj, hnj);
        output[j] = m * h_new;
        h[j] += m * (h_new - h[j]);
    }
}

/// One GRU step backward: the gradients of the step's pre-activations, input and recurrent
/// side, and of the hidden state before it (`d_h` gets `d_gates_h W_hhᵀ` through `w_hh_t`,
/// packed from `W_hh` for the transposed product).
pub fn gru_backward_step(w_hh_t: &PackedWeight, hidden: usize, step: GruBackwardStep<'_>) {
    let width = 3 * hidden;
    let batch = step.d_h.len() / hidden;
    assert!(
        w_hh_t.channels() == width && w_hh_t.outputs() == hidden,
        "w_hh_t is W_hh for x W_hhᵀ"
    );
    assert_eq!(step.rz.len(), 2 * step.d_h.len(), "rz is [batch, 2 hidden]");
    assert!(step.n.len() == step.d_h.len() && step.hn.len() == step.d_h.len());
    assert!(step.h_prev.len() == step.d_h.len() && step.d_output.len() == step.d_h.len());
    assert!(step.d_gates_x.len() == batch * width && step.d_gates_h.len() == batch * width);
    assert!(
        step.mask.is_none_or(|m| m.len() == batch),
        "one mask entry per batch row"
    );
    let isa = isa::active();
    let rows = rows_per_task(batch);
    let masks = split_mask(step.mask, batch, rows);
    let tasks: Vec<GruBackwardStep<'_>> = split(step.rz, rows, 2 * hidden)
        .zip(split(step.n, rows, hidden))
        .zip(split(step.hn, rows, hidden))
        .zip(split(step.h_prev, rows, hidden))
        .zip(masks)
        .zip(split(step.d_output, rows, hidden))
        .zip(split_mut(step.d_h, rows, hidden))
        .zip(split_mut(step.d_gates_x, rows, width))
        .zip(split_mut(step.d_gates_h, rows, width))
        .map(
            |((((((((rz, n), hn), h_prev), mask), d_output), d_h), d_gates_x), d_gates_h)| {
                GruBackwardStep {
                    rz,
                    n,
                    hn,
                    h_prev,
                    mask,
                    d_output,
                    d_h,
                    d_gates_x,
                    d_gates_h,
                }
            },
        )
        .collect();
    tasks.into_par_iter().for_each(|task| {
        let mut through_w = vec![0.0; task.d_h.len()];
        let (d_gates_h, d_h) = backward_rows(isa, hidden, task);
        w_hh_t.product_on_this_thread(isa, d_gates_h, &mut through_w);
        for (d, x) in d_h.iter_mut().zip(&through_w) {
            *d += x;
        }
    });
}

/// The pointwise part of [`gru_backward_step`] for some rows; `d_h` is left holding the part
/// that does not go through `W_hh`. Returns `d_gates_h` and `d_h` for the product.
fn backward_rows<'a>(
    isa: Isa,
    hidden: usize,
    step: GruBackwardStep<'a>,
) -> (&'a [f32], &'a mut [f32]) {
    let width = 3 * hidden;
    let GruBackwardStep {
        rz,
        n,
        hn,
        h_prev,
        mask,
        d_output,
        d_h,
        d_gates_x,
        d_gates_h,
    } = step;
    for row in 0..d_h.len() / hidden {
        let m = mask.map_or(1.0, |m| m[row]);
        let (r, z) = rz[row * 2 * hidden..][..2 * hidden].split_at(hidden);
        let state = row * hidden..(row + 1) * hidden;
        let kept = [
            r,
            z,
            &n[state.clone()],
            &hn[state.clone()],
            &h_prev[state.clone()],
            &d_output[state.clone()],
        ];
        let (dx_r, rest) = d_gates_x[row * width..][..width].split_at_mut(hidden);
        let (dx_z, dx_n) = rest.split_at_mut(hidden);
        let (dh_r, rest) = d_gates_h[row * width..][..width].split_at_mut(hidden);
        let (dh_z, dh_n) = rest.split_at_mut(hidden);
        let d_gates = [dx_r, dx_z, dx_n, dh_r, dh_z, dh_n];
        let d_state = &mut d_h[state];
        row_on!(
            isa,
            backward_row(
                m: f32,
                kept: [&[f32]; 6],
                d_state: &mut [f32],
                d_gates: [&mut [f32]; 6],
            )
        );
    }
    (d_gates_h, d_h)
}

/// One row of [`backward_rows`]; run through [`row_on`].
#[inline(always)]
fn backward_row(
    m: f32,
    [r, z, n, hn, h_prev, d_output]: [&[f32]; 6],
    d_h: &mut [f32],
    [dx_r, dx_z, dx_n, dh_r, dh_z, dh_n]: [&mut [f32]; 6],
) {
    let len = d_h.len();
    let (r, z, n, hn) = (&r[..len], &z[..len], &n[..len], &hn[..len]);
    let (h_prev, d_output) = (&h_prev[..len], &d_output[..len]);
    let (dx_r, dx_z, dx_n) = (&mut dx_r[..len], &mut dx_z[..len], &mut dx_n[..len]);
    let (dh_r, dh_z, dh_n) = (&mut dh_r[..len], &mut dh_z[..len], &mut dh_n[..len]);
    for j in 0..len {
        let (rj, zj, nj) = (r[j], z[j], n[j]);
        // The new state gets m of the gradient, the kept old state 1 - m.
        let d_h_new = m * (d_h[j] + d_output[j]);
        let d_n_pre = d_h_new * (1.0 - zj) * (1.0 - nj * nj);
        let d_r_pre = d_n_pre * hn[j] * rj * (1.0 - rj);
        let d_z_pre = d_h_new * (h_prev[j] - nj) * zj * (1.0 - zj);
        (dx_r[j], dx_z[j], dx_n[j]) = (d_r_pre, d_z_pre, d_n_pre);
        (dh_r[j], dh_z[j], dh_n[j]) = (d_r_pre, d_z_pre, d_n_pre * rj);
        d_h[j] = d_h_new * zj + (1.0 - m) * d_h[j];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixed spread of values in about [-3, 3] times `by`, without a random-number crate.
    fn values(n: usize, seed: u32, by: f32) -> Vec<f32> {
        (0..n)
            .map(|k| (((k as u32).wrapping_mul(2_654_435_761) ^ seed) % 6001) as f32 / 1000.0 - 3.0)
            .map(|v| v * by)
            .collect()
    }

    fn paths() -> Vec<Isa> {
        Isa::ALL
            .into_iter()
            .filter(|isa| *isa <= isa::detected())
            .collect()
    }

    const BATCH: usize = 19; // two tasks on two cores, the second a partial tile
    const HIDDEN: usize = 5;

    struct Case {
        w_hh: Vec<f32>,
        gates_x: Vec<f32>,
        b_hh: Vec<f32>,
        mask: Vec<f32>,
        h0: Vec<f32>,
    }

    impl Case {
        fn new() -> Self {
            let mut mask = vec![1.0; BATCH];
            mask[1] = 0.0; // row 1 is padding
            Self {
                w_hh: values(HIDDEN * 3 * HIDDEN, 1, 0.2),
                gates_x: values(BATCH * 3 * HIDDEN, 2, 0.5),
                b_hh: values(3 * HIDDEN, 3, 0.1),
                mask,
                h0: values(BATCH * HIDDEN, 4, 0.3),
            }
        }

        /// h', output, rz, n, hn from `gates_x` and `h0`.
        fn forward(&self, gates_x: &[f32], h0: &[f32]) -> [Vec<f32>; 5] {
            let w_hh = PackedWeight::new(&self.w_hh, [HIDDEN, 3 * HIDDEN], false);
            let mut h = h0.to_vec();
            let mut rz = vec![0.0; 2 * h.len()];
            let (mut n, mut hn, mut output) =
                (vec![0.0; h.len()], vec![0.0; h.len()], vec![0.0; h.len()]);
            let step = GruForwardStep {
                gates_x,
                b_hh: &self.b_hh,
                mask: Some(&self.mask),
                h: &mut h,
                rz: &mut rz,
                n: &mut n,
                hn: &mut hn,
                output: &mut output,
            };
            gru_forward_step(&w_hh, HIDDEN, step);
            [h, output, rz, n, hn]
        }
    }

    #[test]
    fn the_forward_step_matches_the_equations_in_f64() {
        let case = Case::new();
        let width = 3 * HIDDEN;
        let s = |x: f64| 1.0 / (1.0 + (-x).exp());
        for isa in paths() {
            crate::isa::force(Some(isa));
            let [h, output, ..] = case.forward(&case.gates_x, &case.h0);
            crate::isa::force(None);
            for row in 0..BATCH {
                let recurrent = |col: usize| -> f64 {
                    let sum: f64 = (0..HIDDEN)
                        .map(|k| {
                            case.h0[row * HIDDEN + k] as f64 * case.w_hh[k * width + col] as f64
                        })
                        .sum();
                    sum + case.b_hh[col] as f64
                };
                let x = |col: usize| case.gates_x[row * width + col] as f64;
                for j in 0..HIDDEN {
                    let r = s(x(j) + recurrent(j));
                    let z = s(x(HIDDEN + j) + recurrent(HIDDEN + j));
                    let n = (x(2 * HIDDEN + j) + r * recurrent(2 * HIDDEN + j)).tanh();
                    let k = row * HIDDEN + j;
                    let (h0, m) = (case.h0[k] as f64, case.mask[row] as f64);
                    let h_new = (1.0 - z) * n + z * h0;
                    let close = |a: f32, b: f64, what: &str| {
                        assert!(
                            (a as f64 - b).abs() < 1e-5,
                            "{what}[{row}, {j}] {}",
                            isa.name()
                        )
                    };
                    close(h[k], h0 + m * (h_new - h0), "h");
                    close(output[k], m * h_new, "output");
                }
            }
        }
    }

    #[test]
    fn the_backward_step_matches_finite_differences() {
        // L = Σ w_out · output + Σ w_h · h' for fixed weights: d_gates_x and d_h against central
        // differences, and d_gates_h through the recurrent side (the n block is r times the
        // input side's, the r and z blocks equal).
        let case = Case::new();
        let n = BATCH * HIDDEN;
        let (w_out, w_h) = (values(n, 10, 1.0), values(n, 11, 1.0));
        let loss = |gates_x: &[f32], h0: &[f32]| -> f64 {
            let [h, output, ..] = case.forward(gates_x, h0);
            (0..n)
                .map(|k| (w_out[k] * output[k] + w_h[k] * h[k]) as f64)
                .sum()
        };
        let numeric = |x: &[f32], k: usize, f: &dyn Fn(&[f32]) -> f64| {
            let eps = 1e-2;
            let (mut up, mut down) = (x.to_vec(), x.to_vec());
            up[k] += eps;
            down[k] -= eps;
            (f(&up) - f(&down)) / (2.0 * eps as f64)
        };
        let w_hh_t = PackedWeight::new(&case.w_hh, [HIDDEN, 3 * HIDDEN], true);
        for isa in paths() {
            crate::isa::force(Some(isa));
            let [_, _, rz, n_gate, hn] = case.forward(&case.gates_x, &case.h0);
            let mut d_h = w_h.clone();
            let (mut d_gates_x, mut d_gates_h) = (vec![0.0; 3 * n], vec![0.0; 3 * n]);
            let step = GruBackwardStep {
                rz: &rz,
                n: &n_gate,
                hn: &hn,
                h_prev: &case.h0,
                mask: Some(&case.mask),
                d_output: &w_out,
                d_h: &mut d_h,
                d_gates_x: &mut d_gates_x,
                d_gates_h: &mut d_gates_h,
            };
            gru_backward_step(&w_hh_t, HIDDEN, step);
            crate::isa::force(None);
            for (k, &a) in d_gates_x.iter().enumerate() {
                let expected = numeric(&case.gates_x, k, &|x| loss(x, &case.h0));
                assert!(
                    (a as f64 - expected).abs() < 2e-3,
                    "d_gates_x[{k}] {}",
                    isa.name()
                );
            }
            for (k, &a) in d_h.iter().enumerate() {
                let expected = numeric(&case.h0, k, &|h| loss(&case.gates_x, h));
                assert!(
                    (a as f64 - expected).abs() < 2e-3,
                    "d_h[{k}] {}",
                    isa.name()
                );
            }
            for (k, (&dh, &dx)) in d_gates_h.iter().zip(&d_gates_x).enumerate() {
                let (row, col) = (k / (3 * HIDDEN), k % (3 * HIDDEN));
                let scale = if col < 2 * HIDDEN {
                    1.0
                } else {
                    rz[row * 2 * HIDDEN + col - 2 * HIDDEN]
                };
                assert!(
                    (dh - dx * scale).abs() < 1e-6,
                    "d_gates_h[{k}] {}",
                    isa.name()
                );
            }
        }
    }
}
