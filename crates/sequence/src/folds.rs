//! k-fold cross-validation of the sequence classifiers (`train --task classify|compare-halves
//! --folds K`): the training and validation sequences together are dealt into K stratified,
//! seeded folds; the test set stays the test. The fold loop is the trainer's
//! ([`trainer::folds::run_folds`]). The vocabulary is the one built from the training split, so
//! a fold's validation texts may have lent it words (never labels).

use crate::classify::{Examples, Prepared, prepare, train_fold};
use crate::config::Task;
use crate::task::{Settings, TrainArgs};
use trainer::folds::{Fold, FoldsReport, check_folds, run_folds};

impl Examples {
    /// The examples at `indices`, in that order.
    fn pick(&self, indices: &[u32]) -> Examples {
        match self {
            Examples::Tokens { sequences, labels } => Examples::Tokens {
                sequences: indices
                    .iter()
                    .map(|&i| sequences[i as usize].clone())
                    .collect(),
                labels: indices.iter().map(|&i| labels[i as usize]).collect(),
            },
            Examples::Features {
                values,
                steps,
                features,
                labels,
            } => {
                let row = steps * features;
                Examples::Features {
                    values: indices
                        .iter()
                        .flat_map(|&i| &values[i as usize * row..(i as usize + 1) * row])
                        .copied()
                        .collect(),
                    steps: *steps,
                    features: *features,
                    labels: indices.iter().map(|&i| labels[i as usize]).collect(),
                }
            }
        }
    }

    /// These examples followed by `other`'s (of the same kind).
    fn joined(&self, other: &Examples) -> Examples {
        let mut joined = self.clone();
        match (&mut joined, other) {
            (
                Examples::Tokens { sequences, labels },
                Examples::Tokens {
                    sequences: more,
                    labels: more_labels,
                },
            ) => {
                sequences.extend(more.iter().cloned());
                labels.extend(more_labels);
            }
            (
                Examples::Features { values, labels, .. },
                Examples::Features {
                    values: more,
                    labels: more_labels,
                    ..
                },
            ) => {
                values.extend(more);
                labels.extend(more_labels);
            }
            _ => unreachable!("one task's examples are all of one kind"),
        }
        joined
    }
}

impl Prepared {
    /// Replaces the training and validation sequences by fold `fold` of a stratified k-fold
    /// split of them together: that fold validates, the others train.
    pub fn use_fold(&mut self, fold: Fold, seed: u64) -> anyhow::Result<()> {
        let pool = self.train.joined(&self.valid);
        let labels = pool.labels();
        let items: Vec<u32> = (0..pool.len() as u32).collect();
        let (train, valid) = datasets::folds::stratified_fold(
            &items,
            |i| labels[i as usize],
            &self.class_names,
            fold.folds,
            fold.fold,
            seed,
        )?;
        self.train = pool.pick(&train);
        self.valid = pool.pick(&valid);
        Ok(())
    }
}

/// `train --folds K` of a classifier with cell `C`.
pub fn train_folds<C: crate::cell::Cell>(args: TrainArgs) -> anyhow::Result<FoldsReport> {
    let k = check_folds(args.run.folds)?;
    if args.task == Task::CharLm {
        return Err(trainer::UsageError(
            "--folds: the character language model has no classes to cross-validate; use \
             --task classify or compare-halves"
                .into(),
        )
        .into());
    }
    let out = args.run.out_dir(C::NAME);
    if !args.run.resume {
        trainer::driver::claim(&out, false)?;
        // Every fold needs an example of each class: refuse before any training.
        let settings = Settings::new(&args);
        let mut prepared = prepare(args.task, &args.data, &settings, None)?;
        prepared.train.truncate(settings.limit_train);
        prepared.valid.truncate(settings.limit_valid);
        prepared
            .use_fold(Fold { folds: k, fold: 0 }, settings.seed)
            .map_err(|e| trainer::UsageError(format!("--folds {k}: {e}")))?;
    }
    run_folds(C::NAME, &out, k, args.run.resume, |fold, dir, resume| {
        let mut fold_args = args.clone();
        fold_args.run.folds = None;
        fold_args.run.out = Some(dir.to_path_buf());
        fold_args.run.resume = resume;
        train_fold::<C>(fold_args, Some(fold)).map(|r| r.report)
    })
}
