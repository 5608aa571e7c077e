//! ResNet shapes, sizes and names.

use burn::prelude::*;
use resnet::{ResNet, ResNetArch, ResNetConfig, Shortcut};

fn config(arch: ResNetArch) -> ResNetConfig {
    ResNetConfig {
        arch,
        ..ResNetConfig::default()
    }
}

/// Learnable parameters only (Burn's count includes BatchNorm running statistics).
fn learnable(model: &ResNet) -> usize {
    use burn::module::ModuleVisitor;
    /// Counts float tensors, skipping those whose innermost module field is a running statistic.
    struct Count(usize, Vec<String>);
    impl ModuleVisitor for Count {
        fn enter_module(&mut self, name: &str, _container: &str) {
            self.1.push(name.to_string());
        }
        fn exit_module(&mut self, _name: &str, _container: &str) {
            self.1.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
            let field = self.1.last().map(String::as_str).unwrap_or("");
            if !field.starts_with("running_") {
                self.0 += param.val().shape().num_elements();
            }
        }
    }
    let mut count = Count(0, Vec::new());
    model.visit(&mut count);
    count.0
}

#[test]
fn sizes_match_the_papers_and_torchvision() {
    let device = Device::flex();
    // He et al. 2016, Table 6: ResNet-20 0.27M, ResNet-56 0.85M, ResNet-110 1.7M.
    for (arch, millions) in [
        (ResNetArch::Resnet20, 0.27),
        (ResNetArch::Resnet56, 0.85),
        (ResNetArch::Resnet110, 1.7),
    ] {
        let n = learnable(&ResNet::new(&config(arch), 3, 10, &device)) as f64 / 1e6;
        // The paper rounds to two significant digits.
        assert!((n - millions).abs() < 0.03 * millions, "{arch:?}: {n}M");
    }
    // torchvision: resnet18 11,689,512 and resnet50 25,557,032 parameters (1000 classes).
    assert_eq!(
        learnable(&ResNet::new(
            &config(ResNetArch::Resnet18),
            3,
            1000,
            &device
        )),
        11_689_512
    );
    assert_eq!(
        learnable(&ResNet::new(
            &config(ResNetArch::Resnet50),
            3,
            1000,
            &device
        )),
        25_557_032
    );
}

#[test]
fn forward_shapes_for_each_layout_and_stem() {
    let device = Device::flex();
    let r20 = ResNet::new(&config(ResNetArch::Resnet20), 3, 10, &device);
    assert_eq!(
        r20.forward(Tensor::zeros([2, 3, 32, 32], &device)).dims(),
        [2, 10]
    );
    let mnist = ResNet::new(&config(ResNetArch::Resnet20), 1, 10, &device);
    assert_eq!(
        mnist.forward(Tensor::zeros([2, 1, 28, 28], &device)).dims(),
        [2, 10]
    );
    let cifar18 = ResNetConfig {
        cifar_stem: true,
        ..config(ResNetArch::Resnet18)
    };
    let r18 = ResNet::new(&cifar18, 3, 10, &device);
    assert!(!r18.use_maxpool);
    assert_eq!(
        r18.forward(Tensor::zeros([1, 3, 32, 32], &device)).dims(),
        [1, 10]
    );
    let option_b = ResNetConfig {
        shortcut: Shortcut::B,
        ..config(ResNetArch::Resnet20)
    };
    let b = ResNet::new(&option_b, 3, 10, &device);
    assert!(
        learnable(&b) > learnable(&r20),
        "option B adds projection parameters"
    );
    assert_eq!(
        b.forward(Tensor::zeros([1, 3, 32, 32], &device)).dims(),
        [1, 10]
    );
}

#[test]
fn zero_init_residual_makes_each_block_start_as_identity() {
    let device = Device::flex();
    let cfg = ResNetConfig {
        zero_init_residual: true,
        ..config(ResNetArch::Resnet20)
    };
    let model = ResNet::new(&cfg, 3, 10, &device);
    let resnet::block::ResidualBlock::Basic(block) = &model.layer1[0] else {
        panic!("ResNet-20 uses basic blocks")
    };
    let gamma: Vec<f32> = block.bn2.gamma.val().into_data().try_to_vec().unwrap();
    assert!(gamma.iter().all(|&g| g == 0.0));
    // A block whose last γ is 0 returns relu(x) for x >= 0.
    let x = Tensor::<4>::ones([1, 16, 8, 8], &device);
    let y = block.forward(x.clone());
    let diff: f32 = (y - x).abs().max().into_scalar();
    assert!(diff < 1e-6);
}
