//! Properties of the encoder that hold for any weights: padding changes nothing for the real
//! tokens, padded keys get exactly zero attention, attention rows are distributions, and
//! dropout is active only on the autodiff device.

use bert_mini::{BertConfig, BertForPreTraining, BertInput, BertModel};
use burn::prelude::*;

fn tiny() -> BertConfig {
    let mut config = BertConfig::mini(50);
    config.hidden_size = 16;
    config.num_attention_heads = 2;
    config.num_hidden_layers = 2;
    config.intermediate_size = 32;
    config.max_position_embeddings = 16;
    config
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec().unwrap()
}

#[test]
fn padding_does_not_change_the_real_tokens() {
    let device = Device::flex();
    let model = BertModel::new(&tiny(), true, &device);
    let row = (vec![2, 10, 11, 12, 3], vec![0, 0, 0, 1, 1]);
    let alone = model.forward(&BertInput::from_rows(
        std::slice::from_ref(&row),
        0,
        &device,
    ));
    // The same row beside a longer one: padded with 4 [PAD]s.
    let longer = (vec![2, 20, 21, 22, 23, 24, 25, 26, 3], vec![0; 9]);
    let padded = model.forward(&BertInput::from_rows(&[row, longer], 0, &device));
    let a = values(alone.sequence_output);
    let b = values(padded.sequence_output.slice([0..1, 0..5, 0..16]));
    let worst = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max);
    assert!(worst < 1e-5, "padding moved the hidden states by {worst}");
    for (layer, probs) in padded.attentions.iter().enumerate() {
        let p = values(probs.clone().slice([0..1, 0..2, 0..9, 0..9])); // row 0: [heads, 9, 9]
        for (q, query) in p.chunks(9).enumerate() {
            let sum: f32 = query.iter().sum();
            assert!(
                (sum - 1.0).abs() < 1e-5,
                "layer {layer} query {q}: sums to {sum}"
            );
            assert!(
                query[5..].iter().all(|&w| w == 0.0),
                "layer {layer}: padding attended"
            );
        }
    }
}

#[test]
fn dropout_acts_only_while_training() {
    let config = tiny();
    let device = Device::flex();
    let autodiff = device.clone().autodiff();
    let model = BertForPreTraining::new(&config, false, &autodiff);
    let row = [(vec![2, 10, 11, 12, 13, 14, 3], vec![0; 7])];
    let train_input = BertInput::from_rows(&row, 0, &autodiff);
    let twice = [
        values(model.mlm_logits(&train_input)),
        values(model.mlm_logits(&train_input)),
    ];
    assert_ne!(
        twice[0], twice[1],
        "dropout draws differ between training passes"
    );
    let eval = model.valid();
    let input = BertInput::from_rows(&row, 0, &device);
    assert_eq!(
        values(eval.mlm_logits(&input)),
        values(eval.mlm_logits(&input))
    );
}

#[test]
fn the_mlm_decoder_is_tied_to_the_word_embeddings() {
    let device = Device::flex();
    let config = tiny();
    let model = BertForPreTraining::new(&config, false, &device);
    // One parameter matrix serves input and output: the model has no [vocab, hidden] decoder.
    let h = config.hidden_size;
    let expected_head = h * h + h + 2 * h + config.vocab_size; // transform, LayerNorm, bias
    assert_eq!(model.num_params() - model.bert.num_params(), expected_head);
}
