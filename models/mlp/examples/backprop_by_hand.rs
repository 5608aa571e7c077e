//! Backpropagation worked by hand on the smallest network that shows every step: 3 inputs, 4
//! hidden ReLU units, 2 outputs, softmax and cross-entropy, one SGD update. Every number is
//! printed, with the rule that produced it; a test checks each gradient against Burn's autodiff.
//!
//!     cargo run -p mlp --example backprop-by-hand
//!
//! Notation (PyTorch's layout: a weight matrix is `[out, in]`):
//!   z1 = W1·x + b1      h = relu(z1)      z2 = W2·h + b2      p = softmax(z2)
//!   L  = −ln p[y]       (cross-entropy of the true class y)
//! Backward, by the chain rule from the loss down:
//!   δ2 = ∂L/∂z2 = p − onehot(y)                      (softmax and cross-entropy together)
//!   ∂L/∂W2 = δ2·hᵀ       ∂L/∂b2 = δ2
//!   ∂L/∂h  = W2ᵀ·δ2      δ1 = ∂L/∂z1 = ∂L/∂h ⊙ relu′(z1)   (relu′ = 1 where z1 > 0, else 0)
//!   ∂L/∂W1 = δ1·xᵀ       ∂L/∂b1 = δ1
//! and one step of gradient descent: w ← w − η·∂L/∂w.

/// The network's parameters.
#[derive(Clone, Debug, PartialEq)]
struct Network {
    w1: [[f64; 3]; 4],
    b1: [f64; 4],
    w2: [[f64; 4]; 2],
    b2: [f64; 2],
}

/// The worked example: small round weights, chosen so that two hidden units are switched off
/// by the ReLU (their gradients must then be zero), on the guide's first input row.
fn example() -> (Network, [f64; 3], usize) {
    let network = Network {
        w1: [
            [0.2, -0.1, 0.4],
            [-0.3, 0.5, 0.1],
            [0.6, 0.2, -0.5],
            [-0.2, 0.3, -0.4],
        ],
        b1: [0.1, -0.1, 0.05, 0.2],
        w2: [[0.5, -0.4, 0.3, 0.1], [-0.2, 0.6, 0.7, -0.3]],
        b2: [0.0, 0.1],
    };
    (network, [1.0, 0.0, 1.0], 0)
}

/// Every quantity of the forward pass.
struct Forward {
    z1: [f64; 4],
    h: [f64; 4],
    z2: [f64; 2],
    p: [f64; 2],
    loss: f64,
}

fn forward(n: &Network, x: &[f64; 3], y: usize) -> Forward {
    let z1: [f64; 4] = std::array::from_fn(|i| dot(&n.w1[i], x) + n.b1[i]);
    let h = z1.map(|z| z.max(0.0));
    let z2: [f64; 2] = std::array::from_fn(|k| dot(&n.w2[k], &h) + n.b2[k]);
    // Softmax, shifted by the largest logit so exp cannot overflow.
    let top = z2[0].max(z2[1]);
    let e = z2.map(|z| (z - top).exp());
    let p = e.map(|v| v / (e[0] + e[1]));
    Forward {
        z1,
        h,
        z2,
        p,
        loss: -p[y].ln(),
    }
}

/// Every quantity of the backward pass.
struct Backward {
    delta2: [f64; 2],
    dw2: [[f64; 4]; 2],
    dh: [f64; 4],
    delta1: [f64; 4],
    dw1: [[f64; 3]; 4],
}

fn backward(n: &Network, x: &[f64; 3], y: usize, f: &Forward) -> Backward {
    let delta2: [f64; 2] = std::array::from_fn(|k| f.p[k] - if k == y { 1.0 } else { 0.0 });
    let dw2 = delta2.map(|d| f.h.map(|h| d * h));
    let dh: [f64; 4] = std::array::from_fn(|j| (0..2).map(|k| n.w2[k][j] * delta2[k]).sum());
    let delta1: [f64; 4] = std::array::from_fn(|j| if f.z1[j] > 0.0 { dh[j] } else { 0.0 });
    let dw1 = delta1.map(|d| x.map(|x| d * x));
    Backward {
        delta2,
        dw2,
        dh,
        delta1,
        dw1,
    }
}

/// One step of plain gradient descent with rate `lr` (the bias gradients are the δs).
fn sgd_step(n: &Network, g: &Backward, lr: f64) -> Network {
    Network {
        w1: std::array::from_fn(|i| std::array::from_fn(|j| n.w1[i][j] - lr * g.dw1[i][j])),
        b1: std::array::from_fn(|i| n.b1[i] - lr * g.delta1[i]),
        w2: std::array::from_fn(|k| std::array::from_fn(|j| n.w2[k][j] - lr * g.dw2[k][j])),
        b2: std::array::from_fn(|k| n.b2[k] - lr * g.delta2[k]),
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

fn row(values: &[f64]) -> String {
    // `+ 0.0` turns −0 (a zero gradient times a negative number) into 0.
    let cells: Vec<String> = values.iter().map(|v| format!("{:>9.6}", v + 0.0)).collect();
    format!("[{}]", cells.join(" "))
}

const LEARNING_RATE: f64 = 0.1;

fn main() {
    let (net, x, y) = example();
    println!("3-4-2 network, input x = {}, true class y = {y}\n", row(&x));
    println!("weights W1 [4, 3] and b1:");
    for (w, b) in net.w1.iter().zip(&net.b1) {
        println!("  {}   {b:>9.6}", row(w));
    }
    println!("weights W2 [2, 4] and b2:");
    for (w, b) in net.w2.iter().zip(&net.b2) {
        println!("  {}   {b:>9.6}", row(w));
    }

    let f = forward(&net, &x, y);
    println!("\nforward");
    for i in 0..4 {
        println!(
            "  z1[{i}] = W1[{i}]·x + b1[{i}] = {:>9.6}   h[{i}] = relu = {:>9.6}",
            f.z1[i], f.h[i]
        );
    }
    for k in 0..2 {
        println!(
            "  z2[{k}] = W2[{k}]·h + b2[{k}] = {:>9.6}   p[{k}] = e^z2[{k}] / Σ e^z2 = {:>9.6}",
            f.z2[k], f.p[k]
        );
    }
    println!("  loss L = −ln p[{y}] = {:.6}", f.loss);

    let g = backward(&net, &x, y, &f);
    println!("\nbackward");
    for k in 0..2 {
        let one = if k == y { 1 } else { 0 };
        println!(
            "  δ2[{k}] = p[{k}] − {one} = {:>9.6}   ∂L/∂W2[{k}] = δ2[{k}]·h = {}   ∂L/∂b2[{k}] = {:>9.6}",
            g.delta2[k],
            row(&g.dw2[k]),
            g.delta2[k]
        );
    }
    for j in 0..4 {
        let gate = if f.z1[j] > 0.0 { 1 } else { 0 };
        println!(
            "  ∂L/∂h[{j}] = Σk W2[k][{j}]·δ2[k] = {:>9.6}   δ1[{j}] = ∂L/∂h[{j}]·relu′(z1[{j}] = {:.2}) = {:>9.6} · {gate} = {:>9.6}",
            g.dh[j], f.z1[j], g.dh[j], g.delta1[j]
        );
    }
    for j in 0..4 {
        println!(
            "  ∂L/∂W1[{j}] = δ1[{j}]·x = {}   ∂L/∂b1[{j}] = {:>9.6}",
            row(&g.dw1[j]),
            g.delta1[j]
        );
    }

    let next = sgd_step(&net, &g, LEARNING_RATE);
    println!("\none SGD step, w ← w − {LEARNING_RATE}·∂L/∂w");
    for j in 0..4 {
        println!(
            "  W1[{j}] = {}   b1[{j}] = {:>9.6}",
            row(&next.w1[j]),
            next.b1[j]
        );
    }
    for k in 0..2 {
        println!(
            "  W2[{k}] = {}   b2[{k}] = {:>9.6}",
            row(&next.w2[k]),
            next.b2[k]
        );
    }
    let after = forward(&next, &x, y);
    println!(
        "\nloss before {:.6}, after {:.6}: p[{y}] rose from {:.6} to {:.6}",
        f.loss, after.loss, f.p[y], after.p[y]
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::prelude::*;
    use burn::tensor::activation::{log_softmax, relu};

    fn tensor<const D: usize>(values: Vec<f64>, shape: [usize; D], device: &Device) -> Tensor<D> {
        let values: Vec<f32> = values.into_iter().map(|v| v as f32).collect();
        Tensor::from_data(TensorData::new(values, shape), device).require_grad()
    }

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f64> {
        let v: Vec<f32> = t.into_data().try_to_vec().unwrap();
        v.into_iter().map(f64::from).collect()
    }

    fn assert_close(what: &str, burn: &[f64], by_hand: &[f64]) {
        assert_eq!(burn.len(), by_hand.len(), "{what}");
        for (b, h) in burn.iter().zip(by_hand) {
            assert!(
                (b - h).abs() <= 1e-6,
                "{what}: Burn {burn:?}, by hand {by_hand:?}"
            );
        }
    }

    /// Burn's autodiff on the same network gives every gradient worked out above.
    #[test]
    fn every_gradient_matches_burn_autodiff() {
        let (net, x, y) = example();
        let device = Device::default().autodiff();
        let w1 = tensor(net.w1.concat(), [4, 3], &device);
        let b1 = tensor(net.b1.to_vec(), [1, 4], &device);
        let w2 = tensor(net.w2.concat(), [2, 4], &device);
        let b2 = tensor(net.b2.to_vec(), [1, 2], &device);
        let input = tensor(x.to_vec(), [1, 3], &device);
        let z1 = input.matmul(w1.clone().transpose()) + b1.clone(); // [1, 4]
        let z2 = relu(z1).matmul(w2.clone().transpose()) + b2.clone(); // [1, 2]
        let loss = -log_softmax(z2, 1).slice([0..1, y..y + 1]).sum();
        let f = forward(&net, &x, y);
        assert_close("loss", &values(loss.clone()), &[f.loss]);
        let grads = loss.backward();
        let g = backward(&net, &x, y, &f);
        let grad = |t: &Tensor<2>| values(t.grad(&grads).expect("a gradient"));
        assert_close("∂L/∂W1", &grad(&w1), &g.dw1.concat());
        assert_close("∂L/∂b1", &grad(&b1), &g.delta1);
        assert_close("∂L/∂W2", &grad(&w2), &g.dw2.concat());
        assert_close("∂L/∂b2", &grad(&b2), &g.delta2);
        // The two hidden units the ReLU switched off pass no gradient back.
        assert_eq!([g.delta1[1], g.delta1[3]], [0.0, 0.0]);
    }

    #[test]
    fn one_sgd_step_lowers_the_loss() {
        let (net, x, y) = example();
        let f = forward(&net, &x, y);
        let next = sgd_step(&net, &backward(&net, &x, y, &f), LEARNING_RATE);
        assert!(forward(&next, &x, y).loss < f.loss);
    }

    /// The guide's two slips, recomputed (see models/mlp/README.md).
    #[test]
    fn the_guides_examples_recomputed() {
        // Squared error L = (y − a)² at y = 1, a = z = 6 with ReLU: ∂L/∂a = −2(y − a) = 10 and
        // relu′(6) = 1, so δ = 10; the guide writes (1 − 6) · 0 = −5.
        let (y, a, z) = (1.0f64, 6.0f64, 6.0f64);
        let relu_derivative = if z > 0.0 { 1.0 } else { 0.0 };
        assert_eq!(-2.0 * (y - a) * relu_derivative, 10.0);
        // Binary cross-entropy of labels [1, 0, 1, 0] with predictions [0.8, 0.2, 0.9, 0.1],
        // as the guide writes it (only the y = 1 terms): −¼(ln 0.8 + ln 0.9) = 0.0821, not
        // 0.0953. With the (1 − y)·ln(1 − ŷ) terms as well it is 0.1643.
        let guide = -(0.8f64.ln() + 0.9f64.ln()) / 4.0;
        assert!((guide - 0.082_12).abs() < 1e-5, "{guide}");
        let full = -(2.0 * 0.8f64.ln() + 2.0 * 0.9f64.ln()) / 4.0;
        assert!((full - 0.164_25).abs() < 1e-5, "{full}");
    }
}
