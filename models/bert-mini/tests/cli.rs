//! The `bert-mini` binary end to end on slices of the real corpora (Shakespeare and the
//! SpamAssassin split committed under datasets/): pretraining learns and resumes, its folder
//! serves fill-mask / attend / export / info, fine-tuning from it and from scratch, and bad
//! input fails with a message instead of a panic.

use std::path::Path;
use trainer::testing::{Binary, csv_values, report};

const BERT: Binary = Binary(env!("CARGO_BIN_EXE_bert-mini"));

/// A 2-layer, 64-wide model on 64-token windows: small enough for CI, big enough to learn.
const TINY: [&str; 12] = [
    "--layers",
    "2",
    "--hidden",
    "64",
    "--heads",
    "2",
    "--max-len",
    "64",
    "--batch-size",
    "16",
    "--log-every",
    "0",
];

fn pretrain(out: &Path, windows: &str, extra: &[&str]) -> String {
    let mut args = vec!["pretrain", "--out", out.to_str().unwrap()];
    args.extend(TINY);
    args.extend([
        "--vocab-size",
        "2000",
        "--limit-train",
        windows,
        "--limit-valid",
        "64",
        "--lr",
        "2e-3",
    ]);
    args.extend(extra);
    BERT.ok(&args)
}

#[test]
fn pretraining_learns_resumes_and_its_folder_serves_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pre");
    let stdout = pretrain(&out, "384", &["--epochs", "2"]);
    assert!(
        stdout.contains("384 windows") && stdout.contains("64 windows"),
        "{stdout}"
    );
    for file in [
        "config.json",
        "tokenizer.json",
        "vocab.txt",
        "model.bpk",
        "metrics.csv",
        "report.json",
        "loss.png",
        "mlm_accuracy.png",
        "checkpoint/epoch-2/optim.bpk",
    ] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    // Chance is ln(2000) = 7.6 nats; the held-out loss must fall well below it and keep falling.
    let valid = csv_values(&out, "valid", "loss");
    assert!(valid[1].1 < valid[0].1 && valid[1].1 < 6.8, "{valid:?}");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["architectures"][0], "BertForMaskedLM");
    assert_eq!(config["hidden_size"], 64);

    let stdout = pretrain(&out, "384", &["--epochs", "3", "--resume"]);
    assert!(
        stdout.contains("from epoch 2") && stdout.contains("epoch 3/3"),
        "{stdout}"
    );
    let r = report(&out);
    assert_eq!(r["resumed_from_epoch"], 2);
    assert_eq!(r["steps"], 3 * 24);
    let accuracy = r["valid_mlm_accuracy"].as_f64().unwrap();
    // Measured 8–9% here (frequent tokens: the, and, commas); chance is 1/2000.
    assert!(accuracy > 4.0, "{r}");

    let model = out.to_str().unwrap();
    // `eval` masks the held-out windows with the same seed: the same figure as the report.
    let stdout = BERT.ok(&[
        "eval",
        "--model",
        model,
        "--max-len",
        "64",
        "--limit-test",
        "64",
    ]);
    assert!(
        stdout.contains(&format!("masked-LM accuracy {accuracy:.2}%")),
        "{stdout} vs {r}"
    );
    let stdout = stdout_of_fill(model);
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("  ")).count(),
        3,
        "{stdout}"
    );
    assert!(stdout.contains("best: to be or not to "), "{stdout}");

    let png = dir.path().join("attn.png");
    BERT.ok(&[
        "attend",
        "--model",
        model,
        "--text",
        "good morrow, sweet lady",
        "--layer",
        "1",
        "--head",
        "1",
        "--output",
        png.to_str().unwrap(),
    ]);
    assert!(image::open(&png).unwrap().width() > 100);
    let err = BERT.failing(&["attend", "--model", model, "--text", "x", "--layer", "2"]);
    assert!(err.contains("--layer 2") && err.contains("0..1"), "{err}");

    let hf = dir.path().join("hf");
    BERT.ok(&["export", "--model", model, "--output", hf.to_str().unwrap()]);
    let names = bert_mini::hf::safetensors_shapes(&hf.join("model.safetensors")).unwrap();
    assert_eq!(names["bert.embeddings.word_embeddings.weight"], [2000, 64]);
    assert_eq!(
        names["bert.encoder.layer.1.attention.self.query.weight"],
        [64, 64]
    );
    assert!(names.contains_key("cls.predictions.transform.LayerNorm.weight"));
    // The exported folder is itself a model folder, and predicts the same.
    assert_eq!(stdout_of_fill(hf.to_str().unwrap()), stdout);
    let stdout = BERT.ok(&["info", "--model", hf.to_str().unwrap()]);
    assert!(
        stdout.contains("BertForMaskedLM") && stdout.contains("2000 WordPiece"),
        "{stdout}"
    );

    let err = BERT.failing(&["predict", "--model", model, "--text", "hello"]);
    assert!(err.contains("fine-tuned classifier"), "{err}");
    let err = BERT.failing(&["fill-mask", "--model", model, "--text", "no mask here"]);
    assert!(err.contains("[MASK]"), "{err}");

    // Fine-tune from this folder, and from scratch with its config and tokenizer.
    let spam = |out: &Path, init: &[&str]| {
        let mut args = vec![
            "finetune",
            "--task",
            "classify",
            "--out",
            out.to_str().unwrap(),
            "--epochs",
            "2",
            "--limit-train",
            "256",
            "--limit-test",
            "200",
            "--lr",
            "5e-4",
        ];
        args.extend(TINY);
        args.extend(init);
        BERT.ok(&args)
    };
    let tuned = dir.path().join("tuned");
    let stdout = spam(&tuned, &["--pretrained", model]);
    assert!(
        stdout.contains("pretrained") && stdout.contains("classes ham, spam"),
        "{stdout}"
    );
    let r = report(&tuned);
    assert_eq!(r["test"]["samples"], 200);
    let train_loss = csv_values(&tuned, "train", "loss");
    assert!(train_loss[1].1 < train_loss[0].1, "{train_loss:?}");
    let scratch = dir.path().join("scratch");
    let stdout = spam(&scratch, &["--pretrained", model, "--from-scratch"]);
    assert!(
        stdout.contains("scratch (config and tokenizer of"),
        "{stdout}"
    );
    let tuned_model = tuned.to_str().unwrap();
    let stdout = BERT.ok(&[
        "eval",
        "--model",
        tuned_model,
        "--max-len",
        "64",
        "--limit-test",
        "200",
    ]);
    let test_accuracy = r["test"]["accuracy"].as_f64().unwrap();
    assert!(
        stdout.contains(&format!("200 texts, accuracy {test_accuracy:.2}%")),
        "{stdout} vs {r}"
    );
    let stdout = BERT.ok(&[
        "predict",
        "--model",
        tuned_model,
        "--text",
        "Click here for FREE viagra!!!",
        "--text",
        "the meeting moved to 3pm",
    ]);
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(
        stdout
            .lines()
            .all(|l| l.starts_with("ham\t") || l.starts_with("spam\t")),
        "{stdout}"
    );
    let err = BERT.failing(&["fill-mask", "--model", tuned_model, "--text", "a [MASK]"]);
    assert!(err.contains("classifier"), "{err}");
}

fn stdout_of_fill(model: &str) -> String {
    BERT.ok(&[
        "fill-mask",
        "--model",
        model,
        "--text",
        "to be or not to [MASK]",
        "--top",
        "3",
    ])
}

#[test]
fn next_sentence_prediction_adds_its_head_and_exports_as_bert_for_pretraining() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nsp");
    // On the e-mails of the spam training CSV (labels unused): pretraining on the task's domain.
    let emails =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/text/spam-train.csv.gz");
    pretrain(
        &out,
        "64",
        &["--epochs", "1", "--nsp", "--text", emails.to_str().unwrap()],
    );
    let r = report(&out);
    assert_eq!(r["objective"], "mlm+nsp");
    assert!(
        r["corpus"].as_str().unwrap().ends_with("spam-train.csv.gz"),
        "{r}"
    );
    assert!(r["train_tokens"].as_u64().unwrap() > 1_000_000, "{r}");
    let nsp = r["valid_nsp_accuracy"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&nsp), "{r}");
    let hf = dir.path().join("hf");
    BERT.ok(&[
        "export",
        "--model",
        out.to_str().unwrap(),
        "--output",
        hf.to_str().unwrap(),
    ]);
    let weights = hf.join("model.safetensors");
    assert_eq!(
        bert_mini::hf::detect(&weights).unwrap(),
        bert_mini::hf::Architecture::BertForPreTraining
    );
    assert!(
        bert_mini::hf::safetensors_shapes(&weights)
            .unwrap()
            .contains_key("bert.pooler.dense.weight")
    );
}

#[test]
fn bad_input_is_refused_with_the_file_or_flag_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nothing");
    let err = BERT.failing(&["info", "--model", missing.to_str().unwrap()]);
    assert!(err.contains("no such folder"), "{err}");

    // A folder whose config asks for what is not implemented.
    let odd = dir.path().join("odd");
    std::fs::create_dir_all(&odd).unwrap();
    std::fs::write(
        odd.join("config.json"),
        r#"{"vocab_size": 100, "hidden_act": "relu"}"#,
    )
    .unwrap();
    let err = BERT.failing(&["info", "--model", odd.to_str().unwrap()]);
    assert!(err.contains("config.json") && err.contains("relu"), "{err}");

    let text = dir.path().join("short.txt");
    std::fs::write(&text, "too short\n").unwrap();
    let err = BERT.failing(&[
        "pretrain",
        "--text",
        text.to_str().unwrap(),
        "--out",
        dir.path().join("r").to_str().unwrap(),
    ]);
    assert!(err.contains("short.txt") && err.contains("lines"), "{err}");

    let err = BERT.failing(&[
        "pretrain",
        "--device",
        "tpu",
        "--out",
        dir.path().join("r2").to_str().unwrap(),
    ]);
    assert!(err.contains("tpu"), "{err}");
    let err = BERT.failing(&["finetune", "--out", dir.path().join("r3").to_str().unwrap()]);
    assert!(
        err.contains("--pretrained") || err.contains("--from-scratch"),
        "{err}"
    );
}

#[test]
fn from_scratch_without_a_pretrained_folder_trains_its_own_tokenizer() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("scratch");
    let mut args = vec![
        "finetune",
        "--from-scratch",
        "--out",
        out.to_str().unwrap(),
        "--epochs",
        "1",
        "--limit-train",
        "64",
        "--limit-test",
        "32",
        "--vocab-size",
        "1000",
    ];
    args.extend(TINY);
    let stdout = BERT.ok(&args);
    assert!(stdout.contains("classify (scratch)"), "{stdout}");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["architectures"][0], "BertForSequenceClassification");
    assert_eq!(config["id2label"]["1"], "spam");
    assert!(config["vocab_size"].as_u64().unwrap() <= 1000);
    assert_eq!(report(&out)["test"]["samples"], 32);
}
