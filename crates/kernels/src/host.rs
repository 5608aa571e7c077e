//! Moving tensors of Burn's CPU backends to and from host buffers.

use burn::backend::{Backend, TensorMetadata, tensor::FloatTensor};
use std::mem::MaybeUninit;

use burn::tensor::TensorData;
use rayon::prelude::*;

/// Polls a future the CPU backends return ready.
fn ready<T>(future: impl Future<Output = T>) -> T {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut context) {
        std::task::Poll::Ready(value) => value,
        std::task::Poll::Pending => unreachable!("a CPU backend's read is ready at once"),
    }
}

/// The tensor's values in row-major order, and its shape.
fn host<B: Backend>(tensor: FloatTensor<B>) -> (Vec<f32>, Vec<usize>) {
    let shape = tensor.shape().to_vec();
    let data = ready(B::float_into_data(tensor)).expect("reading a CPU tensor");
    let values = data
        .try_into_vec::<f32>()
        .expect("fast convolutions run on f32 tensors (checked by `supports`)");
    (values, shape)
}

/// Runs `f` on the tensor's f32 values (row-major) and shape: in place for a contiguous flex
/// tensor, through a copy otherwise.
pub fn read<B: Backend, R>(tensor: FloatTensor<B>, f: impl FnOnce(&[f32], &[usize]) -> R) -> R {
    #[cfg(feature = "flex")]
    {
        let any: &dyn std::any::Any = &tensor;
        if let Some(flex) = any.downcast_ref::<burn::backend::flex::FlexTensor>() {
            let layout = flex.layout();
            if layout.is_contiguous()
                && layout.start_offset() == 0
                && flex.dtype() == burn::tensor::DType::F32
            {
                let shape = layout.shape().to_vec();
                let n = shape.iter().product();
                return f(&flex.storage::<f32>()[..n], &shape);
            }
        }
    }
    let (values, shape) = host::<B>(tensor);
    f(&values, &shape)
}

/// A tensor of `shape` on `device` holding `values` (row-major).
pub fn device_tensor<B: Backend>(
    values: Vec<f32>,
    shape: &[usize],
    device: &B::Device,
) -> FloatTensor<B> {
    B::float_from_data(TensorData::new(values, shape.to_vec()), device)
}

/// A tensor of `x`'s shape holding `kernel`'s output for `x`'s values (row-major) and shape.
pub(crate) fn map<B: Backend>(
    x: FloatTensor<B>,
    kernel: impl FnOnce(&[f32], &[usize]) -> Vec<f32>,
) -> FloatTensor<B> {
    let device = x.device();
    let (values, shape) = read::<B, _>(x, |x, shape| (kernel(x, shape), shape.to_vec()));
    device_tensor::<B>(values, &shape, &device)
}

/// A vector of `len` values, written chunk by chunk (`chunk` elements, in parallel) by
/// `fill(chunk index, chunk)`, which must write every element: no zeroing pass first.
pub(crate) fn par_filled(
    len: usize,
    chunk: usize,
    fill: impl Fn(usize, &mut [MaybeUninit<f32>]) + Sync,
) -> Vec<f32> {
    let mut values = Vec::<f32>::with_capacity(len);
    values.spare_capacity_mut()[..len]
        .par_chunks_mut(chunk)
        .enumerate()
        .for_each(|(i, part)| fill(i, part));
    // SAFETY: `fill` wrote every element of every chunk.
    unsafe { values.set_len(len) };
    values
}
