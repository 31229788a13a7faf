"""The gated PixelCNN: two stacks of convolutions without a blind spot (notebook 02_tractable_density, 6.2.2).

van den Oord et al., 2016, "Conditional Image Generation with PixelCNN Decoders". The plain PixelCNN
(models/pixel_models.py) stacks masked 3x3 convolutions; its receptive field grows up and to the left but
never reaches the pixels up and to the right (the *blind spot*). The gated PixelCNN splits the network:

- a **vertical stack** of unmasked (k//2 + 1) x k convolutions that see the rows above *and the current
  row*, all columns within reach: no blind spot. It pads only at the top, so row r of every layer depends
  on input rows <= r only; residual connections from layer 1 on (a short path for the gradient);
- a **horizontal stack** of 1 x (k//2 + 1) convolutions along the current row, columns <= c (the first
  layer: < c), with residual connections;
- the **link**: the vertical features, shifted down one row (row r then holds rows <= r - 1 only), enter
  the horizontal stack through a 1x1 convolution, so pixel (r, c) sees every row above but never x[r, >= c];
- **gated activations** tanh(a) * sigmoid(b) in both stacks, and a 1x1 head to one logit per pixel;
- optional **dilations** (as in WaveNet): block j's kernels skip d_j - 1 pixels between taps, so with
  d = 1, 2, 4, 8, ... the reach grows with the sum of the dilations, not with the depth, at no extra cost.

GatedPixelCNN is an `AutoregressiveImageModel` (models/autoregressive.py): logits(x) -> (N, 1, H, W);
log_prob(x) -> (N,) nats; loss(x); sample(n, *, generator=None), raster order.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from .autoregressive import AutoregressiveImageModel, ImageConfig

__all__ = ["GatedPixelCNN", "gate"]


def gate(a: torch.Tensor) -> torch.Tensor:
    """tanh(first half) * sigmoid(second half) of the channels: (N, 2C, ...) -> (N, C, ...)."""
    value, gate_ = a.chunk(2, dim=1)
    return torch.tanh(value) * torch.sigmoid(gate_)


class GatedPixelCNN(AutoregressiveImageModel):
    """Gated PixelCNN, raster order. Layer 0 reads the image with `first_kernel`; layers 1.. are gated blocks.

    Receptive field of pixel (r, c), with reach R = first_kernel//2 + (kernel//2) * (sum of the blocks'
    dilations): every pixel of rows r - 1 - R .. r - 1 within columns c - R .. c + R, and row r's columns
    c - R .. c - 1 (clipped to the image). That is every earlier pixel within reach: no blind spot. The default
    (kernel 3, first_kernel 7, 12 layers, no dilation) has R = 14, so pixel (14, 14) sees all 406 pixels
    before it. The config refuses dilations that would leave holes in the field.
    """

    @dataclass(frozen=True)
    class Config(ImageConfig):
        channels: int = 32  # C: features of each stack (the gates compute 2C, half tanh and half sigmoid)
        layers: int = 12  # layer 0 (reads the image) + (layers - 1) gated residual blocks
        kernel: int = 3  # n of the n x n blocks: vertical (n//2 + 1) x n, horizontal 1 x (n//2 + 1)
        first_kernel: int = 7  # the same for layer 0 (horizontal: 1 x n//2, strictly left of the pixel)
        dilations: tuple[int, ...] = (1,)  # block j = 1, 2, ... uses dilations[(j - 1) % len]: cycled

        def validate(self):
            super().validate()
            self.require_positive("channels", "layers")
            for field in ("kernel", "first_kernel"):
                value = getattr(self, field)
                ok = isinstance(value, int) and not isinstance(value, bool) and value >= 3 and value % 2 == 1
                self.require(ok, field, "an odd int >= 3 (the pixel's column is the kernel's centre)")
            self.require_positive("dilations")
            reach = self.first_kernel // 2  # each block must reach the pixel next to what the earlier ones see
            for d in self.block_dilations():
                self.require(d <= reach, "dilations", f"each block's dilation at most the reach of the blocks "
                             f"before it ({d} > {reach} leaves holes in the receptive field): e.g. (1, 2, 4, 8)")
                reach += d * (self.kernel // 2)

        def block_dilations(self) -> list[int]:
            """The dilation of blocks 1 .. layers - 1 (layer 0 reads the image undilated)."""
            return [self.dilations[(j - 1) % len(self.dilations)] for j in range(1, self.layers)]

    def __init__(self, config: Config | None = None):
        super().__init__()
        self.config = config or self.Config()
        self._init_shape(self.config.shape)
        C, L = self.config.channels, self.config.layers
        k, k0 = self.config.kernel, self.config.first_kernel
        self.register_buffer("order", torch.arange(self.num_pixels), persistent=False)
        # Layer 0: the image (2x - 1) into both stacks. Then one vertical / horizontal conv per block.
        dilations = self.config.block_dilations()
        self.vertical = nn.ModuleList([nn.Conv2d(1, 2 * C, (k0 // 2 + 1, k0))] +
                                      [nn.Conv2d(C, 2 * C, (k // 2 + 1, k), dilation=d) for d in dilations])
        self.horizontal = nn.ModuleList([nn.Conv2d(1, 2 * C, (1, k0 // 2))] +
                                        [nn.Conv2d(C, 2 * C, (1, k // 2 + 1), dilation=(1, d)) for d in dilations])
        self.link = nn.ModuleList(nn.Conv2d(2 * C, 2 * C, 1) for _ in range(L))  # vertical -> horizontal
        self.residual = nn.ModuleList(nn.Conv2d(C, C, 1) for _ in range(L - 1))  # horizontal residual blocks
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(C, C, 1), nn.ReLU(), nn.Conv2d(C, 1, 1))

    @property
    def reach(self) -> int:
        """R: how many columns either side (and R + 1 rows up) a logit can see."""
        return self.config.first_kernel // 2 + sum(self.config.block_dilations()) * (self.config.kernel // 2)

    # ------------------------------------------------------------ the two stacks

    def _vertical(self, j: int, v: torch.Tensor) -> torch.Tensor:
        """Vertical conv j: (N, Cin, H, W) -> pre-activations (N, 2C, H, W); row r sees rows r - d(kh - 1) .. r."""
        (kh, kw), d = self.vertical[j].kernel_size, self.vertical[j].dilation[0]
        return self.vertical[j](F.pad(v, (d * (kw // 2), d * (kw // 2), d * (kh - 1), 0)))  # never below

    def _horizontal(self, j: int, h: torch.Tensor) -> torch.Tensor:
        """Horizontal conv j: (N, Cin, H, W) -> (N, 2C, H, W); layer 0 sees columns < c, later ones <= c."""
        kw, d = self.horizontal[j].kernel_size[1], self.horizontal[j].dilation[1]
        if j == 0:  # output c from columns c - kw .. c - 1: pad kw on the left, drop the last column
            return self.horizontal[0](F.pad(h, (kw, 0)))[..., :-1]
        return self.horizontal[j](F.pad(h, (d * (kw - 1), 0)))  # columns c - d(kw - 1) .. c, every d-th

    def _link(self, j: int, v_pre: torch.Tensor) -> torch.Tensor:
        """Vertical pre-activations (N, 2C, H, W) shifted down one row, so row r holds rows <= r - 1 only."""
        return self.link[j](F.pad(v_pre, (0, 0, 1, 0))[:, :, :-1])

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        v = h = x * 2 - 1  # (N, 1, H, W), inputs in {-1, 1}
        for j in range(self.config.layers):
            v_pre = self._vertical(j, v)  # (N, 2C, H, W)
            h_pre = self._horizontal(j, h) + self._link(j, v_pre)
            v = gate(v_pre) if j == 0 else v + gate(v_pre)  # (N, C, H, W); residual: deep stacks still train
            h = gate(h_pre) if j == 0 else h + self.residual[j - 1](gate(h_pre))  # residual from layer 1 on
        return self.head(h)

    @torch.no_grad()
    def receptive_field(self, row: int, col: int) -> torch.Tensor:
        """Which input pixels can influence the logit of pixel (row, col): a bool (H, W) map.

        As `PixelCNN.receptive_field`: computed on a probe copy with positive weights (1 / fan-in, in float64,
        so that no gate saturates and no two paths cancel); the input pixels with a non-zero gradient are the
        receptive field. The convolutions have no masks: every weight of a kernel is a path.
        """
        H, W = self.event_shape[1:]
        if not (0 <= row < H and 0 <= col < W):
            raise ValueError(f"pixel ({row}, {col}) is outside the {H}x{W} image.")
        probe = type(self)(self.config).double()
        for module in probe.modules():
            if isinstance(module, nn.Conv2d):
                module.weight.fill_(1.0 / module.weight[0].numel())
                module.bias.zero_()
        x = torch.ones(1, *self.event_shape, dtype=torch.float64, requires_grad=True)
        with torch.enable_grad():
            probe.logits(x)[0, 0, row, col].backward()
        return x.grad[0, 0] != 0

    # ------------------------------------------------------------ sampling

    @torch.no_grad()
    def _sample(self, n, generator=None, on_pixel=None):
        # Row r of the vertical stack depends on rows <= r only, and the horizontal stack at (r, c) on its own
        # row's columns <= c plus the link from row r - 1. So: when row r - 1 is finished, compute row r - 1 of
        # every vertical layer (one row each, from cached rows) and its link into row r; then, pixel by pixel,
        # compute each horizontal layer at (r, c) alone from a cache of row r. Same arithmetic as `logits`,
        # about one full forward pass in total instead of one per pixel.
        H, W = self.event_shape[1:]
        L, C, dev = self.config.layers, self.config.channels, self.device
        d = [conv.dilation[0] for conv in self.vertical]
        top = [d[j] * (conv.kernel_size[0] - 1) for j, conv in enumerate(self.vertical)]  # zero rows above
        side = [d[j] * (conv.kernel_size[1] // 2) for j, conv in enumerate(self.vertical)]  # zero columns each side
        hw = [conv.kernel_size[1] for conv in self.horizontal]
        # vin[j]: layer j's vertical input with its zero border (top rows above, side columns left and right)
        vin = [torch.zeros(n, conv.in_channels, H + top[j], W + 2 * side[j], device=dev)
               for j, conv in enumerate(self.vertical)]
        # hin[j]: layer j's horizontal input along the current row, (n, left + W, Cin): `left` zero columns, then
        # column c at index left + c; channels last, so that a window of columns is one block of rows
        left = [hw[0]] + [d[j] * (hw[j] - 1) + 1 for j in range(1, L)]
        hin = [torch.zeros(n, left[j] + W, conv.in_channels, device=dev) for j, conv in enumerate(self.horizontal)]
        hmat = [conv.weight[:, :, 0].transpose(1, 2).flatten(1).t() for conv in self.horizontal]  # (hw * Cin, 2C)
        res = [(conv.weight[:, :, 0, 0].t(), conv.bias) for conv in self.residual]  # (C, C), (C,)
        head = [(conv.weight[:, :, 0, 0].t(), conv.bias) for conv in self.head if isinstance(conv, nn.Conv2d)]

        def linked(j, v_pre):  # (n, 2C, W) link into the next row, + the horizontal bias -> (n, W, 2C)
            return (self.link[j](v_pre)[:, :, 0] + self.horizontal[j].bias[:, None]).transpose(1, 2).contiguous()

        link_rows = [linked(j, torch.zeros(n, 2 * C, 1, W, device=dev)) for j in range(L)]  # row 0: nothing above
        x = torch.zeros(n, *self.event_shape, device=dev)
        for r in range(H):
            for c in range(W):
                for j in range(L):
                    # layer 0 reads columns c - hw .. c - 1 (indices c .. c + hw - 1); later ones
                    # c - d(hw - 1) .. c, every d-th (indices c + 1 .. c + left, step d)
                    window = hin[j][:, c : c + hw[j]] if j == 0 else hin[j][:, c + 1 : c + left[j] + 1 : d[j]]
                    a = torch.addmm(link_rows[j][:, c], window.flatten(1), hmat[j])  # (n, 2C): pre-activation
                    h = torch.tanh(a[:, :C]) * torch.sigmoid(a[:, C:])  # (n, C)
                    if j > 0:
                        h = torch.addmm(res[j - 1][1], h, res[j - 1][0]).add_(hin[j][:, c + left[j]])
                    if j + 1 < L:
                        hin[j + 1][:, c + left[j + 1]] = h  # layer j's output at (r, c)
                hidden = torch.addmm(head[0][1], torch.relu(h), head[0][0])
                logit = torch.addmm(head[1][1], torch.relu(hidden), head[1][0])[:, 0]
                x[:, 0, r, c] = torch.bernoulli(torch.sigmoid(logit), generator=generator)
                hin[0][:, c + left[0], 0] = x[:, 0, r, c] * 2 - 1
                if on_pixel is not None:
                    on_pixel(r * W + c, x)
            # row r is finished: row r of every vertical layer, and its link into row r + 1
            vin[0][:, 0, r + top[0], side[0] : side[0] + W] = x[:, 0, r] * 2 - 1
            for j in range(L):
                v_pre = self.vertical[j](vin[j][:, :, r : r + top[j] + 1])  # (n, 2C, 1, W)
                link_rows[j] = linked(j, v_pre)
                if j + 1 < L:
                    v = gate(v_pre)[:, :, 0]  # (n, C, W): layer j's vertical output at row r
                    if j > 0:  # the residual: layer j - 1's output at row r, layer j's input
                        v = v + vin[j][:, :, r + top[j], side[j] : side[j] + W]
                    vin[j + 1][:, :, r + top[j + 1], side[j + 1] : side[j + 1] + W] = v
            for row in hin:
                row.zero_()  # a new row: nothing to its left yet
        return x
