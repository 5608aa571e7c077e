//! Your own images and transfer learning, end to end through the `cnn` binary: an image folder
//! of real MNIST digits written as PNG files (one broken), a model trained on three digits, then
//! carried over to four others with a new head, the backbone frozen or not.

use burn::prelude::*;
use std::path::Path;
use trainer::datasets::{DataSource, Mnist, MnistVariant, Split};
use trainer::testing::{Binary, report};

const CNN: Binary = Binary(env!("CARGO_BIN_EXE_cnn"));
const NAMES: [&str; 10] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
];

/// `root/{train,test}/<digit name>/<index>.png` for `digits`: the first `per_class` training
/// and `per_class / 2` test images of each, from the committed MNIST files.
fn digit_folder(root: &Path, digits: &[u8], per_class: usize) {
    let source = DataSource::new(None).with_download(false);
    for (split, dir, n) in [
        (Split::Train, "train", per_class),
        (Split::Test, "test", per_class / 2),
    ] {
        let set = Mnist::load(&source, MnistVariant::Mnist, split).unwrap();
        for &digit in digits {
            let folder = root.join(dir).join(NAMES[digit as usize]);
            std::fs::create_dir_all(&folder).unwrap();
            let indices = (0..set.len()).filter(|&i| set.label(i) == digit).take(n);
            for i in indices {
                image::GrayImage::from_raw(28, 28, set.image(i).to_vec())
                    .unwrap()
                    .save(folder.join(format!("{i}.png")))
                    .unwrap();
            }
        }
    }
}

fn train(folder: &Path, out: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "train",
        "--dataset",
        "folder",
        "--data-dir",
        folder.to_str().unwrap(),
        "--epochs",
        "1",
        "--batch-size",
        "16",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    CNN.ok(&args)
}

/// One parameter of a run's weights, by its Burn path.
fn tensor(run: &Path, name: &str) -> Vec<f32> {
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap()).unwrap();
    let classes = config["data"]["num_classes"].as_u64().unwrap() as usize;
    let model = cnn::Cnn::new(
        &cnn::CnnConfig::default(),
        3,
        32,
        32,
        classes,
        &Device::flex(),
    )
    .try_load_file(run.join("model.bpk"))
    .unwrap();
    trainer::testing::parameters(&model)
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no {name}"))
        .1
}

#[test]
fn trains_on_an_image_folder_and_transfers_to_new_classes() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (dir.path().join("first"), dir.path().join("second"));
    digit_folder(&first, &[0, 1, 2], 40);
    digit_folder(&second, &[3, 4, 5, 6], 24);
    std::fs::write(first.join("train/one/broken.png"), b"not a png").unwrap();

    // Your own images: classes from the folder names, the broken file skipped and counted.
    let source = dir.path().join("source");
    let out = CNN.run(&[
        "train",
        "--dataset",
        "folder",
        "--data-dir",
        first.to_str().unwrap(),
        "--epochs",
        "1",
        "--batch-size",
        "16",
        "--out",
        source.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("broken.png: not a readable image"),
        "{stderr}"
    );
    assert_eq!(report(&source)["skipped_files"], 1);
    let config = std::fs::read_to_string(source.join("config.json")).unwrap();
    assert!(
        config.contains("\"two\"") && config.contains("\"image_size\": 32"),
        "{config}"
    );
    let image = first
        .join("test/two")
        .read_dir()
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let predicted = CNN.ok(&[
        "predict",
        "--weights",
        source.join("model.bpk").to_str().unwrap(),
        image.to_str().unwrap(),
    ]);
    assert!(
        predicted.contains("zero") && predicted.contains("two"),
        "{predicted}"
    );

    // Four new classes: the head does not fit and is learnt afresh; frozen, nothing else moves.
    let frozen = dir.path().join("frozen");
    let stdout = train(
        &second,
        &frozen,
        &[
            "--init",
            source.join("model.bpk").to_str().unwrap(),
            "--freeze-backbone",
        ],
    );
    assert!(
        stdout.contains("fc2.weight (the file's is [64, 3], the model's [64, 4])"),
        "{stdout}"
    );
    assert!(
        stdout.contains("--freeze-backbone: training 260 head parameters (fc2)"),
        "{stdout}"
    );
    assert_eq!(
        tensor(&frozen, "conv1.weight"),
        tensor(&source, "conv1.weight")
    );
    assert_eq!(tensor(&frozen, "fc1.bias"), tensor(&source, "fc1.bias"));
    // Fine-tuned, the backbone starts from the source and moves.
    let tuned = dir.path().join("tuned");
    train(
        &second,
        &tuned,
        &["--init", source.join("model.bpk").to_str().unwrap()],
    );
    assert_ne!(
        tensor(&tuned, "conv1.weight"),
        tensor(&source, "conv1.weight")
    );

    // Same class count: --reset-head still learns the head afresh.
    let reset = dir.path().join("reset");
    let stdout = train(
        &first,
        &reset,
        &[
            "--init",
            source.join("model.bpk").to_str().unwrap(),
            "--reset-head",
        ],
    );
    assert!(stdout.contains("fc2.weight (head)"), "{stdout}");

    // Bad flags: a clear error, exit status 2.
    for (args, says) in [
        (
            vec!["train", "--dataset", "folder"],
            "give the folder with --data-dir",
        ),
        (
            vec![
                "train",
                "--dataset",
                "folder",
                "--data-dir",
                first.to_str().unwrap(),
                "--num-classes",
                "7",
            ],
            "--num-classes 7: the training data has 3 classes",
        ),
    ] {
        let out = CNN.run(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{stderr}");
    }
}
