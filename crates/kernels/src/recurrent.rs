//! One LSTM step for a batch, forward and backward, on host slices: the recurrent product and
//! everything after it, the batch split between the cores.
//!
//! Built from Burn's tensor ops, one step is about fifteen whole-tensor passes forward (add the
//! two projections and the bias, the gate sigmoids, the cell update, `tanh`, the output) and
//! twenty backward, each allocating its result and calling libm's scalar `expf`, around a GEMM
//! that packs the weight afresh for a 64-row product. Here the weight is packed once per
//! sequence ([`PackedWeight`]), and each core takes a block of batch rows through the whole
//! step: its rows of the product, then one vectorised pass ([`crate::vmath::exp`]) over them.
//! Rows are independent within a step, so the cores meet only once per step.
//!
//! The equations are PyTorch's `torch.nn.LSTM` (gate blocks i, f, g, o):
//! `i, f, o = σ(·)`, `g = tanh(·)` of `x W_ih + b_ih + h W_hh + b_hh`; `c' = f c + i g`;
//! `h' = o tanh(c')`. A step whose mask is 0 (padding) keeps the state and outputs zeros:
//! `state = old + m (new - old)`, `output = m h'`.

use rayon::prelude::*;

use crate::direct::MAX_TILE;
use crate::isa::{self, Isa};
use crate::linear::PackedWeight;
use crate::vmath::exp;

/// Calls `$row` (an `#[inline(always)]` function of the named arguments) compiled for `$isa`
/// inside a function of its own. Its slice arguments then do not overlap as far as the compiler
/// knows, and it vectorises the loop; inlined into a larger function (through
/// [`crate::isa::with_isa`]) the loop stayed scalar: 0.83 against 0.33 ms for a forward step of
/// the char-LM's shapes.
macro_rules! row_on {
    ($isa:expr, $row:ident($($arg:ident: $ty:ty),* $(,)?)) => {{
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f,avx2,fma")]
        fn avx512($($arg: $ty),*) {
            $row($($arg),*)
        }
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        fn avx2($($arg: $ty),*) {
            $row($($arg),*)
        }
        #[inline(never)]
        fn portable($($arg: $ty),*) {
            $row($($arg),*)
        }
        match $isa {
            // SAFETY: `isa::active` never picks a path the CPU lacks.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => unsafe { avx512($($arg),*) },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => unsafe { avx2($($arg),*) },
            _ => portable($($arg),*),
        }
    }};
}
pub(crate) use row_on;

/// σ(x) = 1 / (1 + e⁻ˣ).
#[inline(always)]
pub(crate) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// tanh(x) = 2σ(2x) - 1.
#[inline(always)]
pub(crate) fn tanh(x: f32) -> f32 {
    2.0 * sigmoid(2.0 * x) - 1.0
}

/// One step's buffers forward, row-major, `hidden` wide (gate rows `4 hidden`).
pub struct ForwardStep<'a> {
    /// `[batch, 4 hidden]`: `x W_ih + b_ih` for this step.
    pub gates_x: &'a [f32],
    /// `[4 hidden]`.
    pub b_hh: &'a [f32],
    /// This step's `[batch]` mask entries; `None` when all are real.
    pub mask: Option<&'a [f32]>,
    /// `[batch, hidden]`: the state before the step, updated in place.
    pub h: &'a mut [f32],
    pub c: &'a mut [f32],
    /// Written: the gate activations i, f, g, o `[batch, 4 hidden]`, `tanh(c')` and the output
    /// `[batch, hidden]`.
    pub gates: &'a mut [f32],
    pub tanh_c: &'a mut [f32],
    pub output: &'a mut [f32],
}

/// One step's buffers backward, row-major.
pub struct BackwardStep<'a> {
    /// What the forward step kept: `gates` `[batch, 4 hidden]`, `tanh_c` `[batch, hidden]`;
    /// and the cell state before the step.
    pub gates: &'a [f32],
    pub tanh_c: &'a [f32],
    pub c_prev: &'a [f32],
    pub mask: Option<&'a [f32]>,
    /// `[batch, hidden]`: the gradient of the step's output.
    pub d_output: &'a [f32],
    /// In, the gradients reaching the hidden and cell states after the step; out, before it.
    pub d_h: &'a mut [f32],
    pub d_c: &'a mut [f32],
    /// Written: the gradient of the pre-activations, `[batch, 4 hidden]`.
    pub d_pre: &'a mut [f32],
}

/// Batch rows per parallel task: whole tiles, one task per core.
pub(crate) fn rows_per_task(batch: usize) -> usize {
    let threads = rayon::current_num_threads().max(1);
    batch.div_ceil(threads).next_multiple_of(MAX_TILE)
}

/// Splits `values` (rows of `width`) into tasks of `rows` rows.
pub(crate) fn split<T>(values: &[T], rows: usize, width: usize) -> std::slice::Chunks<'_, T> {
    values.chunks((rows * width).max(1))
}

/// A step's mask entries split as [`split`] splits its rows: `None` for every task when all
/// rows are real.
pub(crate) fn split_mask(mask: Option<&[f32]>, batch: usize, rows: usize) -> Vec<Option<&[f32]>> {
    match mask {
        Some(m) => split(m, rows, 1).map(Some).collect(),
        None => vec![None; batch.div_ceil(rows)],
    }
}

pub(crate) fn split_mut<T>(
    values: &mut [T],
    rows: usize,
    width: usize,
) -> std::slice::ChunksMut<'_, T> {
    values.chunks_mut((rows * width).max(1))
}

/// One LSTM step forward: `h W_hh` through `w_hh` (packed from `W_hh` `[hidden, 4 hidden]`),
/// then the gates, cell and output of every batch row.
pub fn lstm_forward_step(w_hh: &PackedWeight, hidden: usize, step: ForwardStep<'_>) {
    let width = 4 * hidden;
    let batch = step.h.len() / hidden;
    assert!(
        w_hh.channels() == hidden && w_hh.outputs() == width,
        "w_hh is [hidden, 4 hidden]"
    );
    assert_eq!(
        step.gates_x.len(),
        batch * width,
        "gates_x is [batch, 4 hidden]"
    );
    assert_eq!(step.b_hh.len(), width, "b_hh is [4 hidden]");
    assert_eq!(step.c.len(), step.h.len(), "h and c have the same shape");
    assert_eq!(
        step.gates.len(),
        batch * width,
        "gates is [batch, 4 hidden]"
    );
    assert!(step.tanh_c.len() == step.h.len() && step.output.len() == step.h.len());
    assert!(
        step.mask.is_none_or(|m| m.len() == batch),
        "one mask entry per batch row"
    );
    let isa = isa::active();
    let rows = rows_per_task(batch);
    let masks = split_mask(step.mask, batch, rows);
    let tasks: Vec<ForwardStep<'_>> = split(step.gates_x, rows, width)
        .zip(masks)
        .zip(split_mut(step.h, rows, hidden))
        .zip(split_mut(step.c, rows, hidden))
        .zip(split_mut(step.gates, rows, width))
        .zip(split_mut(step.tanh_c, rows, hidden))
        .zip(split_mut(step.output, rows, hidden))
        .map(
            |((((((gates_x, mask), h), c), gates), tanh_c), output)| ForwardStep {
                gates_x,
                b_hh: step.b_hh,
                mask,
                h,
                c,
                gates,
                tanh_c,
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

/// The pointwise part of [`lstm_forward_step`] for some rows, `recurrent` their `h W_hh`.
fn forward_rows(isa: Isa, hidden: usize, recurrent: &[f32], step: ForwardStep<'_>) {
    let width = 4 * hidden;
    let ForwardStep {
        gates_x,
        b_hh,
        mask,
        h,
        c,
        gates,
        tanh_c,
        output,
    } = step;
    for row in 0..h.len() / hidden {
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
        let gates = [i, f, g, o];
        let states = [&mut h[state.clone()], &mut c[state.clone()]];
        let outputs = [&mut tanh_c[state.clone()], &mut output[state]];
        row_on!(
            isa,
            forward_row(
                m: f32,
                gates: [&mut [f32]; 4],
                states: [&mut [f32]; 2],
                outputs: [&mut [f32]; 2],
            )
        );
    }
}

/// One row's gates (pre-activations in, activations out), state and outputs; run through
/// [`row_on`].
#[inline(always)]
fn forward_row(
    m: f32,
    [i, f, g, o]: [&mut [f32]; 4],
    [h, c]: [&mut [f32]; 2],
    [tanh_c, output]: [&mut [f32]; 2],
) {
    let gates = i
        .iter_mut()
        .zip(f.iter_mut())
        .zip(g.iter_mut())
        .zip(o.iter_mut());
    let state = h.iter_mut().zip(c.iter_mut());
    let outputs = tanh_c.iter_mut().zip(output.iter_mut());
    for ((((i, f), g), o), ((h, c), (tanh_c, output))) in gates.zip(state.zip(outputs)) {
        let (ij, fj, gj, oj) = (sigmoid(*i), sigmoid(*f), tanh(*g), sigmoid(*o));
        (*i, *f, *g, *o) = (ij, fj, gj, oj);
        let c_new = fj * *c + ij * gj;
        let t = tanh(c_new);
        let h_new = oj * t;
        *tanh_c = t;
        *output = m * h_new;
        *h += m * (h_new - *h);
        *c += m * (c_new - *c);
    }
}

/// One LSTM step backward: the gradients of the step's pre-activations, and of the hidden and
/// cell states before it (`d_h` gets `d_pre W_hhᵀ` through `w_hh_t`, packed from `W_hh` for
/// the transposed product, plus at padding the gradient that skipped the step).
pub fn lstm_backward_step(w_hh_t: &PackedWeight, hidden: usize, step: BackwardStep<'_>) {
    let width = 4 * hidden;
    let batch = step.d_h.len() / hidden;
    assert!(
        w_hh_t.channels() == width && w_hh_t.outputs() == hidden,
        "w_hh_t is W_hh for x W_hhᵀ"
    );
    assert_eq!(
        step.gates.len(),
        batch * width,
        "gates is [batch, 4 hidden]"
    );
    assert!(step.c_prev.len() == step.d_h.len() && step.tanh_c.len() == step.d_h.len());
    assert!(step.d_output.len() == step.d_h.len() && step.d_c.len() == step.d_h.len());
    assert_eq!(
        step.d_pre.len(),
        batch * width,
        "d_pre is [batch, 4 hidden]"
    );
    assert!(
        step.mask.is_none_or(|m| m.len() == batch),
        "one mask entry per batch row"
    );
    let isa = isa::active();
    let rows = rows_per_task(batch);
    let masks = split_mask(step.mask, batch, rows);
    let tasks: Vec<BackwardStep<'_>> = split(step.gates, rows, width)
        .zip(split(step.tanh_c, rows, hidden))
        .zip(split(step.c_prev, rows, hidden))
        .zip(masks)
        .zip(split(step.d_output, rows, hidden))
        .zip(split_mut(step.d_h, rows, hidden))
        .zip(split_mut(step.d_c, rows, hidden))
        .zip(split_mut(step.d_pre, rows, width))
        .map(
            |(((((((gates, tanh_c), c_prev), mask), d_output), d_h), d_c), d_pre)| BackwardStep {
                gates,
                tanh_c,
                c_prev,
                mask,
                d_output,
                d_h,
                d_c,
                d_pre,
            },
        )
        .collect();
    tasks.into_par_iter().for_each(|task| {
        let mut through_w = vec![0.0; task.d_h.len()];
        let (d_pre, d_h) = backward_rows(isa, hidden, task);
        w_hh_t.product_on_this_thread(isa, d_pre, &mut through_w);
        for (d, x) in d_h.iter_mut().zip(&through_w) {
            *d += x;
        }
    });
}

/// The pointwise part of [`lstm_backward_step`] for some rows; `d_h` is left holding the part
/// that skips the step (`(1 - m) d_h`). Returns `d_pre` and `d_h` for the product.
fn backward_rows<'a>(
    isa: Isa,
    hidden: usize,
    step: BackwardStep<'a>,
) -> (&'a [f32], &'a mut [f32]) {
    let width = 4 * hidden;
    let BackwardStep {
        gates,
        tanh_c,
        c_prev,
        mask,
        d_output,
        d_h,
        d_c,
        d_pre,
    } = step;
    for row in 0..d_h.len() / hidden {
        let m = mask.map_or(1.0, |m| m[row]);
        let gates = &gates[row * width..][..width];
        let (i, f, g, o) = (
            &gates[..hidden],
            &gates[hidden..][..hidden],
            &gates[2 * hidden..][..hidden],
            &gates[3 * hidden..][..hidden],
        );
        let d_pre = &mut d_pre[row * width..][..width];
        let (d_i, rest) = d_pre.split_at_mut(hidden);
        let (d_f, rest) = rest.split_at_mut(hidden);
        let (d_g, d_o) = rest.split_at_mut(hidden);
        let state = row * hidden..(row + 1) * hidden;
        let gates = [i, f, g, o];
        let kept = [
            &tanh_c[state.clone()],
            &c_prev[state.clone()],
            &d_output[state.clone()],
        ];
        let d_state = [&mut d_h[state.clone()], &mut d_c[state]];
        let d_gates = [d_i, d_f, d_g, d_o];
        row_on!(
            isa,
            backward_row(
                m: f32,
                gates: [&[f32]; 4],
                kept: [&[f32]; 3],
                d_state: [&mut [f32]; 2],
                d_gates: [&mut [f32]; 4],
            )
        );
    }
    (d_pre, d_h)
}

/// One row of [`backward_rows`]; run through [`row_on`].
#[inline(always)]
fn backward_row(
    m: f32,
    [i, f, g, o]: [&[f32]; 4],
    [tanh_c, c_prev, d_output]: [&[f32]; 3],
    [d_h, d_c]: [&mut [f32]; 2],
    [d_i, d_f, d_g, d_o]: [&mut [f32]; 4],
) {
    let n = i.len();
    let (f, g, o, tanh_c, c_prev) = (&f[..n], &g[..n], &o[..n], &tanh_c[..n], &c_prev[..n]);
    let (d_output, d_h, d_c) = (&d_output[..n], &mut d_h[..n], &mut d_c[..n]);
    let (d_i, d_f, d_g, d_o) = (&mut d_i[..n], &mut d_f[..n], &mut d_g[..n], &mut d_o[..n]);
    for j in 0..n {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::Isa;

    /// A fixed spread of values in about [-3, 3], without a random-number crate.
    fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n)
            .map(|k| (((k as u32).wrapping_mul(2_654_435_761) ^ seed) % 6001) as f32 / 1000.0 - 3.0)
            .collect()
    }

    fn paths() -> Vec<Isa> {
        Isa::ALL
            .into_iter()
            .filter(|isa| *isa <= isa::detected())
            .collect()
    }

    /// A step's inputs: 19 rows (two tasks on two cores, the second a partial tile), hidden 5,
    /// row 1 padding.
    struct Case {
        hidden: usize,
        w_hh: Vec<f32>,
        gates_x: Vec<f32>,
        b_hh: Vec<f32>,
        mask: Vec<f32>,
        h0: Vec<f32>,
        c0: Vec<f32>,
    }

    impl Case {
        fn new() -> Self {
            let (batch, hidden) = (19, 5);
            let scaled = |n, seed, by: f32| values(n, seed).iter().map(|v| v * by).collect();
            let mut mask = vec![1.0; batch];
            mask[1] = 0.0;
            Self {
                hidden,
                w_hh: scaled(hidden * 4 * hidden, 1, 0.2),
                gates_x: scaled(batch * 4 * hidden, 2, 0.5),
                b_hh: scaled(4 * hidden, 3, 0.1),
                mask,
                h0: scaled(batch * hidden, 4, 0.3),
                c0: values(batch * hidden, 5),
            }
        }

        fn batch(&self) -> usize {
            self.h0.len() / self.hidden
        }

        /// h', c', output, gates, tanh(c') of a step from `gates_x`, `h0` and `c0`.
        fn forward(&self, gates_x: &[f32], h0: &[f32], c0: &[f32]) -> [Vec<f32>; 5] {
            let (batch, hidden) = (self.batch(), self.hidden);
            let w_hh = PackedWeight::new(&self.w_hh, [hidden, 4 * hidden], false);
            let (mut h, mut c) = (h0.to_vec(), c0.to_vec());
            let mut gates = vec![0.0; batch * 4 * hidden];
            let (mut tanh_c, mut output) = (vec![0.0; h.len()], vec![0.0; h.len()]);
            let step = ForwardStep {
                gates_x,
                b_hh: &self.b_hh,
                mask: Some(&self.mask),
                h: &mut h,
                c: &mut c,
                gates: &mut gates,
                tanh_c: &mut tanh_c,
                output: &mut output,
            };
            lstm_forward_step(&w_hh, hidden, step);
            [h, c, output, gates, tanh_c]
        }
    }

    #[test]
    fn the_forward_step_matches_the_equations_in_f64() {
        let case = Case::new();
        let (batch, hidden, width) = (case.batch(), case.hidden, 4 * case.hidden);
        for isa in paths() {
            crate::isa::force(Some(isa));
            let [h, c, output, ..] = case.forward(&case.gates_x, &case.h0, &case.c0);
            crate::isa::force(None);
            let s = |x: f64| 1.0 / (1.0 + (-x).exp());
            for row in 0..batch {
                let m = case.mask[row] as f64;
                let pre = |n: usize| {
                    let recurrent: f64 = (0..hidden)
                        .map(|k| case.h0[row * hidden + k] as f64 * case.w_hh[k * width + n] as f64)
                        .sum();
                    case.gates_x[row * width + n] as f64 + case.b_hh[n] as f64 + recurrent
                };
                for j in 0..hidden {
                    let (i, f, g, o) = (
                        s(pre(j)),
                        s(pre(hidden + j)),
                        pre(2 * hidden + j).tanh(),
                        s(pre(3 * hidden + j)),
                    );
                    let k = row * hidden + j;
                    let (h0, c0) = (case.h0[k] as f64, case.c0[k] as f64);
                    let c_new = f * c0 + i * g;
                    let h_new = o * c_new.tanh();
                    let close = |a: f32, b: f64, what: &str| {
                        assert!(
                            (a as f64 - b).abs() < 1e-5,
                            "{what}[{row}, {j}] {}",
                            isa.name()
                        )
                    };
                    close(h[k], h0 + m * (h_new - h0), "h");
                    close(c[k], c0 + m * (c_new - c0), "c");
                    close(output[k], m * h_new, "output");
                }
            }
            // The padded row keeps its state and outputs zeros.
            assert_eq!(&h[hidden..2 * hidden], &case.h0[hidden..2 * hidden]);
            assert!(output[hidden..2 * hidden].iter().all(|&x| x == 0.0));
        }
    }

    #[test]
    fn the_backward_step_matches_finite_differences() {
        // L = Σ w_out · output + Σ w_h · h' + Σ w_c · c' for fixed weights: the backward step's
        // gradients of the input projection (d_pre), of h and of c before the step, against
        // central differences of the forward step in f32 (the tolerance allows for that).
        let case = Case::new();
        let (batch, hidden) = (case.batch(), case.hidden);
        let n = batch * hidden;
        let (w_out, w_h, w_c) = (values(n, 10), values(n, 11), values(n, 12));
        let loss = |gates_x: &[f32], h0: &[f32], c0: &[f32]| -> f64 {
            let [h, c, output, ..] = case.forward(gates_x, h0, c0);
            (0..n)
                .map(|k| (w_out[k] * output[k] + w_h[k] * h[k] + w_c[k] * c[k]) as f64)
                .sum()
        };
        let numeric = |x: &[f32], k: usize, f: &dyn Fn(&[f32]) -> f64| {
            let eps = 1e-2;
            let (mut up, mut down) = (x.to_vec(), x.to_vec());
            up[k] += eps;
            down[k] -= eps;
            (f(&up) - f(&down)) / (2.0 * eps as f64)
        };
        let w_hh_t = PackedWeight::new(&case.w_hh, [hidden, 4 * hidden], true);
        for isa in paths() {
            crate::isa::force(Some(isa));
            let [_, _, _, gates, tanh_c] = case.forward(&case.gates_x, &case.h0, &case.c0);
            let (mut d_h, mut d_c) = (w_h.clone(), w_c.clone());
            let mut d_pre = vec![0.0; batch * 4 * hidden];
            let step = BackwardStep {
                gates: &gates,
                tanh_c: &tanh_c,
                c_prev: &case.c0,
                mask: Some(&case.mask),
                d_output: &w_out,
                d_h: &mut d_h,
                d_c: &mut d_c,
                d_pre: &mut d_pre,
            };
            lstm_backward_step(&w_hh_t, hidden, step);
            crate::isa::force(None);
            let check = |what: &str, analytic: &[f32], x: &[f32], f: &dyn Fn(&[f32]) -> f64| {
                for (k, &a) in analytic.iter().enumerate() {
                    let expected = numeric(x, k, f);
                    assert!(
                        (a as f64 - expected).abs() < 2e-3,
                        "{what}[{k}] {}",
                        isa.name()
                    );
                }
            };
            check("d_pre", &d_pre, &case.gates_x, &|x| {
                loss(x, &case.h0, &case.c0)
            });
            check("d_h", &d_h, &case.h0, &|h| loss(&case.gates_x, h, &case.c0));
            check("d_c", &d_c, &case.c0, &|c| loss(&case.gates_x, &case.h0, c));
        }
    }
}
