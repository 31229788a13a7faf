"""Autoregressive models of binary images (notebook 02_tractable_density, lecture 6.2.2).

The chain rule writes any density as a product of one-dimensional conditionals,

    p(x) = prod_i p(x_i | x_<i),   each p(x_i | x_<i) = Bernoulli(sigmoid(logit_i(x_<i))),

so log p(x) is exact: one forward pass computes every logit at once, provided logit_i never
looks at x_i or at a later pixel (the *autoregressive property*). The models differ only in how
they compute the logits:

- FVSBN: logit_i = b_i + sum_{j<i} W_ij x_j, one logistic regression per pixel.
- NADE: a hidden layer h_i = sigmoid(c + W_{:,<i} x_<i) with weights shared across i.
- MADE: an MLP whose weight matrices are masked so that output i sees only inputs before i.
- PixelCNN: masked convolutions (type A in the first layer, type B after it).
- PixelRNN: an LSTM over rows (its state summarises every row above) plus a masked layer
  along the current row.

Every model: logits(x) -> (N, 1, H, W); log_prob(x) -> (N,) nats; loss(x); sample(n).
x has shape (N, 1, H, W) with values in {0, 1}; H, W = 28, 28 unless the config says otherwise.
Sampling is sequential, one pixel after the other, in `model.order`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ..validation import check_binary, check_finite, check_tensor, module_device

__all__ = ["FVSBN", "NADE", "MADE", "PixelCNN", "PixelRNN", "MaskedLinear", "MaskedConv2d", "made_masks",
           "pixel_order", "sample_by_full_passes"]


def pixel_order(num_pixels: int, seed: int | None = None) -> torch.Tensor:
    """The order in which pixels are generated: raster (0, 1, ..., D-1) or a seeded random permutation. (D,)"""
    if seed is None:
        return torch.arange(num_pixels)
    return torch.randperm(num_pixels, generator=torch.Generator().manual_seed(seed))


def _check_n(n) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"sample(n) needs a positive int n, got {n!r}.")
    return n


class _AutoregressiveImageModel(nn.Module):
    """Shared by every model here: subclasses define logits(x) with the autoregressive property."""

    def _init_shape(self, shape) -> None:
        shape = tuple(shape)
        if len(shape) != 3 or shape[0] != 1 or min(shape) < 1:
            raise ValueError(f"shape must be (1, H, W) for a one-channel binary image, got {shape}.")
        self.event_shape = shape
        self.num_pixels = shape[1] * shape[2]

    def _check(self, x: torch.Tensor) -> torch.Tensor:
        who = type(self).__name__
        check_tensor(x, self.event_shape, who=who, device=module_device(self))
        return check_binary(check_finite(x, who=who), who=who)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """x (N, 1, H, W) in {0, 1} -> logits of p(x_i = 1 | x_<i), (N, 1, H, W)."""
        raise NotImplementedError

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log p(x) = sum_i log p(x_i | x_<i), (N,) nats."""
        x = self._check(x)
        return -F.binary_cross_entropy_with_logits(self.logits(x), x, reduction="none").flatten(1).sum(1)

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        """Negative mean log-likelihood (nats per image)."""
        return -self.log_prob(x).mean()

    def _device(self) -> torch.device:
        return next(self.parameters()).device

    @torch.no_grad()
    def _sample(self, n: int, on_pixel=None, generator=None) -> torch.Tensor:
        """Generic sampler: one full forward pass per pixel. Subclasses override with cheaper ones."""
        x = torch.zeros(n, *self.event_shape, device=self._device())
        flat = x.view(n, -1)
        for step, i in enumerate(self.order.tolist()):
            p = torch.sigmoid(self.logits(x).view(n, -1)[:, i])
            flat[:, i] = torch.bernoulli(p, generator=generator)
            if on_pixel is not None:
                on_pixel(step, x)
        return x

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n images (n, 1, H, W) in {0, 1}, drawn pixel by pixel in `self.order`.

        generator: a torch.Generator on the model's device, to make the draw repeatable.
        """
        was_training = self.training
        self.eval()
        try:
            return self._sample(_check_n(n), generator=generator)
        finally:
            self.train(was_training)

    @torch.no_grad()
    def sample_progress(self, n: int, every: int = 28) -> torch.Tensor:
        """Snapshots of sampling n images, (T, n, 1, H, W): pixels not drawn yet are 0.5 (grey).

        Snapshot t is taken after (t+1)*every pixels; the last one is the finished sample.
        """
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a positive int (pixels between snapshots), got {every!r}.")
        was_training = self.training
        self.eval()
        order = self.order.tolist()
        shots = []

        def on_pixel(step, x):
            if (step + 1) % every == 0 or step + 1 == len(order):
                drawn = torch.zeros(self.num_pixels, dtype=torch.bool)
                drawn[order[: step + 1]] = True
                shot = x.detach().cpu().clone().view(x.shape[0], -1)
                shot[:, ~drawn] = 0.5
                shots.append(shot.view_as(x.cpu()))

        try:
            self._sample(_check_n(n), on_pixel)
        finally:
            self.train(was_training)
        return torch.stack(shots)


# ------------------------------------------------------------------ FVSBN

class FVSBN(_AutoregressiveImageModel):
    """Fully visible sigmoid belief network: logit_i = b_i + sum_{j before i} W_ij x_j.

    One logistic regression per pixel; W is masked to be strictly lower-triangular in `order`.
    Parameters: D(D-1)/2 useful weights + D biases.
    """

    @dataclass(frozen=True)
    class Config:
        shape: tuple = (1, 28, 28)
        order_seed: int | None = None  # None: raster order; an int: that random pixel order

    def __init__(self, config: Config | None = None):
        super().__init__()
        self.config = config or self.Config()
        self._init_shape(self.config.shape)
        D = self.num_pixels
        self.register_buffer("order", pixel_order(D, self.config.order_seed), persistent=False)
        self.weight = nn.Parameter(torch.zeros(D, D))  # in generation order: row i = pixel order[i]
        self.bias = nn.Parameter(torch.zeros(D))
        self.register_buffer("mask", torch.ones(D, D).tril(-1), persistent=False)  # masks follow from the config

    def _logits_in_order(self, x_ordered: torch.Tensor) -> torch.Tensor:
        return F.linear(x_ordered, self.weight * self.mask, self.bias)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.flatten(1)
        out = torch.empty_like(flat)
        out[:, self.order] = self._logits_in_order(flat[:, self.order])
        return out.view_as(x)

    @torch.no_grad()
    def _sample(self, n, on_pixel=None, generator=None):
        # Incremental: after drawing pixel i, add its contribution W[:, i] x_i to every later logit.
        W = self.weight * self.mask
        a = self.bias.expand(n, -1).clone()
        x = torch.zeros(n, *self.event_shape, device=self._device())
        flat = x.view(n, -1)
        for i, pixel in enumerate(self.order.tolist()):
            xi = torch.bernoulli(torch.sigmoid(a[:, i]), generator=generator)
            flat[:, pixel] = xi
            a += xi[:, None] * W[:, i]
            if on_pixel is not None:
                on_pixel(i, x)
        return x


# ------------------------------------------------------------------ NADE

class NADE(_AutoregressiveImageModel):
    """Neural autoregressive density estimator (Larochelle & Murray, 2011).

    h_i = sigmoid(c + W[:, <i] x_<i)  (H,), shared W (H, D);  logit_i = b_i + V_i . h_i.
    The pre-activations for all i are one cumulative sum, so log p(x) costs O(D H).
    """

    @dataclass(frozen=True)
    class Config:
        shape: tuple = (1, 28, 28)
        hidden: int = 500
        order_seed: int | None = None

    def __init__(self, config: Config | None = None):
        super().__init__()
        self.config = config or self.Config()
        self._init_shape(self.config.shape)
        D, H = self.num_pixels, self.config.hidden
        self.register_buffer("order", pixel_order(D, self.config.order_seed), persistent=False)
        self.W = nn.Parameter(torch.randn(H, D) / D**0.5)  # input -> hidden, columns in generation order
        self.c = nn.Parameter(torch.zeros(H))
        self.V = nn.Parameter(torch.randn(D, H) / H**0.5)  # hidden -> output logit i
        self.b = nn.Parameter(torch.zeros(D))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        xo = x.flatten(1)[:, self.order]  # (N, D) in generation order
        contrib = xo.unsqueeze(2) * self.W.t().unsqueeze(0)  # (N, D, H): x_j W[:, j]
        a = contrib.cumsum(1) - contrib + self.c  # exclusive cumsum: a_i = c + sum_{j<i} x_j W[:, j]
        logit_ordered = torch.einsum("ndh,dh->nd", torch.sigmoid(a), self.V) + self.b  # (N, D)
        out = torch.empty_like(xo)
        out[:, self.order] = logit_ordered
        return out.view_as(x)

    @torch.no_grad()
    def _sample(self, n, on_pixel=None, generator=None):
        a = self.c.expand(n, -1).clone()  # (n, H)
        x = torch.zeros(n, *self.event_shape, device=self._device())
        flat = x.view(n, -1)
        for i, pixel in enumerate(self.order.tolist()):
            xi = torch.bernoulli(torch.sigmoid(torch.sigmoid(a) @ self.V[i] + self.b[i]), generator=generator)
            flat[:, pixel] = xi
            a += xi[:, None] * self.W[:, i]
            if on_pixel is not None:
                on_pixel(i, x)
        return x


# ------------------------------------------------------------------ MADE

class MaskedLinear(nn.Linear):
    """A linear layer whose weight is multiplied by a fixed 0/1 mask (out_features, in_features)."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__(in_features, out_features)
        self.register_buffer("mask", torch.ones(out_features, in_features), persistent=False)

    def set_mask(self, mask: torch.Tensor) -> None:
        if mask.shape != self.weight.shape:
            raise ValueError(f"mask must have shape {tuple(self.weight.shape)}, got {tuple(mask.shape)}.")
        self.mask.copy_(mask)

    def forward(self, x):
        return F.linear(x, self.weight * self.mask, self.bias)


def made_masks(order: torch.Tensor, hidden: tuple, seed: int = 0) -> list[torch.Tensor]:
    """MADE's masks (Germain et al., 2015) for inputs generated in `order` and hidden sizes `hidden`.

    Input pixel order[k] gets degree k+1. Each hidden unit gets a degree m in
    [min degree of the previous layer, D-1] and connects to units of the previous layer with
    degree <= m; output i connects to hidden units with degree < degree(i). Returns one mask per
    layer, shapes (hidden[0], D), (hidden[1], hidden[0]), ..., (D, hidden[-1]).
    """
    D = len(order)
    if D < 2:
        raise ValueError(f"MADE needs at least 2 inputs, got an order of length {D}.")
    gen = torch.Generator().manual_seed(seed)
    degree_in = torch.empty(D, dtype=torch.long)
    degree_in[order] = torch.arange(1, D + 1)
    degrees, masks = degree_in, []
    for h in hidden:
        m = torch.randint(int(degrees.min()), D, (h,), generator=gen)  # degrees in [min previous, D-1]
        masks.append((m[:, None] >= degrees[None, :]).float())
        degrees = m
    masks.append((degree_in[:, None] > degrees[None, :]).float())
    return masks


class MADE(_AutoregressiveImageModel):
    """Masked autoencoder for distribution estimation: an MLP made autoregressive by masks.

    With num_masks > 1, training cycles through that many orderings/connectivities (order- and
    connectivity-agnostic training) and log_prob is the exact log of their average density.
    """

    @dataclass(frozen=True)
    class Config:
        shape: tuple = (1, 28, 28)
        hidden: tuple = (500,)
        num_masks: int = 1  # > 1: resample masks (and orders if order_agnostic) each training step
        order_agnostic: bool = False  # False: raster order for every mask
        seed: int = 0
        direct: bool = False  # add a masked linear input -> output path (an FVSBN inside the MADE)

    def __init__(self, config: Config | None = None):
        super().__init__()
        self.config = config or self.Config()
        self._init_shape(self.config.shape)
        if self.config.num_masks < 1 or not self.config.hidden:
            raise ValueError(f"MADE needs num_masks >= 1 and at least one hidden layer, got {self.config}.")
        D = self.num_pixels
        sizes = [D, *self.config.hidden, D]
        self.layers = nn.ModuleList(MaskedLinear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        orders, masks = [], []
        for k in range(self.config.num_masks):
            order = pixel_order(D, self.config.seed + k if self.config.order_agnostic and k > 0 else None)
            orders.append(order)
            masks.append(made_masks(order, tuple(self.config.hidden), self.config.seed + k))
        self.register_buffer("orders", torch.stack(orders), persistent=False)  # (K, D)
        if self.config.direct:
            self.direct = MaskedLinear(D, D)
            position = torch.empty_like(self.orders)
            position.scatter_(1, self.orders, torch.arange(D).expand_as(self.orders).contiguous())
            self.register_buffer("direct_masks", (position[:, :, None] > position[:, None, :]).float(), persistent=False)
        for layer_idx in range(len(self.layers)):
            self.register_buffer(f"masks_{layer_idx}", torch.stack([m[layer_idx] for m in masks]), persistent=False)
        self.mask_index = 0
        self.use_mask(0)

    @property
    def order(self) -> torch.Tensor:
        return self.orders[self.mask_index]

    def use_mask(self, k: int) -> None:
        """Switch to mask set k (of num_masks)."""
        self.mask_index = k
        for layer_idx, layer in enumerate(self.layers):
            layer.set_mask(getattr(self, f"masks_{layer_idx}")[k])
        if self.config.direct:
            self.direct.set_mask(self.direct_masks[k])

    def masks(self) -> list[torch.Tensor]:
        """The current mask of every layer, [(H1, D), ..., (D, HL)]."""
        return [layer.mask for layer in self.layers]

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        h = x.flatten(1)
        for layer in self.layers[:-1]:
            h = F.relu(layer(h))
        out = self.layers[-1](h)
        if self.config.direct:
            out = out + self.direct(x.flatten(1))
        return out.view_as(x)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        K = self.config.num_masks
        if K == 1:
            return super().log_prob(x)
        current, per_mask = self.mask_index, []
        for k in range(K):
            self.use_mask(k)
            per_mask.append(super().log_prob(x))
        self.use_mask(current)
        return torch.logsumexp(torch.stack(per_mask), 0) - torch.log(torch.tensor(float(K)))

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        if self.config.num_masks > 1:  # one mask per step, the next one each time
            self.use_mask((self.mask_index + 1) % self.config.num_masks)
            return -super().log_prob(x).mean()
        return super().loss(x)

    @torch.no_grad()
    def _sample_one_mask(self, n, on_pixel=None, generator=None):
        if len(self.layers) != 2:  # deeper MADEs need one full pass per pixel
            return super()._sample(n, on_pixel, generator)
        # One hidden layer: like NADE, drawing x_i only adds column i to the pre-activations.
        (W1, b1), (W2, b2) = [(layer.weight * layer.mask, layer.bias) for layer in self.layers]
        a = b1.expand(n, -1).clone()  # (n, H) hidden pre-activations
        d = (self.direct.bias if self.config.direct else torch.zeros_like(b2)).expand(n, -1).clone()  # (n, D)
        Wd = self.direct.weight * self.direct.mask if self.config.direct else None
        x = torch.zeros(n, *self.event_shape, device=self._device())
        flat = x.view(n, -1)
        for step, i in enumerate(self.order.tolist()):
            logit = F.relu(a) @ W2[i] + b2[i] + d[:, i]
            xi = torch.bernoulli(torch.sigmoid(logit), generator=generator)
            flat[:, i] = xi
            a += xi[:, None] * W1[:, i]
            if Wd is not None:
                d += xi[:, None] * Wd[:, i]
            if on_pixel is not None:
                on_pixel(step, x)
        return x

    @torch.no_grad()
    def _sample(self, n, on_pixel=None, generator=None):
        # With several masks, each sample first picks its mask (the model is their average).
        K = self.config.num_masks
        if K == 1:
            return self._sample_one_mask(n, on_pixel, generator)
        current = self.mask_index
        which = torch.randint(K, (n,), generator=generator, device=generator.device if generator else "cpu").cpu()
        out = torch.zeros(n, *self.event_shape, device=self._device())
        for k in which.unique().tolist():
            self.use_mask(k)
            out[which == k] = self._sample_one_mask(int((which == k).sum()), None, generator)
        self.use_mask(current)
        return out


# ------------------------------------------------------------------ PixelCNN

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


class PixelCNN(_AutoregressiveImageModel):
    """PixelCNN (van den Oord et al., 2016): a stack of masked convolutions, raster order.

    One 7x7 type-A layer, `layers` residual 3x3 type-B layers, two 1x1 layers to one logit per
    pixel. The plain stack has a *blind spot*: pixels up and to the right of the current one
    that it never sees (the gated PixelCNN's two stacks remove it).
    """

    @dataclass(frozen=True)
    class Config:
        shape: tuple = (1, 28, 28)
        channels: int = 64
        layers: int = 6  # residual 3x3 type-B layers after the first 7x7 type-A layer

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
    def _sample(self, n, on_pixel=None, generator=None):
        # Every activation at (r, c), in every layer, depends only on pixels before (r, c) in raster
        # order (rows above and the left of row r). So when pixel (r, c) is next, each layer computes
        # its activation at (r, c) alone, from a cache of the two rows it reads (r - 1 and r): one
        # small matrix product per layer and pixel, instead of the whole network per pixel.
        H, W = self.event_shape[1:]
        C, k = self.config.channels, self.first.kernel_size[0] // 2
        device = self._device()
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


def sample_by_full_passes(model: _AutoregressiveImageModel, n: int, generator: torch.Generator | None = None):
    """The reference sampler: one full `logits` pass over the whole image per pixel, (n, 1, H, W).

    Every model's own `sample` is a faster way to the same result: with the same generator it
    must give the same images (the tests check this).
    """
    if not isinstance(model, _AutoregressiveImageModel):
        raise TypeError(f"sample_by_full_passes needs an autoregressive image model, got {type(model).__name__}.")
    was_training = model.training
    model.eval()
    try:
        return _AutoregressiveImageModel._sample(model, _check_n(n), generator=generator)
    finally:
        model.train(was_training)


# ------------------------------------------------------------------ PixelRNN

class PixelRNN(_AutoregressiveImageModel):
    """A small PixelRNN: an LSTM runs down the rows, a masked layer runs along the current row.

    The LSTM reads row r-1 at step r, so its state s_r summarises every row above row r. Pixel
    (r, c) then gets logit = MLP(U s_r [c] + M x_r [c]), where M is masked so that column c sees
    only x_r[<c]. The pixel order is raster; sampling runs the LSTM once per row (28 steps) and
    only the cheap in-row part once per pixel. (The paper's Row LSTM and Diagonal BiLSTM use
    convolutional LSTMs; this keeps the same idea with one plain LSTM.)
    """

    @dataclass(frozen=True)
    class Config:
        shape: tuple = (1, 28, 28)
        hidden: int = 256  # LSTM state size
        features: int = 32  # features per pixel before the output MLP

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
    def _sample(self, n, on_pixel=None, generator=None):
        H, W = self.event_shape[1:]
        x = torch.zeros(n, *self.event_shape, device=self._device())
        inp, hc = torch.zeros(n, 1, W, device=x.device), None
        for r in range(H):
            state, hc = self.lstm(inp, hc)  # (n, 1, hidden): has read rows 0..r-1
            for c in range(W):
                logit = self._row_logits(state[:, 0], x[:, 0, r])[:, c]
                x[:, 0, r, c] = torch.bernoulli(torch.sigmoid(logit), generator=generator)
                if on_pixel is not None:
                    on_pixel(r * W + c, x)
            inp = (x[:, 0, r] * 2 - 1).unsqueeze(1)
        return x
