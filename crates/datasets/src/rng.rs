//! The seeded generator every shuffle, split and augmentation uses; defined in `zoo-core` so
//! that model crates built without the data loaders draw the same numbers.

pub use zoo_core::rng::SplitMix64;
