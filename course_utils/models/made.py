"""MADE: an MLP made autoregressive by masks (Germain et al., 2015; notebook 02_tractable_density).

Each unit gets a *degree*: input pixel order[k] has degree k + 1, a hidden unit a degree m drawn in
[min degree of the layer below, D - 1]. A hidden unit connects to the units below with degree <= m;
output i connects to the last hidden units with degree < degree(i). So output i can only depend on
inputs of smaller degree: the pixels before it. The degrees are public (`MADE.degrees()`), and the
masks follow from them in two broadcast lines (`made_masks`).

With num_masks > 1 the model holds several orders/connectivities (order-agnostic training): the
mask set in use is `mask_index`, changed only by `use_mask(k)` (or the training callback
`next_mask`), never by `loss` or `log_prob`; the density `log_prob(x)` is the average of all of them.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from .autoregressive import AutoregressiveImageModel, ImageConfig, pixel_order

__all__ = ["MADE", "MaskedLinear", "made_degrees", "made_masks"]


class MaskedLinear(nn.Linear):
    """A linear layer whose weight is multiplied by a fixed 0/1 mask (out_features, in_features)."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__(in_features, out_features)
        self.register_buffer("mask", torch.ones(out_features, in_features), persistent=False)

    def set_mask(self, mask: torch.Tensor) -> None:
        if mask.shape != self.weight.shape:
            raise ValueError(f"mask must have shape {tuple(self.weight.shape)}, got {tuple(mask.shape)}.")
        # A new tensor, not an in-place copy: a forward pass that already used the old mask keeps it for backward.
        self.mask = mask.to(device=self.weight.device, dtype=self.weight.dtype)

    def forward(self, x):
        return F.linear(x, self.weight * self.mask, self.bias)


def made_degrees(order: torch.Tensor, hidden: tuple, seed: int = 0) -> list[torch.Tensor]:
    """The degrees of MADE's units: [inputs (D,), hidden layer 1 (H1,), ..., hidden layer L (HL,)].

    Input pixel order[k] gets degree k+1; each hidden unit a degree drawn in [min degree of the
    previous layer, D-1] (a unit of degree D could feed no output).
    """
    D = len(order)
    if D < 2:
        raise ValueError(f"MADE needs at least 2 inputs, got an order of length {D}.")
    gen = torch.Generator().manual_seed(seed)
    degrees = [torch.empty(D, dtype=torch.long)]
    degrees[0][order] = torch.arange(1, D + 1)
    for h in hidden:
        degrees.append(torch.randint(int(degrees[-1].min()), D, (h,), generator=gen))
    return degrees


def made_masks(order: torch.Tensor, hidden: tuple, seed: int = 0) -> list[torch.Tensor]:
    """MADE's masks for inputs generated in `order` and hidden sizes `hidden` (degrees from `made_degrees`).

    A hidden unit of degree m connects to units of the previous layer with degree <= m; output i
    connects to hidden units with degree < degree(i). Returns one mask per layer, shapes
    (hidden[0], D), (hidden[1], hidden[0]), ..., (D, hidden[-1]).
    """
    degrees = made_degrees(order, hidden, seed)
    masks = [(m[:, None] >= below[None, :]).float() for below, m in zip(degrees[:-1], degrees[1:])]
    masks.append((degrees[0][:, None] > degrees[-1][None, :]).float())
    return masks


class MADE(AutoregressiveImageModel):
    """Masked autoencoder for distribution estimation: an MLP made autoregressive by masks.

    With num_masks > 1, log_prob is the exact log of the average density of the mask sets, and `loss`
    trains the mask set `mask_index`; `fit(..., step_callbacks=[made.next_mask])` cycles through them
    (order- and connectivity-agnostic training).
    """

    @dataclass(frozen=True)
    class Config(ImageConfig):
        hidden: tuple = (500,)  # widths of the hidden layers (at least one)
        num_masks: int = 1  # > 1: that many orders/connectivities, averaged by log_prob
        order_agnostic: bool = False  # False: raster order for every mask
        seed: int = 0  # seed of the hidden degrees (and of the random orders)
        direct: bool = False  # add a masked linear input -> output path (an FVSBN inside the MADE)

        def validate(self):
            super().validate()
            self.require_positive("hidden", "num_masks")

    def __init__(self, config: Config | None = None):
        super().__init__()
        self.config = config or self.Config()
        self._init_shape(self.config.shape)
        D = self.num_pixels
        sizes = [D, *self.config.hidden, D]
        self.layers = nn.ModuleList(MaskedLinear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        orders, degrees = [], []
        for k in range(self.config.num_masks):
            order = pixel_order(D, self.config.seed + k if self.config.order_agnostic and k > 0 else None)
            orders.append(order)
            degrees.append(made_degrees(order, tuple(self.config.hidden), self.config.seed + k))
        # Structure follows from the config, so these buffers are not saved (persistent=False).
        self.register_buffer("orders", torch.stack(orders), persistent=False)  # (K, D)
        for layer_idx in range(len(self.layers)):  # degrees of the units below layer layer_idx, (K, width)
            self.register_buffer(f"degrees_{layer_idx}", torch.stack([d[layer_idx] for d in degrees]), persistent=False)
        if self.config.direct:
            self.direct = MaskedLinear(D, D)
        self.mask_index = 0
        self.use_mask(0)

    @property
    def order(self) -> torch.Tensor:
        return self.orders[self.mask_index]

    def degrees(self, k: int | None = None) -> list[torch.Tensor]:
        """Degrees of mask set k (default: the one in use): [inputs (D,), hidden 1 (H1,), ...]."""
        k = self.mask_index if k is None else k
        return [getattr(self, f"degrees_{i}")[k] for i in range(len(self.layers))]

    def use_mask(self, k: int) -> None:
        """Switch to mask set k (of num_masks): every layer's mask is rebuilt from that set's degrees."""
        if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k < self.config.num_masks:
            raise ValueError(f"mask set must be an int in 0..{self.config.num_masks - 1}, got {k!r}.")
        self.mask_index = k
        degrees = self.degrees(k)
        for below, above, layer in zip(degrees, degrees[1:], self.layers):
            layer.set_mask((above[:, None] >= below[None, :]).float())
        self.layers[-1].set_mask((degrees[0][:, None] > degrees[-1][None, :]).float())
        if self.config.direct:
            self.direct.set_mask((degrees[0][:, None] > degrees[0][None, :]).float())

    def next_mask(self, *_) -> None:
        """Use the next mask set: a step callback for order-agnostic training (`fit(step_callbacks=...)`)."""
        self.use_mask((self.mask_index + 1) % self.config.num_masks)

    @contextlib.contextmanager
    def using_mask(self, k: int):
        """`with made.using_mask(k):` mask set k inside the block; the one in use before is restored, even on error."""
        current = self.mask_index
        self.use_mask(k)
        try:
            yield self
        finally:
            self.use_mask(current)

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

    def log_prob(self, x: torch.Tensor, mask_index: int | None = None) -> torch.Tensor:
        """Exact log p(x), (N,) nats: of mask set `mask_index`, or (None) of the average over all mask sets."""
        K = self.config.num_masks
        if mask_index is None and K > 1:  # the model: the average of the K densities
            per_mask = [self.log_prob(x, mask_index=k) for k in range(K)]
            return torch.logsumexp(torch.stack(per_mask), 0) - torch.log(torch.tensor(float(K)))
        if mask_index is None or mask_index == self.mask_index:
            return super().log_prob(x)
        with self.using_mask(mask_index):
            return super().log_prob(x)

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        """-mean log p(x) of the mask set in use (with one mask set: of the model). Changes no state."""
        return -self.log_prob(x, mask_index=self.mask_index).mean()

    @torch.no_grad()
    def _sample_one_mask(self, n, generator=None, on_pixel=None):
        if len(self.layers) != 2:  # deeper MADEs need one full pass per pixel
            return super()._sample(n, generator, on_pixel)
        # One hidden layer: like NADE, drawing x_i only adds column i to the pre-activations.
        (W1, b1), (W2, b2) = [(layer.weight * layer.mask, layer.bias) for layer in self.layers]
        a = b1.expand(n, -1).clone()  # (n, H) hidden pre-activations
        d = (self.direct.bias if self.config.direct else torch.zeros_like(b2)).expand(n, -1).clone()  # (n, D)
        Wd = self.direct.weight * self.direct.mask if self.config.direct else None
        x = torch.zeros(n, *self.event_shape, device=self.device)
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
    def _sample(self, n, generator=None, on_pixel=None):
        # With several masks, each sample first picks its mask set (the model is their average).
        K = self.config.num_masks
        if K == 1:
            return self._sample_one_mask(n, generator, on_pixel)
        which = torch.randint(K, (n,), generator=generator, device=self.device)
        out = torch.zeros(n, *self.event_shape, device=self.device)
        for k in which.unique().tolist():
            with self.using_mask(k):
                out[which == k] = self._sample_one_mask(int((which == k).sum()), generator)
        return out
