//! End-to-end checks of a cell's binary, shared by `lstm` and `gru` (`tests/cli.rs`).

use std::path::Path;
use trainer::testing::{Binary, csv_values, report};

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temp path")
}

/// A 40,000-character slice of Shakespeare (from the committed corpus) as a text file.
fn shakespeare_slice(dir: &Path) -> std::path::PathBuf {
    let corpus = datasets::Corpus::shakespeare(&datasets::DataSource::default(), 0.0)
        .expect("Shakespeare is committed under datasets/text/");
    let text = corpus.vocab.decode(&corpus.train[..40_000]);
    let file = dir.join("slice.txt");
    std::fs::write(&file, text).unwrap();
    file
}

/// Char-LM: learns beyond the unigram level, resumes without a gap, and its weights
/// serve eval (same loss), generate (seeded, prompt kept) and export (PyTorch names).
pub fn char_lm(bin: Binary) {
    let dir = tempfile::tempdir().unwrap();
    let text = shakespeare_slice(dir.path());
    let out = dir.path().join("lm");
    let common = [
        "--text",
        path(&text),
        "--layers",
        "1",
        "--hidden",
        "64",
        "--embedding",
        "16",
        "--batch-size",
        "16",
        "--seq-len",
        "32",
        "--epoch-steps",
        "15",
        "--lr",
        "0.01",
    ];
    let mut args = vec!["train", "--out", path(&out), "--epochs", "2"];
    args.extend(common);
    bin.ok(&args);
    let mut args = vec!["train", "--out", path(&out), "--epochs", "3", "--resume"];
    args.extend(common);
    let stdout = bin.ok(&args);
    assert!(stdout.contains("resuming"), "{stdout}");
    let valid = csv_values(&out, "valid", "loss");
    assert_eq!(
        valid.iter().map(|v| v.0).collect::<Vec<_>>(),
        [1, 2, 3],
        "history continues without a gap"
    );
    // Uniform over the ~60 characters of the slice is ln 60 = 4.1 nats; character
    // frequencies alone give about 3.3.
    let r = report(&out);
    let nats = r["nats_per_char"].as_f64().unwrap();
    assert!(nats < 3.0, "validation loss {nats} nats/char");

    let weights = out.join("model.bpk");
    let stdout = bin.ok(&["eval", "--weights", path(&weights)]);
    assert!(stdout.contains(&format!("loss {nats:.4}")), "{stdout}\n{r}");

    let generate = |seed: &str| {
        bin.ok(&[
            "generate",
            "--weights",
            path(&weights),
            "--prompt",
            "ROMEO:",
            "--length",
            "80",
            "--seed",
            seed,
        ])
    };
    let sample = generate("3");
    assert!(sample.starts_with("ROMEO:"), "{sample}");
    assert_eq!(
        sample.trim_end_matches('\n').chars().count(),
        86,
        "{sample:?}"
    );
    assert_eq!(sample, generate("3"), "seeded sampling repeats");
    let err = bin.failing(&[
        "generate",
        "--weights",
        path(&weights),
        "--prompt",
        "ROMEO\u{263a}",
    ]);
    assert!(
        err.contains("--prompt") && err.contains("not in the model's vocabulary"),
        "{err}"
    );

    let exported = dir.path().join("torch.safetensors");
    bin.ok(&[
        "export",
        "--weights",
        path(&weights),
        "--output",
        path(&exported),
    ]);
    let bytes = std::fs::read(&exported).unwrap();
    let names = safetensors::SafeTensors::deserialize(&bytes)
        .unwrap()
        .names()
        .len();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    for name in [
        "embedding.weight",
        "rnn.weight_ih_l0",
        "rnn.bias_hh_l0",
        "fc.weight",
    ] {
        assert!(
            file.tensor(name).is_ok(),
            "{name} missing from the export ({names} tensors)"
        );
    }
    let config = out.join("config.json");
    let stdout = bin.ok(&[
        "eval",
        "--weights",
        path(&exported),
        "--config",
        path(&config),
    ]);
    assert!(stdout.contains(&format!("loss {nats:.4}")), "{stdout}");
}

/// Spam classification on short prefixes beats the majority class (68.6% ham) after one
/// epoch, and predict labels texts.
pub fn classify(bin: Binary) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("spam");
    bin.ok(&[
        "train",
        "--task",
        "classify",
        "--dataset",
        "spam",
        "--out",
        path(&out),
        "--epochs",
        "1",
        "--max-len",
        "40",
        "--vocab-size",
        "2000",
        "--hidden",
        "32",
        "--embedding",
        "16",
        "--batch-size",
        "64",
    ]);
    let r = report(&out);
    let accuracy = r["test"]["accuracy"].as_f64().unwrap();
    assert!(accuracy > 80.0, "test accuracy {accuracy}%\n{r}");
    assert_eq!(r["test"]["per_class"][1]["class"], "spam");
    // Spam is the positive class: one ROC curve, its area in the report and in roc.csv.
    let auc = r["test"]["roc_auc"].as_f64().unwrap();
    assert!(auc > 0.9, "spam ROC AUC {auc}");
    let roc = std::fs::read_to_string(out.join("roc.csv")).unwrap();
    assert!(roc.lines().skip(1).all(|l| l.starts_with("spam,")), "{roc}");
    let confusion = std::fs::read_to_string(out.join("confusion.csv")).unwrap();
    assert_eq!(confusion.lines().next(), Some("true\\predicted,ham,spam"));
    let eval_dir = dir.path().join("spam-eval");
    let stdout = bin.ok(&[
        "eval",
        "--weights",
        path(&out.join("model.bpk")),
        "--out",
        path(&eval_dir),
    ]);
    assert!(
        stdout.contains(&format!("ROC AUC {auc:.4} (class spam)")),
        "{stdout}"
    );
    assert!(eval_dir.join("roc.png").is_file());
    let stdout = bin.ok(&[
        "predict",
        "--weights",
        path(&out.join("model.bpk")),
        "--text",
        "Meeting moved to 3pm, see agenda attached",
        "--text",
        "FREE money!!! Click here to claim your prize <html>",
    ]);
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(
        stdout
            .lines()
            .all(|l| l.starts_with("ham\t") || l.starts_with("spam\t")),
        "{stdout}"
    );
    let err = bin.failing(&["generate", "--weights", path(&out.join("model.bpk"))]);
    assert!(err.contains("char-lm"), "{err}");

    // Columns chosen by flag: id, label, title, body.
    let csv = dir.path().join("four.csv");
    std::fs::write(
        &csv,
        "id,label,title,body\n1,a,\"x y\",z\n2,b,w,\"v, u\"\n3,a,x,y\n4,b,w,v\n",
    )
    .unwrap();
    let stdout = bin.ok(&[
        "train",
        "--task",
        "classify",
        "--csv",
        path(&csv),
        "--test-csv",
        path(&csv),
        "--label-column",
        "2",
        "--text-column",
        "3",
        "--text-column",
        "4",
        "--epochs",
        "1",
        "--hidden",
        "4",
        "--out",
        path(&dir.path().join("four")),
    ]);
    assert!(stdout.contains("classes a, b"), "{stdout}");
}

/// The compare-halves task, bidirectional with two layers: learned well past chance in a few epochs.
pub fn compare_halves(bin: Binary) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("toy");
    bin.ok(&[
        "train",
        "--task",
        "compare-halves",
        "--out",
        path(&out),
        "--epochs",
        "3",
        "--layers",
        "2",
        "--bidirectional",
        "--dropout",
        "0.1",
    ]);
    let accuracy = report(&out)["test"]["accuracy"].as_f64().unwrap();
    assert!(accuracy > 85.0, "compare-halves test accuracy {accuracy}%");

    // k-fold cross-validation over the (limited) training and validation sequences together.
    let folds = dir.path().join("folds");
    let stdout = bin.ok(&[
        "train",
        "--task",
        "compare-halves",
        "--folds",
        "3",
        "--epochs",
        "3",
        "--limit-train",
        "1500",
        "--limit-valid",
        "300",
        "--limit-test",
        "500",
        "--out",
        path(&folds),
    ]);
    assert!(stdout.contains("3-fold cross-validation"), "{stdout}");
    let fold = report(&folds.join("fold-2"));
    assert_eq!(
        fold["train_samples"].as_u64().unwrap() + fold["valid_samples"].as_u64().unwrap(),
        1800
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folds.join("folds.json")).unwrap()).unwrap();
    assert_eq!(summary["folds"].as_array().unwrap().len(), 3);
    let err = bin.failing(&[
        "train",
        "--folds",
        "3",
        "--out",
        path(&dir.path().join("lm")),
    ]);
    assert!(err.contains("--folds") && err.contains("char"), "{err}");
}

/// Bad input fails with a message naming the file or flag.
pub fn bad_input(bin: Binary) {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let out = dir.path().join("run");
    let empty = write("empty.txt", "");
    let err = bin.failing(&["train", "--text", path(&empty), "--out", path(&out)]);
    assert!(err.contains("empty.txt") && err.contains("empty"), "{err}");

    let short = write("short.txt", "To be, or not to be.");
    let err = bin.failing(&["train", "--text", path(&short), "--out", path(&out)]);
    assert!(
        err.contains("short.txt") && err.contains("--seq-len"),
        "{err}"
    );

    let train = write("train.csv", "label,text\nham,hello\nspam,buy now\n");
    let ragged = write("ragged.csv", "label,text\nham,hello\nspam\n");
    let err = bin.failing(&[
        "train",
        "--task",
        "classify",
        "--csv",
        path(&ragged),
        "--test-csv",
        path(&train),
        "--out",
        path(&out),
    ]);
    assert!(err.contains("ragged.csv") && err.contains("row 3"), "{err}");
    let unknown = write("test.csv", "label,text\nham,hi\neggs,spam spam\n");
    let err = bin.failing(&[
        "train",
        "--task",
        "classify",
        "--csv",
        path(&train),
        "--test-csv",
        path(&unknown),
        "--out",
        path(&out),
    ]);
    assert!(
        err.contains("test.csv") && err.contains("\"eggs\""),
        "{err}"
    );

    let err = bin.failing(&[
        "train",
        "--task",
        "compare-halves",
        "--device",
        "tpu",
        "--out",
        path(&out),
    ]);
    assert!(err.contains("tpu"), "{err}");
    let junk = write("model.bpk", "not weights");
    let err = bin.failing(&["eval", "--weights", path(&junk)]);
    assert!(err.contains("config.json"), "{err}");
    let err = bin.failing(&[
        "train",
        "--task",
        "compare-halves",
        "--resume",
        "--out",
        path(&dir.path().join("none")),
    ]);
    assert!(err.contains("config.json"), "{err}");
}
