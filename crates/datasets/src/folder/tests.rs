use super::*;
use image::{GrayImage, Luma, Rgb, RgbImage, Rgba, RgbaImage};

/// Writes `image` at `root/rel`, creating folders; the format follows the extension.
fn save(root: &Path, rel: &str, image: impl FnOnce(&Path)) -> PathBuf {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    image(&path);
    path
}

fn solid_rgb(root: &Path, rel: &str, w: u32, h: u32, colour: [u8; 3]) -> PathBuf {
    save(root, rel, |p| {
        RgbImage::from_pixel(w, h, Rgb(colour)).save(p).unwrap()
    })
}

fn solid_rgba(root: &Path, rel: &str, colour: [u8; 4]) -> PathBuf {
    save(root, rel, |p| {
        RgbaImage::from_pixel(12, 12, Rgba(colour)).save(p).unwrap()
    })
}

fn solid_gray(root: &Path, rel: &str, value: u8) -> PathBuf {
    save(root, rel, |p| {
        GrayImage::from_pixel(10, 14, Luma([value]))
            .save(p)
            .unwrap()
    })
}

/// Mixed formats and colour types, one class nested two folders deep.
fn mixed_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    solid_rgb(root, "train/cat/a.png", 40, 20, [200, 10, 10]);
    solid_gray(root, "train/cat/more/b.jpg", 100);
    solid_rgba(root, "train/dog/c.png", [0, 0, 255, 0]);
    solid_gray(root, "train/dog/deep/er/d.png", 60);
    solid_rgb(root, "test/cat/x.jpeg", 9, 9, [10, 200, 10]);
    solid_rgb(root, "test/dog/Y.JPG", 30, 31, [10, 10, 200]);
    dir
}

fn channel_means(set: &ImageSet, i: usize) -> [f64; 3] {
    let image = set.image(i);
    let plane = image.len() / 3;
    std::array::from_fn(|c| {
        image[c * plane..(c + 1) * plane]
            .iter()
            .map(|&v| v as f64)
            .sum::<f64>()
            / plane as f64
    })
}

#[test]
fn reads_nested_classes_in_mixed_formats_as_rgb_squares() {
    let dir = mixed_folder();
    let folder = ImageFolder::open(dir.path(), 8).unwrap();
    assert_eq!(folder.classes(), ["cat", "dog"]);
    let train = folder.load(FolderPart::Train).unwrap();
    assert!(train.skipped.is_empty(), "{:?}", train.skipped);
    let set = &train.set;
    assert_eq!(set.len(), 4);
    assert_eq!(
        set.shape(),
        ImageShape {
            channels: 3,
            height: 8,
            width: 8
        }
    );
    assert_eq!(
        (0..4).map(|i| set.label(i)).collect::<Vec<_>>(),
        [0, 0, 1, 1]
    );
    // Solid colours survive the resize; grayscale is replicated (JPEG may shift it by a few
    // levels); alpha is dropped.
    assert_eq!(channel_means(set, 0), [200.0, 10.0, 10.0]);
    let gray = channel_means(set, 1);
    assert!(gray.iter().all(|&v| (v - 100.0).abs() < 3.0), "{gray:?}");
    assert_eq!(channel_means(set, 2), [0.0, 0.0, 255.0]);
    assert_eq!(channel_means(set, 3), [60.0, 60.0, 60.0]);
    let test = folder.load(FolderPart::Test).unwrap();
    assert_eq!(test.set.len(), 2);
    assert_eq!(test.set.label(1), 1, "upper-case .JPG is an image too");
    assert_eq!(test.set.classes(), set.classes());
    assert!(!folder.has(FolderPart::Valid));
}

#[test]
fn resizes_the_shorter_side_and_crops_the_centre() {
    // 16×8: left half black, right half white. Shorter side 8 → 4, so 8×4, centre crop 4×4
    // keeps resized columns 2..6: two dark, two light.
    let image = RgbImage::from_fn(
        16,
        8,
        |x, _| {
            if x < 8 { Rgb([0, 0, 0]) } else { Rgb([255; 3]) }
        },
    );
    let mut png = Vec::new();
    image
        .write_to(
            &mut std::io::Cursor::new(&mut png),
            image::ImageOutputFormat::Png,
        )
        .unwrap();
    let chw = decode_square(&png, 4, 4).unwrap();
    assert_eq!(chw.len(), 3 * 16);
    for row in 0..4 {
        let line = &chw[row * 4..row * 4 + 4];
        assert!(line[0] < 30 && line[3] > 225, "row {row}: {line:?}");
    }
}

#[test]
fn skips_bad_files_and_names_each() {
    let dir = mixed_folder();
    let root = dir.path();
    let good = std::fs::read(root.join("train/cat/a.png")).unwrap();
    std::fs::write(root.join("train/cat/empty.png"), b"").unwrap();
    std::fs::write(root.join("train/cat/cut.png"), &good[..good.len() / 2]).unwrap();
    std::fs::write(root.join("train/dog/fake.jpg"), b"this is not a jpeg").unwrap();
    std::fs::write(root.join("train/dog/notes.txt"), b"taken at the park").unwrap();
    std::fs::write(root.join("train/dog/.DS_Store"), b"hidden: ignored").unwrap();
    let train = ImageFolder::open(root, 8)
        .unwrap()
        .load(FolderPart::Train)
        .unwrap();
    assert_eq!(train.set.len(), 4, "the good images still load");
    let reasons: Vec<(String, String)> = train
        .skipped
        .iter()
        .map(|s| {
            (
                s.path.file_name().unwrap().to_string_lossy().into_owned(),
                s.reason.clone(),
            )
        })
        .collect();
    let find = |name: &str| {
        reasons
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{name} not reported: {reasons:?}"))
            .1
            .clone()
    };
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    assert!(find("empty.png").contains("empty file"));
    assert!(find("cut.png").contains("not a readable image"));
    assert!(find("fake.jpg").contains("not a readable image"));
    assert!(find("notes.txt").contains("not a .png"));
}

#[test]
fn folders_without_classes_or_images_are_errors_that_name_them() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let missing = ImageFolder::open(&root.join("nope"), 8).unwrap_err();
    assert!(missing.to_string().contains("--data-dir"), "{missing}");
    let bare = ImageFolder::open(root, 8).unwrap_err();
    assert!(
        bare.to_string().contains("neither train/ nor test/"),
        "{bare}"
    );
    std::fs::create_dir_all(root.join("train")).unwrap();
    let no_classes = ImageFolder::open(root, 8).unwrap_err();
    assert!(
        no_classes.to_string().contains("no class folders"),
        "{no_classes}"
    );

    solid_rgb(root, "train/cat/a.png", 8, 8, [1, 2, 3]);
    std::fs::create_dir_all(root.join("train/dog")).unwrap();
    std::fs::write(root.join("train/dog/broken.png"), b"").unwrap();
    let folder = ImageFolder::open(root, 8).unwrap();
    let empty_class = folder.load(FolderPart::Train).unwrap_err().to_string();
    assert!(
        empty_class.contains("train/dog") && empty_class.contains("no readable"),
        "{empty_class}"
    );

    solid_rgb(root, "train/dog/ok.png", 8, 8, [1, 2, 3]);
    solid_rgb(root, "test/bird/b.png", 8, 8, [1, 2, 3]);
    let stranger = folder.load(FolderPart::Test).unwrap_err().to_string();
    assert!(
        stranger.contains("bird") && stranger.contains("not among the training classes"),
        "{stranger}"
    );
    let no_valid = folder.load(FolderPart::Valid).unwrap_err().to_string();
    assert!(no_valid.contains("no valid split"), "{no_valid}");
}

#[test]
fn same_folder_same_seed_same_items() {
    let dir = mixed_folder();
    let load = || {
        ImageFolder::open(dir.path(), 8)
            .unwrap()
            .load(FolderPart::Train)
            .unwrap()
            .set
    };
    let (a, b) = (load(), load());
    for i in 0..a.len() {
        assert_eq!((a.image(i), a.label(i)), (b.image(i), b.label(i)));
    }
    let (a_train, a_valid) = a.split_validation(0.5, 7).unwrap();
    let (b_train, b_valid) = b.split_validation(0.5, 7).unwrap();
    assert_eq!(a_train.class_counts(), b_train.class_counts());
    assert_eq!(a_valid.label(0), b_valid.label(0));
    #[cfg(feature = "burn")]
    {
        use burn::data::dataset::Dataset;
        let augment = crate::Augmentation::CropFlip { padding: 2 };
        let a = crate::AugmentedSet::new(a_train, augment, 3);
        let b = crate::AugmentedSet::new(b_train, augment, 3);
        for i in 0..a.len() {
            assert_eq!(a.get(i).unwrap(), b.get(i).unwrap());
        }
    }
}
