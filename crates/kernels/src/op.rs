//! The convolutions as a Burn backend extension: the CPU backends run [`crate::conv`] on host
//! buffers, and the autodiff decorator adds a hand-written backward made of the same kernels
//! (input gradient = transposed convolution, weight gradient = [`conv::weight_grad`]), the
//! pattern of `sequence::fused`.

#![allow(deprecated)] // `NdArray`: deprecated in Burn 0.22 but still one of its CPU backends.

use std::sync::Arc;

use burn::backend::autodiff::{
    Autodiff,
    checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
    grads::Gradients,
    ops::{Backward, Ops, OpsKind},
};
use burn::backend::{
    Backend, ExtensionType, TensorMetadata, backend_extension, tensor::FloatTensor,
};
use burn::tensor::ops::ConvTransposeOptions;

use crate::conv::{self, ChannelsLast, Transposed, Weights, Window};
use crate::direct::{MIN_OUTPUT_CHANNELS, input_padding};
use crate::host::{device_tensor, read};
use crate::isa;

/// A convolution's options (groups = 1, dilation 1 in the backward).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvSpec {
    pub stride: [usize; 2],
    /// `[[top, bottom], [left, right]]`.
    pub padding: [[usize; 2]; 2],
    pub dilation: [usize; 2],
}

impl ConvSpec {
    /// Output rows and columns for `input` rows and columns and `kernel`, or `None` when the
    /// kernel does not fit.
    pub fn out_size(&self, input: [usize; 2], kernel: [usize; 2]) -> Option<[usize; 2]> {
        let mut out = [0; 2];
        for d in 0..2 {
            let span = self.dilation[d] * (kernel[d].checked_sub(1)?) + 1;
            let padded = input[d] + self.padding[d][0] + self.padding[d][1];
            out[d] = padded.checked_sub(span)? / self.stride[d] + 1;
        }
        Some(out)
    }
}

/// A transposed convolution's options (groups = 1, dilation 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransposeSpec {
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub padding_out: [usize; 2],
}

impl TransposeSpec {
    /// `(in - 1) s - 2 p + k + output padding` per dimension, or `None` when negative.
    pub fn out_size(&self, input: [usize; 2], kernel: [usize; 2]) -> Option<[usize; 2]> {
        let mut out = [0; 2];
        for d in 0..2 {
            let full =
                (input[d].checked_sub(1)?) * self.stride[d] + kernel[d] + self.padding_out[d];
            out[d] = full.checked_sub(2 * self.padding[d]).filter(|n| *n > 0)?;
        }
        Some(out)
    }
}

/// The tensors of one convolution: `x` NCHW, `weight` (`[c_out, c_in, kh, kw]`, or
/// `[c_in, c_out, kh, kw]` when transposed), `bias` `[c_out]` or `[0]` for none.
#[derive(ExtensionType)]
pub struct ConvInputs<B: Backend> {
    pub x: FloatTensor<B>,
    pub weight: FloatTensor<B>,
    pub bias: FloatTensor<B>,
}

/// The convolutions as a Burn backend extension.
#[backend_extension(Autodiff, Flex: cfg(feature = "flex"), NdArray: cfg(feature = "ndarray"))]
pub trait FastConvBackend: Backend {
    fn fast_conv2d(#[extension_type] inputs: ConvInputs<Self>, spec: ConvSpec)
    -> FloatTensor<Self>;
    fn fast_conv_transpose2d(
        #[extension_type] inputs: ConvInputs<Self>,
        spec: TransposeSpec,
    ) -> FloatTensor<Self>;
}

fn dims4(shape: &[usize]) -> [usize; 4] {
    shape.try_into().expect("a 4-D tensor")
}

// ---------------------------------------------------------------------------------------------
// Forward passes, shared by the plain backends and the autodiff decorator.

/// What a convolution's (`S = ConvSpec`) or transposed convolution's (`TransposeSpec`)
/// backward needs from its forward: the channels-last input the forward padded (a
/// convolution's padding is part of its windows; a transposed convolution's input plays the
/// output gradient's part in the weight gradient, read from inside its padding) and the weight.
#[derive(Clone, Debug)]
struct Tape<S> {
    x: Arc<ChannelsLast>,
    x_dims: [usize; 4],
    weight: Arc<Vec<f32>>,
    w_dims: [usize; 4],
    spec: S,
    out: [usize; 2],
}

fn conv2d_forward<B: Backend>(
    inputs: ConvInputs<B>,
    spec: ConvSpec,
) -> (FloatTensor<B>, Tape<ConvSpec>) {
    let isa = isa::active();
    let device = inputs.x.device();
    let (weight, w_shape) = read::<B, _>(inputs.weight, |w, shape| (w.to_vec(), shape.to_vec()));
    let bias = read::<B, _>(inputs.bias, |b, _| b.to_vec());
    let w_dims = dims4(&w_shape);
    let (x, x_dims) = read::<B, _>(inputs.x, |x, shape| {
        let dims = dims4(shape);
        (
            ChannelsLast::from_nchw(x, dims, input_padding(spec.padding, spec.stride[1])),
            dims,
        )
    });
    let out = spec
        .out_size([x_dims[2], x_dims[3]], [w_dims[2], w_dims[3]])
        .expect("kernel fits the padded input (checked by `supports`)");
    let y = conv::forward(
        isa,
        &x,
        Weights {
            data: &weight,
            dims: w_dims,
        },
        (!bias.is_empty()).then_some(&bias[..]),
        spec.stride,
        spec.dilation,
        out,
    );
    let y = device_tensor::<B>(y, &[x_dims[0], w_dims[0], out[0], out[1]], &device);
    let tape = Tape {
        x: Arc::new(x),
        x_dims,
        weight: Arc::new(weight),
        w_dims,
        spec,
        out,
    };
    (y, tape)
}

fn transpose_forward<B: Backend>(
    inputs: ConvInputs<B>,
    spec: TransposeSpec,
) -> (FloatTensor<B>, Tape<TransposeSpec>) {
    let isa = isa::active();
    let device = inputs.x.device();
    let (weight, w_shape) = read::<B, _>(inputs.weight, |w, shape| (w.to_vec(), shape.to_vec()));
    let bias = read::<B, _>(inputs.bias, |b, _| b.to_vec());
    let w_dims = dims4(&w_shape);
    let kernel = [w_dims[2], w_dims[3]];
    let (x_dims, geometry, padded) = read::<B, _>(inputs.x, |x, shape| {
        let x_dims = dims4(shape);
        let out = spec
            .out_size([x_dims[2], x_dims[3]], kernel)
            .expect("a positive output size (checked by `supports`)");
        let geometry = Transposed {
            input: x_dims,
            out,
            stride: spec.stride,
            pad: spec.padding,
        };
        (x_dims, geometry, geometry.pad_input(x, kernel))
    });
    let y = conv::transposed(
        isa,
        &geometry,
        &padded,
        Weights {
            data: &weight,
            dims: w_dims,
        },
        (!bias.is_empty()).then_some(&bias[..]),
    );
    let out = geometry.out;
    let y = device_tensor::<B>(y, &[x_dims[0], w_dims[1], out[0], out[1]], &device);
    let tape = Tape {
        x: Arc::new(padded),
        x_dims,
        weight: Arc::new(weight),
        w_dims,
        spec,
        out,
    };
    (y, tape)
}

macro_rules! cpu_backend {
    ($backend:ty) => {
        impl FastConvBackend for $backend {
            fn fast_conv2d(inputs: ConvInputs<Self>, spec: ConvSpec) -> FloatTensor<Self> {
                conv2d_forward::<Self>(inputs, spec).0
            }

            fn fast_conv_transpose2d(
                inputs: ConvInputs<Self>,
                spec: TransposeSpec,
            ) -> FloatTensor<Self> {
                transpose_forward::<Self>(inputs, spec).0
            }
        }
    };
}

#[cfg(feature = "flex")]
cpu_backend!(burn::backend::Flex);
#[cfg(feature = "ndarray")]
cpu_backend!(burn::backend::NdArray);

impl<B: Backend, C: CheckpointStrategy> FastConvBackend for Autodiff<B, C> {
    fn fast_conv2d(inputs: ConvInputs<Self>, spec: ConvSpec) -> FloatTensor<Self> {
        recorded::<B, C, _>(ConvBackward, inputs, |inputs| {
            conv2d_forward::<B>(inputs, spec)
        })
    }

    fn fast_conv_transpose2d(inputs: ConvInputs<Self>, spec: TransposeSpec) -> FloatTensor<Self> {
        recorded::<B, C, _>(TransposeBackward, inputs, |inputs| {
            transpose_forward::<B>(inputs, spec)
        })
    }
}

/// Runs `forward` on the inner backend's tensors and records `op` with the forward's tape
/// when any input is tracked.
fn recorded<B: Backend, C: CheckpointStrategy, Op: Backward<B, 3>>(
    op: Op,
    inputs: ConvInputs<Autodiff<B, C>>,
    forward: impl FnOnce(ConvInputs<B>) -> (FloatTensor<B>, Op::State),
) -> FloatTensor<Autodiff<B, C>> {
    let nodes = [inputs.x.node(), inputs.weight.node(), inputs.bias.node()];
    let prep = op.prepare::<C>(nodes).compute_bound().stateful();
    let inputs = ConvInputs::<B> {
        x: inputs.x.into_primitive(),
        weight: inputs.weight.into_primitive(),
        bias: inputs.bias.into_primitive(),
    };
    let (y, tape) = forward(inputs);
    match prep {
        OpsKind::Tracked(prep) => prep.finish(tape, y),
        OpsKind::UnTracked(prep) => prep.finish(y),
    }
}

// ---------------------------------------------------------------------------------------------
// Backward passes.

#[derive(Debug)]
struct ConvBackward;

impl<B: Backend> Backward<B, 3> for ConvBackward {
    type State = Tape<ConvSpec>;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_w, node_b] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        let device = dy.device();
        let isa = isa::active();
        let tape = ops.state;
        let [batch, c_in, height, width] = tape.x_dims;
        let [c_out, _, kh, kw] = tape.w_dims;
        let dy_dims = [batch, c_out, tape.out[0], tape.out[1]];
        // The input gradient is the transposed convolution of dy with the same weight.
        let geometry = Transposed {
            input: dy_dims,
            out: [height, width],
            stride: tape.spec.stride,
            pad: [tape.spec.padding[0][0], tape.spec.padding[1][0]],
        };
        let need_db = node_b.is_some();
        let dy_tensor = dy.clone();
        let (dy_padded, db) = read::<B, _>(dy, |dy, _| {
            let db = need_db.then(|| conv::channel_sums(dy, dy_dims));
            (geometry.pad_input(dy, [kh, kw]), db)
        });
        if let Some(node) = node_x {
            let dx = if let Some(options) = small_input(&tape) {
                // Few input channels (an image): Burn's transposed convolution wastes less.
                let weight = device_tensor::<B>(tape.weight.to_vec(), &tape.w_dims, &device);
                B::conv_transpose2d(dy_tensor, weight, None, options)
            } else {
                let dx = conv::transposed(
                    isa,
                    &geometry,
                    &dy_padded,
                    Weights {
                        data: &tape.weight,
                        dims: tape.w_dims,
                    },
                    None,
                );
                device_tensor::<B>(dx, &tape.x_dims, &device)
            };
            grads.register::<B>(node.id, dx);
        }
        if let Some(node) = node_w {
            let origin = geometry.leading([kh, kw]);
            let dw = conv::weight_grad(
                isa,
                &tape.x,
                &dy_padded,
                origin,
                tape.out,
                Window {
                    kernel: [kh, kw],
                    stride: tape.spec.stride,
                    dilation: tape.spec.dilation,
                },
            );
            debug_assert_eq!(c_in, tape.w_dims[1]);
            grads.register::<B>(node.id, device_tensor::<B>(dw, &tape.w_dims, &device));
        }
        if let (Some(node), Some(db)) = (node_b, db) {
            grads.register::<B>(node.id, device_tensor::<B>(db, &[c_out], &device));
        }
    }
}

/// The options of Burn's transposed convolution that gives the input gradient, when the input
/// has fewer than [`MIN_OUTPUT_CHANNELS`] channels (the kernels would waste most of each
/// 16-channel block) and the padding is symmetric.
fn small_input(tape: &Tape<ConvSpec>) -> Option<ConvTransposeOptions<2>> {
    let spec = tape.spec;
    if tape.x_dims[1] >= MIN_OUTPUT_CHANNELS || spec.padding.iter().any(|[a, b]| a != b) {
        return None;
    }
    let padding = [spec.padding[0][0], spec.padding[1][0]];
    // The rows the convolution never read (the stride's remainder) come back as output
    // padding, which must stay below the stride.
    let mut padding_out = [0; 2];
    for d in 0..2 {
        let reach = (tape.out[d] - 1) * spec.stride[d] + tape.w_dims[2 + d];
        padding_out[d] = (tape.x_dims[2 + d] + 2 * padding[d]).checked_sub(reach)?;
        if padding_out[d] >= spec.stride[d] {
            return None;
        }
    }
    Some(ConvTransposeOptions::new(
        spec.stride,
        padding,
        padding_out,
        [1, 1],
        1,
    ))
}

#[derive(Debug)]
struct TransposeBackward;

impl<B: Backend> Backward<B, 3> for TransposeBackward {
    type State = Tape<TransposeSpec>;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_w, node_b] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        let device = dy.device();
        let isa = isa::active();
        let tape = ops.state;
        let [batch, _, height, width] = tape.x_dims;
        let [_, c_out, kh, kw] = tape.w_dims;
        let dy_dims = [batch, c_out, tape.out[0], tape.out[1]];
        // dy padded as the convolution whose transpose this is saw its input.
        let [ph, pw] = tape.spec.padding;
        let need_db = node_b.is_some();
        let (dy_padded, db) = read::<B, _>(dy, |dy, _| {
            let db = need_db.then(|| conv::channel_sums(dy, dy_dims));
            (
                ChannelsLast::from_nchw(
                    dy,
                    dy_dims,
                    input_padding([[ph, ph], [pw, pw]], tape.spec.stride[1]),
                ),
                db,
            )
        });
        let weights = Weights {
            data: &tape.weight,
            dims: tape.w_dims,
        };
        if let Some(node) = node_x {
            // The input gradient is the convolution of dy with the same weight.
            let dx = conv::forward(
                isa,
                &dy_padded,
                weights,
                None,
                tape.spec.stride,
                [1, 1],
                [height, width],
            );
            grads.register::<B>(node.id, device_tensor::<B>(dx, &tape.x_dims, &device));
        }
        if let Some(node) = node_w {
            // dW[i][o] = Σ x[i] · dy_padded[o]: the weight gradient with the roles swapped,
            // x read from inside the padding the forward gave it.
            let x_origin = Transposed {
                input: tape.x_dims,
                out: tape.out,
                stride: tape.spec.stride,
                pad: tape.spec.padding,
            }
            .leading([kh, kw]);
            let dw = conv::weight_grad(
                isa,
                &dy_padded,
                &tape.x,
                x_origin,
                [height, width],
                Window {
                    kernel: [kh, kw],
                    stride: tape.spec.stride,
                    dilation: [1, 1],
                },
            );
            grads.register::<B>(node.id, device_tensor::<B>(dw, &tape.w_dims, &device));
        }
        if let (Some(node), Some(db)) = (node_b, db) {
            grads.register::<B>(node.id, device_tensor::<B>(db, &[c_out], &device));
        }
    }
}
