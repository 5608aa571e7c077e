//! ImageNet inference with torchvision's checkpoint layout: a `torch.save` file with every key
//! and shape of torchvision's `resnet18` (`scripts/parity/imagenet_predict.py`), read through
//! the registry entry `resnet18`'s config, gives torchvision's own top-5 on 256×256 photos.

use trainer::testing::Binary;

const RESNET: Binary = Binary(env!("CARGO_BIN_EXE_resnet"));

fn fixtures() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

#[test]
fn torchvision_resnet18_checkpoint_predicts_as_torchvision() {
    let dir = tempfile::tempdir().unwrap();
    let weights = dir.path().join("resnet18-f37072fd.pth");
    std::fs::copy(fixtures().join("resnet18_torchvision_layout.pth"), &weights).unwrap();
    // What `--weights pretrained:resnet18` writes beside the downloaded file.
    trainer::pretrained::entry("resnet18")
        .unwrap()
        .write_config(&dir.path().join("config.json"))
        .unwrap();
    let json = dir.path().join("predict.json");
    let (a, b) = (fixtures().join("photo0.png"), fixtures().join("photo1.png"));
    let stdout = RESNET.ok(&[
        "predict",
        "--weights",
        weights.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("resnet18_predict.json")).unwrap(),
    )
    .unwrap();
    let got: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let mut worst = 0f64;
    for (want, have) in expected["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .zip(got.as_array().unwrap())
    {
        let (want, have) = (
            want["top"].as_array().unwrap(),
            have["top"].as_array().unwrap(),
        );
        assert_eq!(have.len(), 5);
        for (w, h) in want.iter().zip(have) {
            assert_eq!(w["index"], h["index"], "top-5 order: {want:?} vs {have:?}");
            assert_eq!(w["class"], h["class"]);
            let diff =
                (w["probability"].as_f64().unwrap() - h["probability"].as_f64().unwrap()).abs();
            worst = worst.max(diff);
        }
    }
    println!("max |p - p_torchvision| over the top-5 of 2 photos: {worst:e}\n{stdout}");
    assert!(worst <= 2e-3, "{worst}");
    assert!(stdout.contains("magnetic compass"), "{stdout}");
}

#[test]
fn pretrained_name_offline_says_where_to_put_the_file() {
    let cache = tempfile::tempdir().unwrap();
    let stderr = RESNET.failing_with_env(
        &["predict", "--weights", "pretrained:resnet18", "x.jpg"],
        &[
            ("ZOO_OFFLINE", "1"),
            ("ZOO_CACHE_DIR", cache.path().to_str().unwrap()),
        ],
    );
    assert!(
        stderr.contains("https://download.pytorch.org/models/resnet18-f37072fd.pth")
            && stderr.contains("resnet18/resnet18-f37072fd.pth"),
        "{stderr}"
    );
    assert!(std::fs::read_dir(cache.path()).unwrap().next().is_none());
    let unknown = RESNET.failing(&["predict", "--weights", "pretrained:resnet19", "x.jpg"]);
    assert!(
        unknown.contains("no pretrained weights called `resnet19`")
            && unknown.contains("resnet18, resnet34"),
        "{unknown}"
    );
}
