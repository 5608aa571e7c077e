//! The `lstm` binary end to end on every task, and its errors (shared checks in
//! `sequence::testing::cli`).

use sequence::testing::cli;
use trainer::testing::Binary;

const BIN: Binary = Binary(env!("CARGO_BIN_EXE_lstm"));

#[test]
fn char_lm_trains_resumes_evaluates_generates_and_exports() {
    cli::char_lm(BIN);
}

#[test]
fn spam_classifier_beats_the_majority_class_and_predicts() {
    cli::classify(BIN);
}

#[test]
fn compare_halves_learns_the_order_dependent_rule() {
    cli::compare_halves(BIN);
}

#[test]
fn bad_input_names_the_file_or_flag() {
    cli::bad_input(BIN);
}
