//! Parsers against generated fixtures: round trips, and every kind of bad input gives a typed
//! error that names the file.

use datasets::{Cifar10, DataError, DataSource, Mnist, MnistVariant, Split};
use flate2::Compression;
use flate2::write::GzEncoder;
use std::io::Write;
use std::path::{Path, PathBuf};

fn idx(ndim_magic: u8, dims: &[u32], payload: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0, 0, 0x08, ndim_magic];
    for d in dims {
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    bytes.extend_from_slice(payload);
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Three 2x3 images with labels 7, 0, 9.
fn mnist_fixture(dir: &Path, gz: bool) -> (PathBuf, PathBuf) {
    let pixels: Vec<u8> = (0..18).collect();
    let images = idx(3, &[3, 2, 3], &pixels);
    let labels = idx(1, &[3], &[7, 0, 9]);
    let (images, labels) = if gz {
        (gzip(&images), gzip(&labels))
    } else {
        (images, labels)
    };
    (write(dir, "images", &images), write(dir, "labels", &labels))
}

fn load(images: &Path, labels: &Path) -> Result<datasets::ImageSet, DataError> {
    Mnist::load_files(images, labels, MnistVariant::Mnist, Split::Train, None)
}

#[test]
fn idx_round_trip_raw_and_gzip() {
    for gz in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let (images, labels) = mnist_fixture(dir.path(), gz);
        let set = load(&images, &labels).unwrap();
        assert_eq!(set.len(), 3);
        assert_eq!((set.shape().height, set.shape().width), (2, 3));
        let item = set.item(1).unwrap();
        assert_eq!(item.pixels, (6..12).collect::<Vec<u8>>());
        assert_eq!(item.label, 0);
        assert_eq!(set.label(2), 9);
    }
}

fn expect_err(result: Result<datasets::ImageSet, DataError>, path: &Path, needle: &str) {
    let err = result.expect_err("bad input must be rejected");
    let message = err.to_string();
    assert!(
        message.contains(&path.display().to_string()),
        "error does not name {}: {message}",
        path.display()
    );
    assert!(
        message.contains(needle),
        "expected '{needle}' in: {message}"
    );
}

#[test]
fn idx_bad_inputs_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (images, labels) = mnist_fixture(d, false);
    let good_images = std::fs::read(&images).unwrap();
    let good_labels = std::fs::read(&labels).unwrap();

    // Truncated payload.
    let cut = write(d, "cut", &good_images[..good_images.len() - 5]);
    expect_err(load(&cut, &labels), &cut, "truncated");
    // Truncated header.
    let short = write(d, "short", &good_images[..6]);
    expect_err(load(&short, &labels), &short, "truncated");
    // Wrong magic: a label file given as images.
    expect_err(load(&labels, &labels), &labels, "magic");
    let mut wrong_type = good_images.clone();
    wrong_type[2] = 0x0D; // float
    let wrong_type = write(d, "float", &wrong_type);
    expect_err(load(&wrong_type, &labels), &wrong_type, "magic");
    // Trailing bytes (wrong record size).
    let mut long = good_images.clone();
    long.push(0);
    let long = write(d, "long", &long);
    expect_err(load(&long, &labels), &long, "trailing");
    // Label out of range.
    let bad_label = write(d, "badlabel", &idx(1, &[3], &[7, 10, 9]));
    expect_err(load(&images, &bad_label), &bad_label, "label 10");
    // Count mismatch.
    let two = write(d, "two", &idx(1, &[2], &[1, 2]));
    expect_err(load(&images, &two), &two, "2 labels");
    // Corrupt gzip: valid header, garbage body; and a gzip cut short.
    let gz = gzip(&good_labels);
    let mut garbage = gz[..10].to_vec();
    garbage.extend_from_slice(&[0xff; 40]);
    let garbage = write(d, "garbage.gz", &garbage);
    expect_err(load(&images, &garbage), &garbage, "gzip");
    let gz_images = gzip(&good_images);
    let cut_gz = write(d, "cut.gz", &gz_images[..gz_images.len() / 2]);
    expect_err(load(&cut_gz, &labels), &cut_gz, "gzip");
    // Checksum mismatch.
    let err = Mnist::load_files(
        &images,
        &labels,
        MnistVariant::Mnist,
        Split::Train,
        Some(("00", "00")),
    );
    expect_err(err, &images, "sha256");
    // Missing file.
    let missing = d.join("missing");
    expect_err(load(&missing, &labels), &missing, "cannot read");
}

fn cifar_record(label: u8, fill: u8) -> Vec<u8> {
    let mut r = vec![fill; datasets::cifar::RECORD_BYTES];
    r[0] = label;
    r
}

fn cifar_batch(offset: u8) -> Vec<u8> {
    (0..datasets::cifar::RECORDS_PER_BATCH)
        .flat_map(|i| cifar_record((i % 10) as u8, offset.wrapping_add(i as u8)))
        .collect()
}

const META: &str = "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n";

fn cifar_folder(dir: &Path) -> PathBuf {
    let root = dir.join("cifar-10-batches-bin");
    std::fs::create_dir_all(&root).unwrap();
    for k in 1..=5 {
        std::fs::write(root.join(format!("data_batch_{k}.bin")), cifar_batch(k)).unwrap();
    }
    std::fs::write(root.join("test_batch.bin"), cifar_batch(0)).unwrap();
    std::fs::write(root.join("batches.meta.txt"), META).unwrap();
    root
}

fn tar_gz_of(folder: &Path, out: &Path) {
    let file = std::fs::File::create(out).unwrap();
    let mut builder = tar::Builder::new(GzEncoder::new(file, Compression::fast()));
    builder
        .append_dir_all("cifar-10-batches-bin", folder)
        .unwrap();
    builder.into_inner().unwrap().finish().unwrap();
}

#[test]
fn cifar_folder_and_archive_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let folder = cifar_folder(dir.path());
    let archive = dir.path().join("cifar-10-binary.tar.gz");
    tar_gz_of(&folder, &archive);
    for path in [&folder, &archive] {
        let test = Cifar10::load_path(path, Split::Test).unwrap();
        assert_eq!(test.len(), 10_000);
        assert_eq!(test.classes()[9], "truck");
        assert_eq!(test.class_counts(), vec![1000; 10]);
        let item = test.item(3).unwrap();
        assert_eq!(item.label, 3);
        assert!(item.pixels.iter().all(|&p| p == 3));
        let train = Cifar10::load_path(path, Split::Train).unwrap();
        assert_eq!(train.len(), 50_000);
        // Record 0 of batch 2 is filled with the value 2.
        assert!(train.image(10_000).iter().all(|&p| p == 2));
    }
    // Through a DataSource with the archive in <root>/cifar-10/.
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("cifar-10")).unwrap();
    std::fs::copy(
        &archive,
        root.path().join("cifar-10/cifar-10-binary.tar.gz"),
    )
    .unwrap();
    let set = Cifar10::load(&DataSource::only(root.path()), Split::Test).unwrap();
    assert_eq!(set.len(), 10_000);
}

#[test]
fn cifar_bad_inputs_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let folder = cifar_folder(dir.path());
    let batch = folder.join("test_batch.bin");

    // Truncated batch.
    let bytes = std::fs::read(&batch).unwrap();
    std::fs::write(&batch, &bytes[..bytes.len() - 100]).unwrap();
    expect_err(
        Cifar10::load_path(&folder, Split::Test),
        &batch,
        "truncated",
    );
    // Label out of range.
    let mut bad = cifar_batch(0);
    bad[datasets::cifar::RECORD_BYTES * 5] = 11;
    std::fs::write(&batch, &bad).unwrap();
    expect_err(Cifar10::load_path(&folder, Split::Test), &batch, "label 11");
    // Record size wrong (parse_batch on its own).
    let err = datasets::cifar::parse_batch(&[0u8; 3000], &batch, 10).unwrap_err();
    assert!(err.to_string().contains("3073-byte records"), "{err}");
    // Missing meta file.
    std::fs::write(&batch, cifar_batch(0)).unwrap();
    std::fs::remove_file(folder.join("batches.meta.txt")).unwrap();
    expect_err(
        Cifar10::load_path(&folder, Split::Test),
        &folder,
        "batches.meta.txt",
    );
    // Corrupt archive.
    let archive = write(
        dir.path(),
        "cifar-10-binary.tar.gz",
        &gzip(b"not a tar")[..15],
    );
    expect_err(Cifar10::load_path(&archive, Split::Test), &archive, "gzip");
}

#[test]
fn missing_data_says_where_it_looked_and_how_to_fix_it() {
    let dir = tempfile::tempdir().unwrap();
    let err = Mnist::load(
        &DataSource::only(dir.path()),
        MnistVariant::FashionMnist,
        Split::Train,
    )
    .unwrap_err();
    let message = err.to_string();
    for needle in [
        "fashion-mnist/train-images-idx3-ubyte.gz",
        &dir.path().join("fashion-mnist").display().to_string(),
        "http",
        "ZOO_DATA_DIR",
    ] {
        assert!(
            message.contains(needle),
            "'{needle}' missing from: {message}"
        );
    }
}

#[test]
fn checksum_verification_rejects_wrong_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "f", b"hello");
    use datasets::source::{Checksum, verify};
    verify(
        &path,
        Checksum::Sha256("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"),
    )
    .unwrap();
    verify(&path, Checksum::Md5("5d41402abc4b2a76b9719d911017c592")).unwrap();
    let err = verify(&path, Checksum::Md5("00000000000000000000000000000000")).unwrap_err();
    assert!(matches!(err, DataError::Checksum { .. }));
    assert!(err.to_string().contains(&path.display().to_string()));
}
