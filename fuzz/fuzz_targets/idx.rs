//! IDX parsing (MNIST/Fashion-MNIST) of arbitrary bytes, gzipped or raw: never panics, and an
//! accepted array has exactly the payload its header promises.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.idx");
    let Ok(bytes) = datasets::decode_maybe_gzip(data.to_vec(), path) else {
        return;
    };
    for ndim in [1u8, 3] {
        if let Ok(array) = datasets::mnist::parse_idx(&bytes, path, ndim) {
            assert_eq!(array.dims.len(), ndim as usize);
            assert_eq!(array.data.len(), array.dims.iter().product::<usize>());
        }
    }
});
