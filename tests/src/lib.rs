//! The workspace's registry-wide checks live in `tests/registry.rs`; this library only names
//! the binary they drive (`zoo-under-test`, the `zoo` command built inside this package so
//! its tests can run it as a process).
