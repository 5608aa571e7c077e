//! Cargo features decide which devices a binary has; `--device` picks one of them by name.

use burn::prelude::Device;

/// Devices compiled into this binary, best first (GPU backends, then the CPU ones).
pub fn compiled_devices() -> Vec<&'static str> {
    let mut devices = Vec::new();
    if cfg!(feature = "cuda") {
        devices.push("cuda");
    }
    if cfg!(feature = "metal") {
        devices.push("metal");
    }
    if cfg!(feature = "vulkan") {
        devices.push("vulkan");
    }
    if cfg!(feature = "wgpu") {
        devices.push("wgpu");
    }
    if cfg!(feature = "flex") {
        devices.push("flex");
    }
    if cfg!(feature = "ndarray") {
        devices.push("ndarray");
    }
    devices
}

/// Whether a `--device` name is a device of a `zoo serve` server: `ws://HOST:PORT[#i]`.
pub fn is_remote(name: &str) -> bool {
    name.starts_with("ws://")
}

/// The device `--device` names, or the best compiled-in one. An unknown name is an error that
/// lists the devices this binary was built with. `ws://HOST:PORT[#i]` connects a device that
/// `zoo serve` hosts (the `remote` feature).
pub fn select_device(name: Option<&str>) -> anyhow::Result<(String, Device)> {
    if let Some(name) = name.filter(|n| is_remote(n)) {
        #[cfg(feature = "remote")]
        return Ok((name.to_string(), crate::remote::connect(name)?));
        #[cfg(not(feature = "remote"))]
        anyhow::bail!(
            "--device {name}: this binary was built without Burn's remote backend; build it with \
             `--features remote`, e.g. `cargo run -p zoo --release --features remote -- ...`"
        );
    }
    let compiled = compiled_devices();
    let name = match name {
        Some(name) => name.to_ascii_lowercase(),
        None => compiled
            .first()
            .ok_or_else(|| anyhow::anyhow!("this binary was built without any device feature"))?
            .to_string(),
    };
    let (backend, index) = match name.split_once(':') {
        Some((b, i)) => (
            b.to_string(),
            Some(i.parse::<usize>().map_err(|_| {
                anyhow::anyhow!("--device {name}: the part after ':' must be a device index")
            })?),
        ),
        None => (name.clone(), None),
    };
    let device = match backend.as_str() {
        #[cfg(feature = "flex")]
        "flex" | "cpu" => Device::flex(),
        // Burn 0.22 deprecates ndarray in favour of flex; the zoo still offers it as a feature.
        #[cfg(feature = "ndarray")]
        #[allow(deprecated)]
        "ndarray" => Device::ndarray(),
        #[cfg(feature = "wgpu")]
        "wgpu" => Device::wgpu(gpu_kind(index)),
        #[cfg(feature = "vulkan")]
        "vulkan" => Device::vulkan(gpu_kind(index)),
        #[cfg(feature = "metal")]
        "metal" => Device::metal(gpu_kind(index)),
        #[cfg(feature = "cuda")]
        "cuda" => Device::cuda(index.unwrap_or(0)),
        _ => anyhow::bail!(
            "unknown device '{name}': this binary was built with {}{}. Other backends need their \
             Cargo feature, e.g. `cargo run -p mlp --release --features wgpu -- train --device wgpu`",
            compiled.join(", "),
            if cfg!(feature = "remote") {
                ", ws://HOST:PORT (a `zoo serve` server)"
            } else {
                ""
            }
        ),
    };
    let _ = index;
    Ok((name, device))
}

#[cfg(any(feature = "wgpu", feature = "vulkan", feature = "metal"))]
fn gpu_kind(index: Option<usize>) -> burn::tensor::DeviceKind {
    match index {
        Some(i) => burn::tensor::DeviceKind::DiscreteGpu(i),
        None => burn::tensor::DeviceKind::DefaultDevice,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_device_lists_the_compiled_ones() {
        let err = select_device(Some("tpu")).unwrap_err().to_string();
        assert!(err.contains("unknown device 'tpu'"), "{err}");
        for device in compiled_devices() {
            assert!(err.contains(device), "{err}");
        }
        assert!(select_device(None).is_ok());
    }
}
