//! What burn-zoo's generative models share: images as `[0, 1]` pixel tensors, PNG grids a person
//! can look at, the Bernoulli likelihood of pixels, the dense and convolutional encoder/decoder
//! blocks, a linear probe of learned codes, and the one-optimizer training path of `autoencoder`
//! and `vae` (run folder, checkpoints, `--resume`, metrics, curves and pictures through the
//! trainer's run driver). The GAN's two-optimizer training lives in `gan` on the same driver.

pub mod autoencoding;
pub mod blocks;
pub mod grid;
pub mod likelihood;
pub mod pixels;
pub mod probe;
#[cfg(feature = "testing")]
pub mod testing;

pub use autoencoding::{Autoencoding, SavedArgs, TrainArgs};
pub use blocks::{Decoder, DecoderConfig, Encoder, EncoderConfig};
pub use grid::save_grid;
pub use pixels::{ImageDataArgs, epoch_batches, pixel_batch};
