"""PixelCNN and PixelRNN: autoregressive models over the image grid (notebook 02_tractable_density, lecture 6.2.2).

Both generate pixels in raster order and are `AutoregressiveImageModel`s (models/autoregressive.py):
logits(x) -> (N, 1, H, W); log_prob(x) -> (N,) nats; loss(x); sample(n, *, generator=None).

- PixelCNN: masked convolutions (type A in the first layer, type B after it); its receptive field
  has a blind spot (`PixelCNN.receptive_field` computes it).
- PixelRNN: an LSTM over rows (its state summarises every row above) plus a masked layer
  along the current row.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from .autoregressive import AutoregressiveImageModel, ImageConfig
from .made import MaskedLinear

__all__ = ["MaskedConv2d", "PixelCNN", "PixelRNN"]


class MaskedConv2d(nn.Conv2d):
    """A convolution that sees only pixels above and to the left (raster order).

    Type "A" (first layer) also hides the centre pixel, so output (r, c) never sees x[r, c];
    type "B" (later layers) keeps the centre, which by then holds only information from before it.
    """

    def __init__(self, mask_type: str, in_channels: int, out_channels: int, kernel_size: int):
        if mask_type not in ("A", "B"):
            raise ValueError(f"mask_type must be 'A' or 'B', got {mask_type!r}.")
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size must be odd so the centre pixel is defined, got {kernel_size}.")
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        k = kernel_size // 2
        mask = torch.ones(kernel_size, kernel_size)
        mask[k, k + (mask_type == "B"):] = 0  # the centre row: from the centre (A) or after it (B)
        mask[k + 1:] = 0  # every row below
        self.mask_type = mask_type
        self.register_buffer("mask", mask[None, None].expand_as(self.weight).clone(), persistent=False)

    def forward(self, x):
        return self._conv_forward(x, self.weight * self.mask, self.bias)


class PixelCNN(AutoregressiveImageModel):
    """PixelCNN (van den Oord et al., 2016): a stack of masked convolutions, raster order.

    One 7x7 type-A layer, `layers` residual 3x3 type-B layers, two 1x1 layers to one logit per
    pixel. The plain stack has a *blind spot*: pixels up and to the right of the current one
    that it never sees (the gated PixelCNN's two stacks remove it).
    """

    @dataclass(frozen=True)
    class Config(ImageConfig):
        channels: int = 64  # feature maps of every layer
        layers: int = 6  # residual 3x3 type-B layers after the first 7x7 type-A layer (0 or more)

        def validate(self):
            super().validate()
            self.require_positive("channels")
            self.require(isinstance(self.layers, int) and self.layers >= 0, "layers", "an int >= 0")

    def __init__(self, config: Config | None = None):
        super().__init__()
        self.config = config or self.Config()
        self._init_shape(self.config.shape)
        C = self.config.channels
        self.register_buffer("order", torch.arange(self.num_pixels), persistent=False)
        self.first = MaskedConv2d("A", 1, C, 7)
        self.hidden = nn.ModuleList(MaskedConv2d("B", C, C, 3) for _ in range(self.config.layers))
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(C, C, 1), nn.ReLU(), nn.Conv2d(C, 1, 1))

    @torch.no_grad()
    def receptive_field(self, row: int, col: int) -> torch.Tensor:
        """Which input pixels can influence the logit of pixel (row, col): a bool (H, W) map.

        Computed on a copy whose weights are the masks themselves (all paths positive, so no
        two paths cancel): the input pixels with a non-zero gradient are the receptive field.
        """
        H, W = self.event_shape[1:]
        if not (0 <= row < H and 0 <= col < W):
            raise ValueError(f"pixel ({row}, {col}) is outside the {H}x{W} image.")
        probe = type(self)(self.config)
        for module in probe.modules():
            if isinstance(module, nn.Conv2d):
                module.weight.copy_(getattr(module, "mask", torch.ones_like(module.weight)))
                module.bias.zero_()
        x = torch.ones(1, *self.event_shape, requires_grad=True)
        with torch.enable_grad():
            probe.logits(x)[0, 0, row, col].backward()
        return x.grad[0, 0] != 0

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        h = self.first(x * 2 - 1)  # inputs in {-1, 1}
        for conv in self.hidden:
            h = h + conv(F.relu(h))
        return self.head(h)

    @torch.no_grad()
    def _sample(self, n, generator=None, on_pixel=None):
        # Every activation at (r, c), in every layer, depends only on pixels before (r, c) in raster
        # order (rows above and the left of row r). So when pixel (r, c) is next, each layer computes
        # its activation at (r, c) alone, from a cache of the two rows it reads (r - 1 and r): one
        # small matrix product per layer and pixel, instead of the whole network per pixel.
        H, W = self.event_shape[1:]
        C, k = self.config.channels, self.first.kernel_size[0] // 2
        device = self.device
        first = (self.first.weight * self.first.mask)[:, :, : k + 1].flatten(1)  # (C, (k+1)(2k+1))
        hidden = [(conv.weight * conv.mask)[:, :, :2].flatten(1) for conv in self.hidden]  # (C, 6C) each
        x = torch.zeros(n, *self.event_shape, device=device)
        inputs = torch.zeros(n, H + k, W + 2 * k, device=device)  # 2x - 1 with a zero border
        # rows[j][:, :, 0] is layer j's row r - 1, rows[j][:, :, 1] row r; one zero column each side.
        rows = [torch.zeros(n, C, 2, W + 2, device=device) for _ in range(len(self.hidden) + 1)]
        for r in range(H):
            for c in range(W):
                patch = inputs[:, r : r + k + 1, c : c + 2 * k + 1].reshape(n, -1)
                h = F.linear(patch, first, self.first.bias)  # (n, C): layer 0 at (r, c)
                rows[0][:, :, 1, c + 1] = h
                for j, (conv, weight) in enumerate(zip(self.hidden, hidden), start=1):
                    seen = F.relu(rows[j - 1][:, :, :, c : c + 3]).reshape(n, -1)  # rows r-1..r, cols c-1..c+1
                    h = h + F.linear(seen, weight, conv.bias)
                    rows[j][:, :, 1, c + 1] = h
                logit = self.head(h[:, :, None, None])[:, 0, 0, 0]
                x[:, 0, r, c] = torch.bernoulli(torch.sigmoid(logit), generator=generator)
                inputs[:, r + k, c + k] = x[:, 0, r, c] * 2 - 1
                if on_pixel is not None:
                    on_pixel(r * W + c, x)
            for cache in rows:  # row r becomes the row above
                cache[:, :, 0] = cache[:, :, 1]
                cache[:, :, 1] = 0
        return x


# ------------------------------------------------------------------ PixelRNN

class PixelRNN(AutoregressiveImageModel):
    """A small PixelRNN: an LSTM runs down the rows, a masked layer runs along the current row.

    The LSTM reads row r-1 at step r, so its state s_r summarises every row above row r. Pixel
    (r, c) then gets logit = MLP(U s_r [c] + M x_r [c]), where M is masked so that column c sees
    only x_r[<c]. The pixel order is raster; sampling runs the LSTM once per row (28 steps) and
    only the cheap in-row part once per pixel. (The paper's Row LSTM and Diagonal BiLSTM use
    convolutional LSTMs; this keeps the same idea with one plain LSTM.)
    """

    @dataclass(frozen=True)
    class Config(ImageConfig):
        hidden: int = 256  # LSTM state size
        features: int = 32  # features per pixel before the output MLP

        def validate(self):
            super().validate()
            self.require_positive("hidden", "features")

    def __init__(self, config: Config | None = None):
        super().__init__()
        self.config = config or self.Config()
        self._init_shape(self.config.shape)
        H, W = self.event_shape[1:]
        F_ = self.config.features
        self.register_buffer("order", torch.arange(self.num_pixels), persistent=False)
        self.lstm = nn.LSTM(W, self.config.hidden, batch_first=True)
        self.from_state = nn.Linear(self.config.hidden, W * F_)
        self.along_row = MaskedLinear(W, W * F_)
        col_of_output = torch.arange(W).repeat_interleave(F_)  # output unit -> its column
        self.along_row.set_mask((torch.arange(W)[None, :] < col_of_output[:, None]).float())
        self.out = nn.Sequential(nn.ReLU(), nn.Linear(F_, F_), nn.ReLU(), nn.Linear(F_, 1))

    def _row_states(self, x: torch.Tensor) -> torch.Tensor:
        """x (N, 1, H, W) -> LSTM states (N, H, hidden), state r having read rows 0..r-1."""
        rows = x[:, 0] * 2 - 1  # (N, H, W)
        shifted = torch.cat([torch.zeros_like(rows[:, :1]), rows[:, :-1]], 1)
        states, _ = self.lstm(shifted)
        return states

    def _row_logits(self, states: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        """states (..., hidden), rows (..., W) in {0, 1} -> logits (..., W)."""
        W, F_ = self.event_shape[2], self.config.features
        h = self.from_state(states) + self.along_row(rows * 2 - 1)
        return self.out(h.unflatten(-1, (W, F_))).squeeze(-1)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self._row_logits(self._row_states(x), x[:, 0]).unsqueeze(1)

    @torch.no_grad()
    def complete(self, x: torch.Tensor, known_rows: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """Image completion: keep the top `known_rows` rows of x (N, 1, H, W) in {0, 1} and draw the rest
        from p(x_rest | x_top), pixel by pixel -> (N, 1, H, W). Repeat x to get several completions."""
        x = self._check(x)
        H = self.event_shape[1]
        if isinstance(known_rows, bool) or not isinstance(known_rows, int) or not 0 <= known_rows <= H:
            raise ValueError(f"known_rows must be an int in 0..{H} (rows given from the top), got {known_rows!r}.")
        was_training = self.training
        self.eval()
        try:
            return self._sample(len(x), generator, known=(x, known_rows))
        finally:
            self.train(was_training)

    @torch.no_grad()
    def _sample(self, n, generator=None, on_pixel=None, known=None):
        H, W = self.event_shape[1:]
        x = torch.zeros(n, *self.event_shape, device=self.device)
        top = 0
        if known is not None:  # completion: the given rows are copied, not drawn
            given, top = known
            x[:, :, :top] = given[:, :, :top]
        inp, hc = torch.zeros(n, 1, W, device=x.device), None
        for r in range(H):
            state, hc = self.lstm(inp, hc)  # (n, 1, hidden): has read rows 0..r-1
            for c in range(W if r >= top else 0):
                logit = self._row_logits(state[:, 0], x[:, 0, r])[:, c]
                x[:, 0, r, c] = torch.bernoulli(torch.sigmoid(logit), generator=generator)
                if on_pixel is not None:
                    on_pixel(r * W + c, x)
            inp = (x[:, 0, r] * 2 - 1).unsqueeze(1)
        return x
