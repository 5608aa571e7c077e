//! What burn-zoo's generative models share: the dense and convolutional encoder/decoder blocks
//! and the Bernoulli likelihood of pixels; with the `cli` feature also images as `[0, 1]` pixel
//! tensors, PNG grids a person can look at, a linear probe of learned codes, and the
//! one-optimizer training path of `autoencoder` and `vae` (run folder, checkpoints, `--resume`,
//! metrics, curves and pictures through the trainer's run driver). The GAN's two-optimizer
//! training lives in `gan` on the same driver.

#[cfg(feature = "cli")]
pub mod autoencoding;
pub mod blocks;
#[cfg(feature = "cli")]
pub mod grid;
pub mod likelihood;
#[cfg(feature = "cli")]
pub mod pixels;
#[cfg(feature = "cli")]
pub mod probe;
#[cfg(feature = "testing")]
pub mod testing;

#[cfg(feature = "cli")]
pub use autoencoding::{Autoencoding, SavedArgs, TrainArgs};
pub use blocks::{Decoder, DecoderConfig, Encoder, EncoderConfig};
#[cfg(feature = "cli")]
pub use grid::save_grid;
#[cfg(feature = "cli")]
pub use pixels::{ImageDataArgs, epoch_batches, pixel_batch};
pub use zoo_core::ImageShape;
