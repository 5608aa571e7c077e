//! The registry's Hugging Face entry (`pretrained:bert-mini-uncased`) end to end, against a
//! local Hub (`trainer::testing::hub`) that serves the legacy-format fixture
//! (tests/fixtures/pytorch_bin, written by scripts/parity/bert.py) as the entry's repository at
//! its pinned revision: offline refuses before any request, the first use downloads and checks
//! every file, fine-tuning starts from it, later commands are served from the cache, and a
//! file whose bytes do not match the Hub's hash is not kept.

use std::path::{Path, PathBuf};
use std::process::Output;
use trainer::testing::hub::Hub;
use trainer::testing::{Binary, report};

const BERT: Binary = Binary(env!("CARGO_BIN_EXE_bert-mini"));
const NAME: &str = "pretrained:bert-mini-uncased";

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pytorch_bin")
}

/// A Hub serving the fixture as the registry entry's repository and revision.
fn hub(wrong_hash: &[&str]) -> Hub {
    let entry = trainer::pretrained::entry("bert-mini-uncased").unwrap();
    let folder = entry.hub.expect("a Hub entry");
    Hub::serve(&fixture(), &folder.repo, &folder.revision, wrong_hash)
}

fn run(args: &[&str], hub: &Hub, cache: &Path, offline: bool) -> Output {
    BERT.run_with_env(
        args,
        &[
            ("ZOO_OFFLINE", if offline { "1" } else { "0" }),
            ("HF_ENDPOINT", hub.endpoint.as_str()),
            ("ZOO_CACHE_DIR", cache.to_str().unwrap()),
        ],
    )
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn finetune_args(out: &Path) -> Vec<&str> {
    vec![
        "finetune",
        "--pretrained",
        NAME,
        "--out",
        out.to_str().unwrap(),
        "--epochs",
        "1",
        "--limit-train",
        "64",
        "--limit-test",
        "32",
        "--max-len",
        "32",
        "--batch-size",
        "16",
        "--log-every",
        "0",
    ]
}

#[test]
fn finetune_starts_from_the_registry_entry_downloaded_once() {
    let hub = hub(&[]);
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let out = dir.path().join("ft");

    let refused = run(&finetune_args(&out), &hub, &cache, true);
    let stderr = text(&refused.stderr);
    assert!(!refused.status.success() && !stderr.contains("panicked"));
    assert!(
        stderr.contains("ZOO_OFFLINE=1")
            && stderr.contains(&format!(
                "{}/google/bert_uncased_L-4_H-256_A-4/resolve/",
                hub.endpoint
            ))
            && stderr.contains("pytorch_model.bin"),
        "{stderr}"
    );
    assert_eq!(hub.requests(), 0, "offline asks nothing");

    let tuned = run(&finetune_args(&out), &hub, &cache, false);
    let stdout = text(&tuned.stdout);
    assert!(tuned.status.success(), "{stdout}\n{}", text(&tuned.stderr));
    let folder = cache.join("bert-mini-uncased");
    for file in ["config.json", "vocab.txt", "pytorch_model.bin"] {
        assert_eq!(
            std::fs::read(folder.join(file)).unwrap(),
            std::fs::read(fixture().join(file)).unwrap(),
            "{file}"
        );
    }
    assert!(
        stdout.contains(&format!("pretrained {}", folder.display())),
        "{stdout}"
    );
    assert_eq!(report(&out)["test"]["samples"], 32);
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["vocab_size"], 99, "the Hub model's own vocabulary");
    assert_eq!(config["architectures"][0], "BertForSequenceClassification");

    let requests = hub.requests();
    let filled = run(
        &[
            "fill-mask",
            "--model",
            NAME,
            "--text",
            "click [MASK] to win",
        ],
        &hub,
        &cache,
        true,
    );
    assert!(filled.status.success(), "{}", text(&filled.stderr));
    assert_eq!(hub.requests(), requests, "served from the cache");
}

#[test]
fn a_file_that_does_not_match_the_hubs_hash_is_not_kept() {
    let hub = hub(&["pytorch_model.bin"]);
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let failed = run(&finetune_args(&dir.path().join("ft")), &hub, &cache, false);
    let stderr = text(&failed.stderr);
    assert!(!failed.status.success() && !stderr.contains("panicked"));
    assert!(
        stderr.contains("pretrained:bert-mini-uncased")
            && stderr.contains("Hub's hash")
            && stderr.contains("pytorch_model.bin"),
        "{stderr}"
    );
    let kept: Vec<String> = std::fs::read_dir(cache.join("bert-mini-uncased"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !kept.iter().any(|f| f.contains("pytorch_model.bin")),
        "{kept:?}"
    );
}
