//! Stratified k-fold splits, for image sets and for a graph's labelled nodes alike.

use crate::error::{DataError, Result};
use crate::rng::SplitMix64;

/// Deals `items` into `folds` folds class by class: each class's items are shuffled with `seed`
/// and dealt round-robin, so every fold holds each class in its proportion. Returns (the other
/// folds, fold `fold`), each in ascending order; every item is in exactly one fold. Refuses
/// fewer than 2 folds and a class with fewer items than folds (`class_names` names it).
pub fn stratified_fold(
    items: &[u32],
    class_of: impl Fn(u32) -> usize,
    class_names: &[String],
    folds: usize,
    fold: usize,
    seed: u64,
) -> Result<(Vec<u32>, Vec<u32>)> {
    if folds < 2 || fold >= folds {
        return Err(DataError::InvalidArgument(format!(
            "fold {fold} of {folds}: k-fold needs at least 2 folds and a fold below k"
        )));
    }
    let mut by_class: Vec<Vec<u32>> = vec![Vec::new(); class_names.len()];
    for &item in items {
        by_class[class_of(item)].push(item);
    }
    if let Some((class, members)) = by_class.iter().enumerate().min_by_key(|c| c.1.len())
        && members.len() < folds
    {
        return Err(DataError::InvalidArgument(format!(
            "{folds} folds, but class {} has {} examples: every fold needs one of each class \
             (use at most {} folds, or more data)",
            class_names[class],
            members.len(),
            members.len()
        )));
    }
    let (mut others, mut chosen) = (Vec::new(), Vec::new());
    for (class, mut members) in by_class.into_iter().enumerate() {
        SplitMix64::for_item(seed, 1, class as u64).shuffle(&mut members);
        for (j, item) in members.into_iter().enumerate() {
            if j % folds == fold {
                chosen.push(item);
            } else {
                others.push(item);
            }
        }
    }
    others.sort_unstable();
    chosen.sort_unstable();
    Ok((others, chosen))
}
