//! CPU kernels for Burn's CPU backends (`flex`, `ndarray`), faster than Burn's own where the
//! zoo's models spend their time.
//!
//! **Convolutions.** Burn 0.22's CPU conv2d copies the input to channels-last serially, then
//! copies every tile into a freshly allocated im2col buffer, multiplies, and scatters the
//! result back with scalar strided stores; its backward goes through a generic transposed
//! convolution (a GEMM then a scalar scatter-add) and a batch/channel-swapped convolution. At
//! the 16–64 channels of these models most of the time is that data movement. Here the same
//! three operations are direct convolutions on channels-last data, register-blocked as in
//! oneDNN's `jit_avx512_common` convolutions: see [`direct`] for the kernels, [`conv`] for how
//! forward, transposed convolution and weight gradient are made of them, and [`isa`] for the
//! run-time choice between AVX-512, AVX2 and portable code.
//!
//! **Max pooling.** Non-overlapping windows (the 2×2 of the seed CNN and LeNet) with
//! one-byte winner offsets and a backward that writes each input once ([`pool`]).
//!
//! **Batch norm.** Training-mode batch normalisation, with the ReLU that usually follows,
//! fused into two passes forward and three backward ([`norm`]).
//!
//! **GELU and softmax.** The exact GELU and a last-dimension softmax in one vectorised pass
//! each way, with `exp` and the normal CDF written so loops vectorise ([`activation`],
//! [`vmath`]): BERT's elementwise costs.
//!
//! **Linear layers.** A fully connected layer is a 1 × 1 convolution over the rows of its
//! input, which is already channels-last: forward, input and weight gradients run on the same
//! register-blocked kernels, about twice the rate of the `gemm` crate Burn calls ([`linear`]).
//!
//! **Leaky ReLU.** One pass each way, and fused into the batch norm ([`activation`], [`norm`]).
//!
//! **LSTM steps.** A whole step for the `sequence` crate's LSTM layer: the recurrent product
//! with a weight packed once per sequence ([`linear::PackedWeight`]), then gates, cell update
//! and output in one vectorised pass, each core taking a block of batch rows; backward the same
//! way round ([`recurrent`]).
//!
//! **Dropout.** The mask from a counter-based hash of (seed, element), applied in one pass and
//! hashed again in the backward instead of stored ([`dropout`]).
//!
//! Models call [`conv2d`], [`conv_transpose2d`], [`batch_norm`], [`max_pool2d`] and [`linear`]
//! with Burn's own modules; on other devices, and for options the kernels do not cover
//! (groups, dilation, `Same` padding, other precisions), those fall back to the modules'
//! `forward`.

pub mod activation;
pub mod conv;
pub mod direct;
pub mod dropout;
pub mod host;
mod interleave;
pub mod isa;
mod layer;
pub mod linear;
pub mod norm;
pub mod op;
pub mod pool;
pub mod recurrent;
pub mod recurrent_gru;
pub mod vmath;

pub use activation::{gelu, leaky_relu, softmax};
pub use dropout::dropout;
pub use isa::Isa;
pub use layer::{conv_transpose2d, conv2d, supported};
pub use linear::{linear, linear_with};
pub use norm::{batch_norm, batch_norm_leaky_relu};
pub use pool::max_pool2d;
