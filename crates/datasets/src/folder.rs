//! Your own pictures as a data set, in torchvision's `ImageFolder` convention:
//!
//! ```text
//! DIR/train/<class>/**/*.{png,jpg,jpeg}   training images (validation is carved from them
//! DIR/valid/<class>/…                     unless this folder exists)
//! DIR/test/<class>/…                      test images
//! ```
//!
//! Classes are the sorted names of `DIR/train`'s sub-folders (of `DIR/test`'s when there is no
//! `train`), so class `i` means the same in every split; files may sit in nested folders below
//! their class. Each image is decoded (PNG or JPEG, by content), converted to RGB (grayscale is
//! replicated, alpha dropped, as torchvision's loader does), its shorter side resized to the
//! model's input side (bilinear, antialiased when shrinking) and centre-cropped to a square.
//! Files that cannot be used (unreadable, empty, truncated, not an image) are skipped and listed
//! in [`FolderSplit::skipped`]; a folder with no classes, or a class left with no images, is an
//! error naming it.

use crate::error::{DataError, Result};
use crate::image_set::{ImageSet, ImageShape, Normalization};
use std::path::{Path, PathBuf};

/// The file name endings read as images (case-insensitive).
pub const IMAGE_EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

/// One split of an image folder: `train`, `valid` or `test`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FolderPart {
    Train,
    Valid,
    Test,
}

impl FolderPart {
    pub fn dir_name(self) -> &'static str {
        match self {
            FolderPart::Train => "train",
            FolderPart::Valid => "valid",
            FolderPart::Test => "test",
        }
    }
}

/// A file left out of a split, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedFile {
    pub path: PathBuf,
    pub reason: String,
}

/// A loaded split and the files it had to leave out.
#[derive(Clone, Debug)]
pub struct FolderSplit {
    pub set: ImageSet,
    pub skipped: Vec<SkippedFile>,
}

/// An image folder opened at a square input side; see the module documentation.
#[derive(Clone, Debug)]
pub struct ImageFolder {
    root: PathBuf,
    side: usize,
    classes: Vec<String>,
}

impl ImageFolder {
    /// Opens `root`, whose images will be resized and cropped to `side`×`side`, and reads its
    /// class names.
    pub fn open(root: &Path, side: usize) -> Result<Self> {
        if side == 0 {
            return Err(DataError::InvalidArgument(
                "--image-size must be at least 1".into(),
            ));
        }
        if !root.is_dir() {
            return Err(DataError::NotFound {
                message: format!(
                    "--data-dir {}: no such folder; an image folder holds train/<class>/*.png|jpg \
                     and test/<class>/… (torchvision's ImageFolder layout)",
                    root.display()
                ),
            });
        }
        let listed = [FolderPart::Train, FolderPart::Test]
            .into_iter()
            .map(|part| root.join(part.dir_name()))
            .find(|dir| dir.is_dir())
            .ok_or_else(|| DataError::NotFound {
                message: format!(
                    "{} has neither train/ nor test/; an image folder holds train/<class>/*.png|jpg \
                     and test/<class>/…",
                    root.display()
                ),
            })?;
        let classes = class_dirs(&listed)?;
        if classes.is_empty() {
            return Err(DataError::format(
                &listed,
                "holds no class folders; put each class's images in a sub-folder named after it",
            ));
        }
        if classes.len() > 256 {
            return Err(DataError::format(
                &listed,
                format!("{} classes; at most 256 are supported", classes.len()),
            ));
        }
        Ok(Self {
            root: root.to_path_buf(),
            side,
            classes,
        })
    }

    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether the folder has this split.
    pub fn has(&self, part: FolderPart) -> bool {
        self.root.join(part.dir_name()).is_dir()
    }

    /// The shape of every image of this folder.
    pub fn shape(&self) -> ImageShape {
        ImageShape {
            channels: 3,
            height: self.side,
            width: self.side,
        }
    }

    /// Decodes one split. Its class folders must be among the folder's classes, and each must
    /// keep at least one image.
    pub fn load(&self, part: FolderPart) -> Result<FolderSplit> {
        let dir = self.root.join(part.dir_name());
        if !dir.is_dir() {
            return Err(DataError::NotFound {
                message: format!(
                    "{}: no such folder; the image folder {} has no {} split",
                    dir.display(),
                    self.root.display(),
                    part.dir_name()
                ),
            });
        }
        let mut pixels = Vec::new();
        let mut labels = Vec::new();
        let mut skipped = Vec::new();
        for name in class_dirs(&dir)? {
            let label = self.classes.iter().position(|c| *c == name).ok_or_else(|| {
                DataError::format(
                    dir.join(&name),
                    format!(
                        "class `{name}` is not among the training classes ({}); every split must \
                         use the same class folders",
                        self.classes.join(", ")
                    ),
                )
            })?;
            let class_dir = dir.join(&name);
            let mut files = Vec::new();
            walk(&class_dir, &mut files)?;
            let before = labels.len();
            for path in files {
                match self.read(&path) {
                    Ok(image) => {
                        pixels.extend_from_slice(&image);
                        labels.push(label as u8);
                    }
                    Err(reason) => skipped.push(SkippedFile { path, reason }),
                }
            }
            if labels.len() == before {
                return Err(DataError::format(
                    &class_dir,
                    "class folder holds no readable .png/.jpg/.jpeg image",
                ));
            }
        }
        if labels.is_empty() {
            return Err(DataError::format(&dir, "holds no class folders"));
        }
        let set = ImageSet::new(
            format!("folder:{}/{}", self.root.display(), part.dir_name()),
            self.shape(),
            Normalization::imagenet(),
            pixels,
            labels,
            self.classes.clone(),
        )?;
        Ok(FolderSplit { set, skipped })
    }

    /// One file as CHW RGB bytes of the folder's shape, or why it cannot be used.
    fn read(&self, path: &Path) -> std::result::Result<Vec<u8>, String> {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        if !extension.is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.as_str())) {
            return Err("not a .png, .jpg or .jpeg file".into());
        }
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
        if bytes.is_empty() {
            return Err("empty file (0 bytes)".into());
        }
        decode_square(&bytes, self.side, self.side)
    }
}

/// Decodes PNG or JPEG bytes (the format read from the content, not the name) to `side`×`side`
/// CHW RGB: the shorter side resized to `resize` (bilinear; antialiased when shrinking), then
/// the centre `side`×`side` crop (torchvision's `Resize(resize)` + `CenterCrop(side)`).
pub fn decode_square(
    bytes: &[u8],
    resize: usize,
    side: usize,
) -> std::result::Result<Vec<u8>, String> {
    if resize < side {
        return Err(format!(
            "cannot crop {side}×{side} out of a shorter side resized to {resize}"
        ));
    }
    let image = image::io::Reader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| format!("cannot read: {e}"))?
        .decode()
        .map_err(|e| format!("not a readable image ({e})"))?;
    let (width, height) = (image.width() as usize, image.height() as usize);
    if width == 0 || height == 0 {
        return Err("image has no pixels".into());
    }
    // Shorter side to `resize`, the longer one in proportion (truncated as torchvision does,
    // at least `resize`).
    let (short, long) = (width.min(height), width.max(height));
    let long_resized = ((resize * long) as f64 / short as f64) as usize;
    let (new_w, new_h) = if width <= height {
        (resize, long_resized.max(resize))
    } else {
        (long_resized.max(resize), resize)
    };
    let rgb = image::imageops::resize(
        &image.to_rgb8(),
        new_w as u32,
        new_h as u32,
        image::imageops::FilterType::Triangle,
    );
    // torchvision's CenterCrop rounds the offsets: int(round((size - crop) / 2)).
    let offset = |size: usize| ((size - side) as f64 / 2.0).round_ties_even() as usize;
    let (left, top) = (offset(new_w), offset(new_h));
    let plane = side * side;
    let mut chw = vec![0u8; 3 * plane];
    for y in 0..side {
        for x in 0..side {
            let pixel = rgb.get_pixel((left + x) as u32, (top + y) as u32);
            for c in 0..3 {
                chw[c * plane + y * side + x] = pixel[c];
            }
        }
    }
    Ok(chw)
}

/// Sorted names of the sub-folders of `dir`, hidden ones left out.
fn class_dirs(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| DataError::io(dir, e))? {
        let entry = entry.map_err(|e| DataError::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') && entry.path().is_dir() {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// Every file below `dir`, in sorted path order; hidden files and folders left out.
fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| DataError::io(dir, e))?
        .map(|e| e.map(|e| e.path()).map_err(|e| DataError::io(dir, e)))
        .collect::<Result<_>>()?;
    entries.sort();
    for path in entries {
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            walk(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
