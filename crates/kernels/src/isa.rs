//! Which vector instructions the kernels use, chosen at run time.
//!
//! One binary serves every x86-64 machine: the kernels are compiled three times (AVX-512F,
//! AVX2 + FMA, and the portable baseline) and [`active`] picks the widest the CPU has. Two
//! switches force a narrower path so that tests run each one on any machine and benchmarks can
//! compare them: the environment variable `ZOO_CONV_ISA=avx512|avx2|portable` for a whole
//! process, and [`force`] for the calling thread (the kernels read it once per call, before
//! they fan out to worker threads). A forced path the CPU lacks falls back to the best it has.

use std::cell::Cell;
use std::sync::OnceLock;

/// A kernel instruction set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Isa {
    /// Plain Rust, vectorised by the compiler for the baseline target (SSE2 on x86-64, NEON
    /// on aarch64); separate multiply and add.
    Portable,
    /// 256-bit vectors with fused multiply-add (Haswell, Zen 1 and later).
    Avx2,
    /// 512-bit vectors (Skylake-X, Ice Lake, Sapphire Rapids; Zen 4 runs them in two halves).
    Avx512,
}

impl Isa {
    pub const ALL: [Isa; 3] = [Isa::Portable, Isa::Avx2, Isa::Avx512];

    pub fn name(self) -> &'static str {
        match self {
            Isa::Portable => "portable",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
        }
    }

    pub fn parse(name: &str) -> Option<Isa> {
        Isa::ALL.into_iter().find(|isa| isa.name() == name)
    }
}

/// The widest instruction set this CPU runs.
pub fn detected() -> Isa {
    static DETECTED: OnceLock<Isa> = OnceLock::new();
    *DETECTED.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Isa::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Isa::Avx2;
            }
        }
        Isa::Portable
    })
}

thread_local! {
    static FORCED: Cell<Option<Isa>> = const { Cell::new(None) };
}

/// Forces `isa` (or, with `None`, the default choice again) for kernels called from this thread.
pub fn force(isa: Option<Isa>) {
    FORCED.with(|forced| forced.set(isa));
}

fn from_env() -> Option<Isa> {
    static ENV: OnceLock<Option<Isa>> = OnceLock::new();
    *ENV.get_or_init(|| {
        let value = std::env::var("ZOO_CONV_ISA").ok()?;
        let isa = Isa::parse(&value);
        if isa.is_none() {
            eprintln!(
                "warning: ZOO_CONV_ISA={value} is not one of avx512, avx2, portable; using {}",
                detected().name()
            );
        }
        isa
    })
}

/// The instruction set the next kernel call on this thread uses: [`force`]'s, else
/// `ZOO_CONV_ISA`'s, else [`detected`]; never wider than the CPU has.
pub fn active() -> Isa {
    let wanted = FORCED.with(Cell::get).or_else(from_env);
    match wanted {
        Some(isa) => isa.min(detected()),
        None => detected(),
    }
}

/// Runs `f` compiled for `isa`'s vector width: the closure is inlined into a function with the
/// target features on, so the loops inside it vectorise for them.
#[inline(always)]
pub(crate) fn with_isa<R>(isa: Isa, f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f,avx2,fma")]
        unsafe fn avx512<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        #[target_feature(enable = "avx2,fma")]
        unsafe fn avx2<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        // SAFETY: `isa::active` never picks a path the CPU lacks.
        match isa {
            Isa::Avx512 => return unsafe { avx512(f) },
            Isa::Avx2 => return unsafe { avx2(f) },
            Isa::Portable => {}
        }
    }
    let _ = isa;
    f()
}
