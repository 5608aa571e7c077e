//! How long loading takes: MNIST train from the committed `.gz` files (decompress, checksum,
//! parse) and CIFAR-10 from `cifar-10-binary.tar.gz` (when `ZOO_DATA_DIR` holds it).
//!
//!     ZOO_DATA_DIR=../shared/data cargo bench -p datasets --bench load

use datasets::{Cifar10, DataSource, Mnist, MnistVariant, Split};
use std::time::Instant;

fn time<T>(label: &str, repeats: usize, mut f: impl FnMut() -> T) {
    let mut seconds: Vec<f64> = (0..repeats)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(f());
            start.elapsed().as_secs_f64()
        })
        .collect();
    seconds.sort_by(f64::total_cmp);
    println!(
        "{label:<40} median {:.3} s  (min {:.3}, max {:.3}, {repeats} runs)",
        seconds[repeats / 2],
        seconds[0],
        seconds[repeats - 1]
    );
}

fn main() {
    let source = DataSource::new(None).with_download(false);
    time("MNIST train (60,000, .gz, sha256)", 5, || {
        Mnist::load(&source, MnistVariant::Mnist, Split::Train).expect("MNIST is committed")
    });
    time("MNIST test (10,000, .gz, sha256)", 5, || {
        Mnist::load(&source, MnistVariant::Mnist, Split::Test).expect("MNIST is committed")
    });
    match Cifar10::load(&source, Split::Test) {
        Ok(_) => {
            time("CIFAR-10 train (50,000, tar.gz)", 3, || {
                Cifar10::load(&source, Split::Train).unwrap()
            });
            time("CIFAR-10 test (10,000, tar.gz)", 3, || {
                Cifar10::load(&source, Split::Test).unwrap()
            });
        }
        Err(e) => println!("CIFAR-10 skipped: {e}"),
    }
}
