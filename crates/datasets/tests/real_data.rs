//! Against the real data. MNIST is committed under `datasets/`; CIFAR-10 comes from
//! `ZOO_DATA_DIR` and is skipped with a notice when that is unset, unless `ZOO_REQUIRE_DATA=1`.

use datasets::{Cifar10, DataSource, Mnist, MnistVariant, Split};

fn require_data() -> bool {
    std::env::var("ZOO_REQUIRE_DATA").is_ok_and(|v| v == "1")
}

/// The source to use for sets that are not committed, or `None` (skip) with a notice.
fn external_source(what: &str) -> Option<DataSource> {
    if std::env::var_os("ZOO_DATA_DIR").is_some() {
        return Some(DataSource::new(None).with_download(false));
    }
    assert!(
        !require_data(),
        "ZOO_REQUIRE_DATA=1 but ZOO_DATA_DIR is unset: {what} cannot be tested"
    );
    eprintln!("notice: skipping the {what} test: set ZOO_DATA_DIR to a folder holding it");
    None
}

#[test]
fn mnist_has_canonical_sizes_and_class_counts() {
    let source = DataSource::new(None).with_download(false);
    let train = Mnist::load(&source, MnistVariant::Mnist, Split::Train).unwrap();
    let test = Mnist::load(&source, MnistVariant::Mnist, Split::Test).unwrap();
    assert_eq!((train.len(), test.len()), (60_000, 10_000));
    assert_eq!(
        train.class_counts(),
        vec![5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    );
    assert_eq!(
        test.class_counts(),
        vec![980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    );
    // The first training image is a 5; its pixels span the full byte range.
    let first = train.item(0).unwrap();
    assert_eq!(first.label, 5);
    assert_eq!(first.pixels.iter().max(), Some(&255));

    let (tr, va) = train.split_validation(5_000.0 / 60_000.0, 0).unwrap();
    assert_eq!((tr.len(), va.len()), (55_000, 5_000));
}

#[test]
fn cifar10_has_50k_10k_and_balanced_batches() {
    let Some(source) = external_source("CIFAR-10") else {
        return;
    };
    let train = Cifar10::load(&source, Split::Train).unwrap();
    let test = Cifar10::load(&source, Split::Test).unwrap();
    assert_eq!((train.len(), test.len()), (50_000, 10_000));
    assert_eq!(train.classes()[0], "airplane");
    assert_eq!(train.classes()[9], "truck");
    // Each batch of 10,000 holds 1,000 images of every class.
    for batch in 0..5 {
        let mut counts = [0usize; 10];
        for i in batch * 10_000..(batch + 1) * 10_000 {
            counts[train.label(i) as usize] += 1;
        }
        assert_eq!(counts, [1000; 10], "batch {}", batch + 1);
    }
    assert_eq!(test.class_counts(), vec![1000; 10]);
}
