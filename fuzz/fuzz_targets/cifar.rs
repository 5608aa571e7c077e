//! CIFAR-10 batch and meta parsing of arbitrary bytes: never panics, and an accepted batch
//! splits into whole records with labels below 10.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.bin");
    if let Ok((labels, pixels)) = datasets::cifar::parse_batch(data, path, 10) {
        assert_eq!(pixels.len(), labels.len() * (datasets::cifar::RECORD_BYTES - 1));
        assert!(labels.iter().all(|&l| l < 10));
    }
    let _ = datasets::cifar::parse_meta(&String::from_utf8_lossy(data), path);
});
