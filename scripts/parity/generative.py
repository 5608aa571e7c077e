#!/usr/bin/env python3
"""PyTorch references for burn-zoo's generative models: `autoencoder`, `vae` and `gan`.

Each model is written in PyTorch with burn-zoo's field names (encoder.layers.0, decoder.deconv1,
mu, log_var, fc, bn1, ...), small widths to keep the fixtures small, seeded random weights and
random BatchNorm running statistics. The deterministic passes are saved:

- autoencoder (dense, conv): the code and the reconstruction logits of an input batch;
- vae (dense, conv): the posterior mean and log-variance of an input batch, and the decoder's
  logits for a batch of latent codes;
- gan (dcgan, mlp): the generator's eval-mode images for a batch of noise, and the
  discriminator's eval-mode logits for a batch of images.

Files: models/<model>/tests/fixtures/<variant>.safetensors (the state dict) and
<variant>_io.safetensors (inputs and outputs). The Rust tests load the weights through the
same path as `--weights` and compare within 1e-4.

Usage: python scripts/parity/generative.py  (needs torch, safetensors; see README.md here)
"""
import pathlib

import torch
from safetensors.torch import save_file
from torch import nn
from torch.nn import functional as F

ROOT = pathlib.Path(__file__).resolve().parents[2] / "models"
SIDE = 28


class Encoder(nn.Module):
    def __init__(self, arch, hidden, channels):
        super().__init__()
        self.arch = arch
        if arch == "dense":
            widths = [SIDE * SIDE] + hidden
            self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths, widths[1:]))
            self.features = widths[-1]
        else:
            self.conv1 = nn.Conv2d(1, channels, 4, stride=2, padding=1)
            self.conv2 = nn.Conv2d(channels, 2 * channels, 4, stride=2, padding=1)
            self.features = 2 * channels * (SIDE // 4) ** 2

    def forward(self, x):
        if self.arch == "dense":
            x = x.flatten(1)
            for layer in self.layers:
                x = F.relu(layer(x))
            return x
        x = F.relu(self.conv1(x))
        return F.relu(self.conv2(x)).flatten(1)


class Decoder(nn.Module):
    def __init__(self, arch, hidden, channels, latent):
        super().__init__()
        self.arch, self.channels = arch, channels
        if arch == "dense":
            widths = [latent] + hidden[::-1] + [SIDE * SIDE]
            self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths, widths[1:]))
        else:
            self.fc = nn.Linear(latent, 2 * channels * (SIDE // 4) ** 2)
            self.deconv1 = nn.ConvTranspose2d(2 * channels, channels, 4, stride=2, padding=1)
            self.deconv2 = nn.ConvTranspose2d(channels, 1, 4, stride=2, padding=1)

    def forward(self, z):
        if self.arch == "dense":
            x = z
            for i, layer in enumerate(self.layers):
                x = layer(x)
                if i < len(self.layers) - 1:
                    x = F.relu(x)
            return x.view(-1, 1, SIDE, SIDE)
        x = F.relu(self.fc(z)).view(-1, 2 * self.channels, SIDE // 4, SIDE // 4)
        return self.deconv2(F.relu(self.deconv1(x)))


class Autoencoder(nn.Module):
    def __init__(self, arch, hidden, channels, latent):
        super().__init__()
        self.encoder = Encoder(arch, hidden, channels)
        self.code = nn.Linear(self.encoder.features, latent)
        self.decoder = Decoder(arch, hidden, channels, latent)

    def encode(self, x):
        return self.code(self.encoder(x))

    def forward(self, x):
        return self.decoder(self.encode(x))


class Vae(nn.Module):
    def __init__(self, arch, hidden, channels, latent):
        super().__init__()
        self.encoder = Encoder(arch, hidden, channels)
        self.mu = nn.Linear(self.encoder.features, latent)
        self.log_var = nn.Linear(self.encoder.features, latent)
        self.decoder = Decoder(arch, hidden, channels, latent)

    def posterior(self, x):
        h = self.encoder(x)
        return self.mu(h), self.log_var(h)


class DcganGenerator(nn.Module):
    def __init__(self, latent, width):
        super().__init__()
        self.width = width
        self.fc = nn.Linear(latent, 2 * width * 7 * 7, bias=False)
        self.bn1 = nn.BatchNorm2d(2 * width)
        self.deconv1 = nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.deconv2 = nn.ConvTranspose2d(width, 1, 4, 2, 1)

    def forward(self, z):
        x = self.fc(z).view(-1, 2 * self.width, 7, 7)
        x = F.relu(self.bn1(x))
        x = F.relu(self.bn2(self.deconv1(x)))
        return torch.tanh(self.deconv2(x))


class DcganDiscriminator(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.conv1 = nn.Conv2d(1, width, 4, 2, 1)
        self.conv2 = nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(2 * width)
        self.fc = nn.Linear(2 * width * 7 * 7, 1)

    def forward(self, x):
        x = F.leaky_relu(self.conv1(x), 0.2)
        x = F.leaky_relu(self.bn2(self.conv2(x)), 0.2)
        return self.fc(x.flatten(1))


class MlpGenerator(nn.Module):
    def __init__(self, latent, width):
        super().__init__()
        widths = [latent, 2 * width, 4 * width, SIDE * SIDE]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths, widths[1:]))

    def forward(self, z):
        x = z
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = F.relu(x)
        return torch.tanh(x).view(-1, 1, SIDE, SIDE)


class MlpDiscriminator(nn.Module):
    def __init__(self, width):
        super().__init__()
        widths = [SIDE * SIDE, 4 * width, 2 * width, 1]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths, widths[1:]))

    def forward(self, x):
        x = x.flatten(1)
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = F.leaky_relu(x, 0.2)
        return x


def randomise_batch_norm(module):
    """Non-trivial running statistics and affine parameters, so eval mode is really tested."""
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)


def state(module):
    return {k: v.contiguous() for k, v in module.state_dict().items() if "num_batches_tracked" not in k}


def save(model_dir, variant, module, io):
    out = ROOT / model_dir / "tests" / "fixtures"
    out.mkdir(parents=True, exist_ok=True)
    save_file(state(module), str(out / f"{variant}.safetensors"))
    save_file({k: v.contiguous() for k, v in io.items()}, str(out / f"{variant}_io.safetensors"))
    print(f"wrote {out / variant}.safetensors and _io ({sum(v.numel() for v in module.state_dict().values())} values)")


@torch.no_grad()
def main():
    torch.manual_seed(0)
    images = torch.rand(4, 1, SIDE, SIDE)
    # Widths match the Rust tests' configs.
    for arch in ["dense", "conv"]:
        ae = Autoencoder(arch, [32], 4, 8).eval()
        save("autoencoder", arch, ae, {"input": images, "code": ae.encode(images), "logits": ae(images)})
    for arch in ["dense", "conv"]:
        vae = Vae(arch, [32, 16], 4, 4).eval()
        mu, log_var = vae.posterior(images)
        z = torch.randn(4, 4)
        save("vae", arch, vae, {"input": images, "mu": mu, "log_var": log_var, "z": z, "logits": vae.decoder(z)})
    z = torch.randn(4, 16)
    for arch, generator, discriminator in [
        ("dcgan", DcganGenerator(16, 8), DcganDiscriminator(8)),
        ("mlp", MlpGenerator(16, 8), MlpDiscriminator(8)),
    ]:
        randomise_batch_norm(generator)
        randomise_batch_norm(discriminator)
        generator.eval(), discriminator.eval()
        fake = generator(z)
        real = images * 2 - 1
        save("gan", f"{arch}_generator", generator, {"z": z, "images": fake})
        save("gan", f"{arch}_discriminator", discriminator, {"input": real, "logits": discriminator(real)})


if __name__ == "__main__":
    main()
