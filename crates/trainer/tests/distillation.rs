//! `trainer::distill::distillation_loss` against PyTorch's formulation: α·T²·`kl_div(
//! log_softmax(s/T), softmax(t/T), reduction="batchmean")` + (1 − α)·`cross_entropy(s, y)`,
//! value and gradient with respect to the student logits. Fixture from
//! `scripts/parity/distill.py` (float64 in torch; burn computes in f32).

use burn::prelude::*;
use serde::Deserialize;
use trainer::distill::distillation_loss;

#[derive(Deserialize)]
struct Case {
    batch: usize,
    classes: usize,
    temperature: f64,
    alpha: f64,
    student: Vec<f32>,
    teacher: Vec<f32>,
    targets: Vec<i64>,
    loss: f64,
    grad: Vec<f64>,
}

#[derive(Deserialize)]
struct Fixture {
    cases: Vec<Case>,
}

#[test]
fn loss_and_gradient_match_pytorch_kl_div() {
    let fixture: Fixture =
        serde_json::from_str(include_str!("fixtures/distillation.json")).expect("fixture");
    let device = Device::default().autodiff();
    for case in fixture.cases {
        let shape = [case.batch, case.classes];
        let student = Tensor::<2>::from_data(TensorData::new(case.student.clone(), shape), &device)
            .require_grad();
        let teacher = Tensor::<2>::from_data(TensorData::new(case.teacher.clone(), shape), &device);
        let targets = Tensor::<1, Int>::from_data(
            TensorData::new(case.targets.clone(), [case.batch]),
            &device,
        );
        let loss = distillation_loss(
            student.clone(),
            teacher,
            targets,
            case.temperature,
            case.alpha,
        );
        let grads = loss.backward();
        let value = loss.into_scalar::<f32>() as f64;
        let what = format!("T {} α {}", case.temperature, case.alpha);
        // f32 against float64: relative 1e-5 on the loss, 1e-6 absolute on each gradient.
        assert!(
            (value - case.loss).abs() <= 1e-5 * case.loss.abs().max(1.0),
            "{what}: loss {value} vs torch {}",
            case.loss
        );
        let grad: Vec<f32> = student
            .grad(&grads)
            .expect("student gradient")
            .into_data()
            .try_to_vec()
            .unwrap();
        let worst = grad
            .iter()
            .zip(&case.grad)
            .map(|(a, b)| (*a as f64 - b).abs())
            .fold(0.0, f64::max);
        assert!(worst <= 1e-6, "{what}: gradient differs by {worst}");
    }
}
