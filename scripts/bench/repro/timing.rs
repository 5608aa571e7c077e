//! The timer the repro binaries share (included with `#[path]`): one warm-up call, then the mean
//! wall time of `repeats` calls, in seconds.

use std::time::Instant;

pub fn seconds(repeats: usize, mut f: impl FnMut()) -> f64 {
    f();
    let t = Instant::now();
    for _ in 0..repeats {
        f();
    }
    t.elapsed().as_secs_f64() / repeats as f64
}
