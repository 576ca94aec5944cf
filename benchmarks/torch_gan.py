"""The PyTorch reference of the accelerator benchmark: zoo's GAN nets and step, written the plain PyTorch way.

Written here from the architectures (zoo/nets/dcgan.py), not copied from any project:
`nn.Module`s in NCHW, `torch.optim.Adam`, an eager training step with `backward()`, as
pytorch/examples' DCGAN is written, optionally with the nets wrapped in `torch.compile` and
with `torch.autocast(dtype=torch.bfloat16)`. The step is zoo's `zoo.models.GAN.train_step`
with `d_steps=1`, so both sides do the same arithmetic (`_flops.GAN_PASSES`):

  1. discriminator update: fakes from fresh noise without a graph through G
     (`torch.no_grad()`, as zoo computes them outside its gradient), D on the real and the
     fake batch, the non-saturating (binary cross-entropy) loss
     `softplus(-D(x)) + softplus(D(G(z)))`, one Adam step on D;
  2. generator update: fresh noise, D's weights frozen (`requires_grad_(False)`, as
     StudioGAN's and stylegan2-ada's loops do, so no D weight gradients are computed,
     like zoo), `softplus(-D(G(z)))`, one Adam step on G.

Matched to Keras' defaults where PyTorch's differ: Adam epsilon 1e-7, batch norm epsilon
1e-3 and momentum 0.01 (Keras' 0.99). `torch.backends.cudnn.benchmark = True` as
pytorch/examples sets it. Losses are returned as tensors (no `.item()`), so nothing waits
for the device inside a step.
"""

import sys

if "tensorflow" in sys.modules:
    # torch's CUDA builds import triton (from torch._dynamo, e.g. in torch.optim.Adam), and
    # triton's native library crashes a process that has loaded TensorFlow (a segmentation
    # fault, torch 2.14.1). The CPU runs beside zoo never need triton; the GPU runs have no
    # TensorFlow and keep it for torch.compile.
    sys.modules.setdefault("triton", None)

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

ADAM_EPSILON = 1e-7  # Keras' default
BN = {"eps": 1e-3, "momentum": 0.01}  # Keras' BatchNormalization defaults, in PyTorch's terms


class KerasDCGANGenerator(nn.Module):
    """`zoo.nets.keras_dcgan_generator`: Dense to (side/8)^2 x 128, three 4x4 stride-2
    transposed convolutions (128, 256, 512) with LeakyReLU 0.2, a 5x5 convolution, tanh."""

    def __init__(self, latent_dim=128, image_shape=(64, 64, 3)):
        super().__init__()
        self.start = image_shape[0] // 8
        self.project = nn.Linear(latent_dim, self.start * self.start * 128)
        self.body = nn.Sequential(
            nn.ConvTranspose2d(128, 128, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.ConvTranspose2d(128, 256, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.ConvTranspose2d(256, 512, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(512, image_shape[-1], 5, 1, 2), nn.Tanh(),
        )

    def forward(self, z):
        x = self.project(z).view(-1, 128, self.start, self.start)
        return self.body(x)


class KerasDCGANDiscriminator(nn.Module):
    """`zoo.nets.keras_dcgan_discriminator`: three 4x4 stride-2 convolutions (64, 128, 128)
    with LeakyReLU 0.2, flatten, dropout 0.2, one logit."""

    def __init__(self, image_shape=(64, 64, 3)):
        super().__init__()
        side = image_shape[0] // 8
        self.body = nn.Sequential(
            nn.Conv2d(image_shape[-1], 64, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(64, 128, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(128, 128, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Dropout(0.2), nn.Linear(128 * side * side, 1),
        )

    def forward(self, images):
        return self.body(images)


class DCGANGenerator(nn.Module):
    """`zoo.nets.dcgan_generator` for a 2^k side (Radford et al. 2016): a bias-free
    projection to 4x4 x (base * 2^(n-1)), batch norm, ReLU, then 4x4 stride-2 transposed
    convolutions halving the filters (batch norm, ReLU), the last to the image, tanh."""

    def __init__(self, latent_dim=100, image_shape=(32, 32, 1), base_filters=64):
        super().__init__()
        steps = (image_shape[0] // 4).bit_length() - 1
        self.filters = base_filters * 2 ** (steps - 1)
        self.project = nn.Linear(latent_dim, 16 * self.filters, bias=False)
        blocks = [nn.BatchNorm2d(self.filters, **BN), nn.ReLU()]
        filters = self.filters
        for _ in range(steps - 1):
            blocks += [nn.ConvTranspose2d(filters, filters // 2, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(filters // 2, **BN), nn.ReLU()]
            filters //= 2
        blocks += [nn.ConvTranspose2d(filters, image_shape[-1], 4, 2, 1), nn.Tanh()]
        self.body = nn.Sequential(*blocks)

    def forward(self, z):
        return self.body(self.project(z).view(-1, self.filters, 4, 4))


class DCGANDiscriminator(nn.Module):
    """`zoo.nets.dcgan_discriminator` (unconditional, batch norm): 4x4 stride-2
    convolutions doubling the filters from `base`, batch norm after all but the first,
    LeakyReLU 0.2, flatten, one logit."""

    def __init__(self, image_shape=(32, 32, 1), base_filters=64):
        super().__init__()
        steps = (image_shape[0] // 4).bit_length() - 1
        blocks, channels, filters = [], image_shape[-1], base_filters
        for i in range(steps):
            blocks.append(nn.Conv2d(channels, filters, 4, 2, 1, bias=i == 0))
            if i > 0:
                blocks.append(nn.BatchNorm2d(filters, **BN))
            blocks.append(nn.LeakyReLU(0.2))
            channels, filters = filters, filters * 2
        side = image_shape[0] >> steps
        blocks += [nn.Flatten(), nn.Linear(channels * side * side, 1)]
        self.body = nn.Sequential(*blocks)

    def forward(self, images):
        return self.body(images)


NETS = {
    "keras_dcgan": (KerasDCGANGenerator, KerasDCGANDiscriminator),
    "dcgan": (DCGANGenerator, DCGANDiscriminator),
}


class GANStep:
    """One `zoo.models.GAN` training step (d_steps=1) in plain PyTorch; see the module docstring."""

    def __init__(self, nets, latent_dim, image_shape, learning_rate, beta_1, beta_2=0.999,
                 device="cpu", bf16=False, compile=False, seed=0):
        torch.manual_seed(seed)
        make_generator, make_discriminator = NETS[nets]
        self.generator = make_generator(latent_dim=latent_dim, image_shape=image_shape).to(device)
        self.discriminator = make_discriminator(image_shape=image_shape).to(device)
        self.generator.train()
        self.discriminator.train()
        self.g_optimizer = torch.optim.Adam(
            self.generator.parameters(), learning_rate, (beta_1, beta_2), eps=ADAM_EPSILON
        )
        self.d_optimizer = torch.optim.Adam(
            self.discriminator.parameters(), learning_rate, (beta_1, beta_2), eps=ADAM_EPSILON
        )
        # The compiled modules share their parameters with the eager ones.
        self.g = torch.compile(self.generator) if compile else self.generator
        self.d = torch.compile(self.discriminator) if compile else self.discriminator
        self.latent_dim, self.device = latent_dim, torch.device(device)
        self.autocast = torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=bf16)

    def parameters(self):
        count = lambda net: sum(p.numel() for p in net.parameters())  # noqa: E731
        return count(self.generator) + count(self.discriminator)

    def __call__(self, real):
        batch = real.shape[0]
        # Discriminator update.
        with torch.no_grad(), self.autocast:
            fake = self.g(torch.randn(batch, self.latent_dim, device=self.device))
        self.d_optimizer.zero_grad(set_to_none=True)
        with self.autocast:
            real_logits, fake_logits = self.d(real), self.d(fake)
        d_loss = F.softplus(-real_logits.float()).mean() + F.softplus(fake_logits.float()).mean()
        d_loss.backward()
        self.d_optimizer.step()
        # Generator update, D frozen.
        self.discriminator.requires_grad_(False)
        self.g_optimizer.zero_grad(set_to_none=True)
        with self.autocast:
            logits = self.d(self.g(torch.randn(batch, self.latent_dim, device=self.device)))
        g_loss = F.softplus(-logits.float()).mean()
        g_loss.backward()
        self.g_optimizer.step()
        self.discriminator.requires_grad_(True)
        return d_loss.detach(), g_loss.detach()


def synchronize(device):
    """Waits for the device's queued work (CUDA); a no-op on the CPU."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def info():
    """Versions and the precision switches that decide float32's speed on a GPU."""
    cuda = torch.cuda.is_available()
    return {
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if cuda else None,
        "device": torch.cuda.get_device_name(0) if cuda else "cpu",
        "matmul_allow_tf32": torch.backends.cuda.matmul.allow_tf32,
        "cudnn_allow_tf32": torch.backends.cudnn.allow_tf32,
        "cudnn_benchmark": torch.backends.cudnn.benchmark,
        "threads": torch.get_num_threads(),
    }
