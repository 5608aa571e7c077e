//! Keeps freed memory in the process for the next training step instead of returning it to the
//! kernel.
//!
//! A training step allocates and frees the same large activation and gradient buffers every
//! step. glibc's malloc serves blocks above its mmap threshold (128 KiB at first, raised as
//! blocks are freed) with fresh `mmap`s, and gives the heap top back above its trim threshold,
//! so each step faults in and zeroes fresh pages, and unmapping them flushes the TLBs of every
//! core (`clear_page_erms`, `exc_page_fault` and `smp_call_function_many_cond` in `perf`). With
//! the threshold at its 32 MiB maximum and trimming off, freed buffers are reused: on 2 cores
//! (AMD EPYC, 2026-12-04) the ResNet-20 step went from 498–610 ms to 347–378 ms and the DCGAN
//! step from 116–124 ms to 85–91 ms (`target/release/bench`, the same settings through
//! `GLIBC_TUNABLES`). Blocks above the 32 MiB cap (the LSTM's and GRU's gate tensors for a
//! whole sequence, 64 MiB at batch 64 × 128 steps × 2,048 gate units) would still be mmapped
//! afresh each step, so mmap is off altogether (`M_MMAP_MAX` 0): the LSTM step went from
//! 793–812 ms to 665–685 ms and the GRU's from 536–567 to 493–506 ms (Zen 5, 2026-12-05), the
//! other workloads unchanged within noise, peak memory no higher (LSTM 539 MiB against 556
//! before). The cost is that the process keeps its peak memory until it exits;
//! `ZOO_KEEP_FREED_MEMORY=0` keeps glibc's defaults instead.
//!
//! Other platforms and C libraries keep their allocator's defaults.

/// Sets the allocator for a training process (see the module docs); call it once, first.
pub fn keep_freed_memory() {
    if std::env::var_os("ZOO_KEEP_FREED_MEMORY").is_some_and(|value| value == "0") {
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only changes allocator parameters; called before other threads start
    // allocating, as its documentation asks.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
        // Threads' arenas still map a block too large for their heaps: nothing fails.
        libc::mallopt(libc::M_MMAP_MAX, 0);
    }
}
