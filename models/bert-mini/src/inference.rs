//! Using a model folder: ours (`model.bpk`) or Hugging Face's (`model.safetensors` or
//! `pytorch_model.bin`), or a registry entry (`pretrained:NAME`), each with
//! `config.json` and `tokenizer.json` or `vocab.txt`. Classification, fill-mask, attention
//! heatmaps, export back to HF's layout, and a summary.

use crate::args::{DataArgs, ModelArgs};
use crate::folder::{Loaded, SavedModel};
use crate::hf::{self};
use crate::model::BertInput;
use burn::prelude::*;
use burn::tensor::activation::softmax;
use std::path::{Path, PathBuf};
use trainer::device::select_device;

fn open(args: &ModelArgs) -> anyhow::Result<(SavedModel, Device)> {
    let (_, device) = select_device(args.device.device.as_deref())?;
    Ok((SavedModel::open(&args.model, &device)?, device))
}

/// Test metrics of a classifier, or held-out masked-LM scores of a language model.
pub fn eval(
    args: &ModelArgs,
    data: &DataArgs,
    max_len: usize,
    batch_size: usize,
    limit_test: Option<usize>,
    outputs: &trainer::cli::EvalOutputArgs,
) -> anyhow::Result<()> {
    let (saved, device) = open(args)?;
    anyhow::ensure!(
        (8..=saved.config.max_position_embeddings).contains(&max_len),
        "--max-len {max_len} must be between 8 and the model's {}",
        saved.config.max_position_embeddings
    );
    match &saved.model {
        Loaded::Classifier(model) => {
            let (train, mut test) = data.text_sets()?;
            anyhow::ensure!(
                train.class_names == saved.config.class_names(),
                "{}: classes {:?}, but the model was fine-tuned on {:?}",
                train.path.display(),
                train.class_names,
                saved.config.class_names()
            );
            if let Some(n) = limit_test {
                test.items.truncate(n);
            }
            let examples = crate::finetune::Examples::new(&test, &saved.tokenizer, max_len)?;
            let evaluation = crate::finetune::evaluate(
                model,
                &examples,
                &train.class_names,
                saved.tokenizer.special.pad,
                batch_size,
                &device,
            )?;
            let dir = outputs.or_in(&args.model);
            evaluation.write(&dir)?;
            let m = &evaluation.metrics;
            println!(
                "{}: {} texts, accuracy {:.2}%, macro F1 {:.2} (F1 per class: {}), loss {:.4}{}",
                test.path.display(),
                m.samples,
                m.accuracy,
                m.f1_macro,
                m.f1_per_class_note(),
                m.loss,
                evaluation.areas_note()
            );
            println!(
                "wrote {} (confusion matrix, ROC and PR curves)",
                dir.display()
            );
        }
        Loaded::Lm(model) => {
            let corpus = crate::pretrain::Corpus::load(data)?;
            let (ids, windows) = crate::pretrain::held_out(
                &corpus,
                &saved.tokenizer,
                max_len,
                model.nsp.is_some(),
                limit_test,
            )?;
            let scores =
                crate::pretrain::evaluate(model, &windows, &saved.tokenizer, batch_size, &device)?;
            println!(
                "{}: held-out {} tokens in {} windows, masked-LM accuracy {:.2}%, loss {:.4}{}",
                corpus.path.display(),
                ids.len(),
                windows.len(),
                scores.accuracy,
                scores.loss,
                scores
                    .nsp_accuracy
                    .map(|a| format!(", NSP accuracy {a:.2}%"))
                    .unwrap_or_default()
            );
        }
    }
    Ok(())
}

/// Class probabilities of each text, printed one line per text.
pub fn predict(args: &ModelArgs, texts: &[String]) -> anyhow::Result<()> {
    let (saved, device) = open(args)?;
    let Loaded::Classifier(model) = &saved.model else {
        anyhow::bail!(
            "--model {} is a {} (a language model); `predict` needs a fine-tuned classifier: \
             run `bert-mini finetune --pretrained {}` first, or use `fill-mask`",
            args.model.display(),
            saved.architecture.name(),
            args.model.display()
        );
    };
    let names = saved.config.class_names();
    for text in texts {
        let (input, _) = saved.input(text, &device)?;
        let probs: Vec<f32> = softmax(model.forward(&input).0, 1)
            .into_data()
            .try_to_vec()?;
        let (best, p) = probs
            .iter()
            .enumerate()
            .fold((0, f32::MIN), |b, (i, &p)| if p > b.1 { (i, p) } else { b });
        let label = names.get(best).cloned().unwrap_or_else(|| best.to_string());
        let short: String = text.chars().take(60).collect();
        println!("{label}\t{p:.4}\t{short}");
    }
    Ok(())
}

/// One [MASK]'s top predictions: (token, probability).
pub type Fill = Vec<(String, f32)>;

/// The `top` most likely tokens at each [MASK] of `text`, printed and returned.
pub fn fill_mask(args: &ModelArgs, text: &str, top: usize) -> anyhow::Result<Vec<Fill>> {
    let (saved, device) = open(args)?;
    let Loaded::Lm(model) = &saved.model else {
        anyhow::bail!(
            "--model {} is a fine-tuned classifier without its masked-LM head; use the pretrained folder",
            args.model.display()
        );
    };
    let tokenizer = &saved.tokenizer;
    // Split on the literal "[MASK]" so it works for any vocabulary, whether or not the
    // tokenizer knows it as an added token.
    let mut body = Vec::new();
    for (i, part) in text.split("[MASK]").enumerate() {
        if i > 0 {
            body.push(tokenizer.special.mask);
        }
        body.extend(tokenizer.ids(part)?);
    }
    let (ids, types) = tokenizer.wrap(&body, &[]);
    anyhow::ensure!(
        ids.contains(&tokenizer.special.mask),
        "--text has no [MASK]: write the word to predict as [MASK], e.g. \"to be or not to [MASK]\""
    );
    anyhow::ensure!(
        ids.len() <= saved.config.max_position_embeddings,
        "--text is {} tokens, longer than the model's {}",
        ids.len(),
        saved.config.max_position_embeddings
    );
    let input = BertInput::from_rows(&[(ids.clone(), types)], tokenizer.special.pad, &device);
    let logits = model.mlm_logits(&input); // [1, seq, vocab]
    let [_, seq, vocab] = logits.dims();
    let probs: Vec<f32> = softmax(logits.reshape([seq, vocab]), 1)
        .into_data()
        .try_to_vec()?;
    let mut fills = Vec::new();
    for (t, _) in ids
        .iter()
        .enumerate()
        .filter(|(_, id)| **id == tokenizer.special.mask)
    {
        let row = &probs[t * vocab..(t + 1) * vocab];
        let mut ranked: Vec<(usize, f32)> = row.iter().copied().enumerate().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        let fill: Fill = ranked
            .into_iter()
            .filter(|(id, _)| !tokenizer.special.contains(*id as u32))
            .take(top.max(1))
            .map(|(id, p)| (tokenizer.token(id as u32), p))
            .collect();
        fills.push(fill);
    }
    for (k, fill) in fills.iter().enumerate() {
        println!("[MASK] {}:", k + 1);
        for (token, p) in fill {
            println!("  {token:<16} {p:.4}");
        }
    }
    if let Some(best) = fills.iter().map(|f| f.first()).collect::<Option<Vec<_>>>() {
        let mut filled = text.to_string();
        for (token, _) in best {
            filled = filled.replacen("[MASK]", token, 1);
        }
        println!("best: {filled}");
    }
    Ok(fills)
}

/// Writes the attention of `layer`/`head` over `text` as a PNG heatmap; returns its path.
pub fn attend(
    args: &ModelArgs,
    text: &str,
    layer: usize,
    head: usize,
    output: Option<PathBuf>,
) -> anyhow::Result<PathBuf> {
    let (saved, device) = open(args)?;
    let layers = saved.config.num_hidden_layers;
    let heads = saved.config.num_attention_heads;
    anyhow::ensure!(
        layer < layers,
        "--layer {layer}: the model has layers 0..{}",
        layers - 1
    );
    anyhow::ensure!(
        head < heads,
        "--head {head}: the model has heads 0..{}",
        heads - 1
    );
    let (input, ids) = saved.input(text, &device)?;
    let seq = ids.len();
    let outputs = saved.model.bert().forward(&input);
    let probs: Vec<f32> = outputs.attentions[layer]
        .clone()
        .slice([0..1, head..head + 1, 0..seq, 0..seq])
        .into_data()
        .try_to_vec()?;
    let tokens: Vec<String> = ids.iter().map(|&id| saved.tokenizer.token(id)).collect();
    let path = output.unwrap_or_else(|| saved.dir.join(format!("attention-L{layer}-H{head}.png")));
    trainer::plots::Heatmap {
        values: &probs,
        row_labels: &tokens,
        col_labels: &tokens,
        cell_text: None,
        axes: None,
        title: &format!("layer {layer}, head {head}: rows attend to columns"),
    }
    .draw(&path)?;
    println!("wrote {} ({seq} tokens)", path.display());
    Ok(path)
}

/// Writes `model.safetensors` (HF names), `config.json`, `tokenizer.json` and `vocab.txt`.
pub fn export(args: &ModelArgs, output: &Path) -> anyhow::Result<()> {
    let (saved, _) = open(args)?;
    std::fs::create_dir_all(output)
        .map_err(|e| anyhow::anyhow!("cannot create --output {}: {e}", output.display()))?;
    let weights = output.join("model.safetensors");
    match &saved.model {
        Loaded::Lm(m) => hf::export(m, &weights)?,
        Loaded::Classifier(m) => hf::export(m, &weights)?,
    }
    saved.config.write(&output.join("config.json"))?;
    saved.tokenizer.save(output)?;
    println!(
        "wrote {} ({}, Hugging Face names): open it with transformers' {}.from_pretrained(\"{}\")",
        weights.display(),
        saved.architecture.name(),
        saved.architecture.name(),
        output.display()
    );
    Ok(())
}

pub fn info(args: &ModelArgs) -> anyhow::Result<()> {
    let (saved, _) = open(args)?;
    let c = &saved.config;
    let bert = saved.model.bert();
    println!("{}: {}", saved.dir.display(), saved.architecture.name());
    println!(
        "  {} layers, hidden {}, {} heads, intermediate {}, {} positions, {} segment types",
        c.num_hidden_layers,
        c.hidden_size,
        c.num_attention_heads,
        c.intermediate_size,
        c.max_position_embeddings,
        c.type_vocab_size
    );
    println!(
        "  parameters: {} in all; embeddings {}, encoder {}",
        match &saved.model {
            Loaded::Lm(m) => m.num_params(),
            Loaded::Classifier(m) => m.num_params(),
        },
        bert.embeddings.num_params(),
        bert.encoder.num_params()
    );
    println!(
        "  vocabulary: {} WordPiece tokens ([PAD] {}, [UNK] {}, [CLS] {}, [SEP] {}, [MASK] {})",
        saved.tokenizer.vocab_size(),
        saved.tokenizer.special.pad,
        saved.tokenizer.special.unk,
        saved.tokenizer.special.cls,
        saved.tokenizer.special.sep,
        saved.tokenizer.special.mask
    );
    if !c.id2label.is_empty() {
        println!("  classes: {}", c.class_names().join(", "));
    }
    Ok(())
}
