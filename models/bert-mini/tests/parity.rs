//! Hugging Face parity: `scripts/parity/bert.py` saved `transformers` BERT models with random
//! weights (`save_pretrained`: config.json + model.safetensors, HF's names) and their eval-mode
//! outputs on a padded batch. The files load here unchanged, through `bert_mini::hf`, and every
//! output matches within 1e-4. Exporting writes the same names and values back.

use bert_mini::folder::{Loaded, SavedModel};
use bert_mini::hf::{self, Architecture};
use bert_mini::{BertConfig, BertInput};
use burn::prelude::*;
use safetensors::SafeTensors;
use std::path::{Path, PathBuf};

const TOLERANCE: f32 = 1e-4;

fn fixture(variant: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(variant)
}

struct Io {
    bytes: Vec<u8>,
}

impl Io {
    fn read(variant: &str) -> Self {
        Self {
            bytes: std::fs::read(fixture(variant).join("io.safetensors")).unwrap(),
        }
    }

    fn floats(&self, name: &str) -> (Vec<f32>, Vec<usize>) {
        let st = SafeTensors::deserialize(&self.bytes).unwrap();
        let t = st.tensor(name).unwrap();
        let values = t
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        (values, t.shape().to_vec())
    }

    fn ints(&self, name: &str) -> Vec<Vec<u32>> {
        let st = SafeTensors::deserialize(&self.bytes).unwrap();
        let t = st.tensor(name).unwrap();
        let values: Vec<u32> = t
            .data()
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes(b.try_into().unwrap()) as u32)
            .collect();
        values.chunks(t.shape()[1]).map(|r| r.to_vec()).collect()
    }

    /// The batch as `BertInput`, rows cut at their padding (so `from_rows` pads them again).
    fn input(&self, device: &Device) -> BertInput {
        let ids = self.ints("input_ids");
        let types = self.ints("token_type_ids");
        let mask = self.ints("attention_mask");
        let rows: Vec<(Vec<u32>, Vec<u32>)> = (0..ids.len())
            .map(|b| {
                let n = mask[b].iter().filter(|&&m| m == 1).count();
                (ids[b][..n].to_vec(), types[b][..n].to_vec())
            })
            .collect();
        let input = BertInput::from_rows(&rows, 0, device);
        assert_eq!(input.dims()[1], ids[0].len(), "row 0 is unpadded");
        input
    }
}

fn assert_close<const D: usize>(got: Tensor<D>, io: &Io, name: &str) {
    let (expected, shape) = io.floats(name);
    assert_eq!(got.dims().to_vec(), shape, "{name}: shape");
    let got: Vec<f32> = got.into_data().try_to_vec().unwrap();
    let worst = got
        .iter()
        .zip(&expected)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(
        worst < TOLERANCE,
        "{name}: max |burn - transformers| = {worst:e}"
    );
}

fn config(variant: &str) -> BertConfig {
    BertConfig::read(&fixture(variant).join("config.json")).unwrap()
}

/// Every output of a `BertForPreTraining` against the pretraining fixture's.
fn assert_matches_the_pretraining_outputs(model: &bert_mini::BertForPreTraining, device: &Device) {
    let io = Io::read("pretraining");
    let input = io.input(device);
    let [batch, seq] = input.dims();
    let all = Tensor::<1, Int>::arange(0..(batch * seq) as i64, device);
    let (logits, nsp, outputs) = model.forward(&input, all);
    assert_close(outputs.sequence_output, &io, "last_hidden_state");
    assert_close(outputs.pooled_output.unwrap(), &io, "pooler_output");
    for (i, probs) in outputs.attentions.into_iter().enumerate() {
        assert_close(probs, &io, &format!("attentions.{i}"));
    }
    let vocab = logits.dims()[1];
    assert_close(
        logits.reshape([batch, seq, vocab]),
        &io,
        "prediction_logits",
    );
    assert_close(nsp.unwrap(), &io, "seq_relationship_logits");
}

#[test]
fn bert_for_pretraining_matches_transformers() {
    let device = Device::flex();
    let path = fixture("pretraining").join("model.safetensors");
    assert_eq!(hf::detect(&path).unwrap(), Architecture::BertForPreTraining);
    let model = hf::load_pretraining(&config("pretraining"), true, &path, &device).unwrap();
    assert_matches_the_pretraining_outputs(&model, &device);
}

/// Older Hub uploads (Google's BERT miniatures among them): `pytorch_model.bin` in PyTorch's
/// legacy format with the tied decoder copies and `position_ids`, a config.json naming no
/// architecture, a vocab.txt with the special tokens after `[unused*]` slots.
#[test]
fn an_older_hub_folder_with_pytorch_model_bin_opens_as_its_class() {
    let device = Device::flex();
    let dir = fixture("pytorch_bin");
    let bin = dir.join("pytorch_model.bin");
    assert_eq!(
        &std::fs::read(&bin).unwrap()[..2],
        b"\x80\x02",
        "a legacy pickle, not a zip"
    );
    assert_eq!(hf::detect(&bin).unwrap(), Architecture::BertForPreTraining);
    let saved = SavedModel::open(&dir, &device).unwrap();
    assert_eq!(saved.architecture, Architecture::BertForPreTraining);
    let special = saved.tokenizer.special;
    assert_eq!(
        (
            special.pad,
            special.unk,
            special.cls,
            special.sep,
            special.mask
        ),
        (0, 3, 4, 5, 6)
    );
    let Loaded::Lm(model) = &saved.model else {
        panic!("a masked-LM model")
    };
    assert_matches_the_pretraining_outputs(model, &device);
}

#[test]
fn bert_for_masked_lm_matches_transformers() {
    let device = Device::flex();
    let path = fixture("masked_lm").join("model.safetensors");
    assert_eq!(hf::detect(&path).unwrap(), Architecture::BertForMaskedLM);
    let model = hf::load_pretraining(&config("masked_lm"), false, &path, &device).unwrap();
    let io = Io::read("masked_lm");
    let input = io.input(&device);
    assert_close(
        model.bert.forward(&input).sequence_output,
        &io,
        "last_hidden_state",
    );
    assert_close(model.mlm_logits(&input), &io, "logits");
}

#[test]
fn bert_for_sequence_classification_matches_transformers() {
    let device = Device::flex();
    let config = config("classification");
    assert_eq!(config.class_names().len(), 3);
    let path = fixture("classification").join("model.safetensors");
    let model = hf::load_classifier(&config, 3, &path, &device).unwrap();
    let io = Io::read("classification");
    let (logits, outputs) = model.forward(&io.input(&device));
    assert_close(outputs.pooled_output.unwrap(), &io, "pooler_output");
    assert_close(logits, &io, "logits");
}

#[test]
fn export_writes_back_the_hugging_face_file() {
    let device = Device::flex();
    let source = fixture("pretraining").join("model.safetensors");
    let model = hf::load_pretraining(&config("pretraining"), true, &source, &device).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("model.safetensors");
    hf::export(&model, &out).unwrap();
    let original = std::fs::read(&source).unwrap();
    let exported = std::fs::read(&out).unwrap();
    let (a, b) = (
        SafeTensors::deserialize(&original).unwrap(),
        SafeTensors::deserialize(&exported).unwrap(),
    );
    let mut names_a: Vec<String> = a.names().into_iter().map(String::from).collect();
    let mut names_b: Vec<String> = b.names().into_iter().map(String::from).collect();
    names_a.sort();
    names_b.sort();
    assert_eq!(names_a, names_b);
    for name in names_a {
        let (x, y) = (a.tensor(&name).unwrap(), b.tensor(&name).unwrap());
        assert_eq!(x.shape(), y.shape(), "{name}");
        assert_eq!(x.data(), y.data(), "{name}: values differ");
    }
}

#[test]
fn a_file_of_the_wrong_size_is_refused_naming_the_tensor() {
    let device = Device::flex();
    let mut config = config("masked_lm");
    config.intermediate_size = 48;
    let path = fixture("masked_lm").join("model.safetensors");
    let err = hf::load_pretraining(&config, false, &path, &device)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("intermediate.dense.weight") && err.contains("shape mismatch"),
        "{err}"
    );
    // A classifier's file has no MLM head: the missing tensors are named.
    let path = fixture("classification").join("model.safetensors");
    let err = hf::load_pretraining(&config, false, &path, &device)
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing from the file: mlm"), "{err}");
}

#[test]
fn older_checkpoints_with_tied_copies_and_position_ids_load() {
    // Checkpoints written before HF stopped saving them carry the tied decoder weight and bias
    // and the `position_ids` buffer (google-research conversions, prajjwal1/bert-*).
    let source = std::fs::read(fixture("masked_lm").join("model.safetensors")).unwrap();
    let st = SafeTensors::deserialize(&source).unwrap();
    let mut tensors: Vec<(String, safetensors::tensor::TensorView)> = st
        .names()
        .into_iter()
        .map(|n| (n.to_string(), st.tensor(n).unwrap()))
        .collect();
    let embeddings = st.tensor("bert.embeddings.word_embeddings.weight").unwrap();
    let bias = st.tensor("cls.predictions.bias").unwrap();
    tensors.push(("cls.predictions.decoder.weight".into(), embeddings));
    tensors.push(("cls.predictions.decoder.bias".into(), bias));
    let positions: Vec<u8> = (0..40i64).flat_map(|i| i.to_le_bytes()).collect();
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::I64, vec![1, 40], &positions)
            .unwrap();
    tensors.push(("bert.embeddings.position_ids".into(), view));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    safetensors::serialize_to_file(tensors, None, &path).unwrap();

    let device = Device::flex();
    let model = hf::load_pretraining(&config("masked_lm"), false, &path, &device).unwrap();
    let io = Io::read("masked_lm");
    assert_close(model.mlm_logits(&io.input(&device)), &io, "logits");
}
