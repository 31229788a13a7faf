"""Numbers the course reports: NLL in nats and bits/dim (more metrics join as the notebooks need them)."""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["bits_per_dim", "nats_from_bits_per_dim", "evaluate_nll", "MNIST_DIMS"]

MNIST_DIMS = 28 * 28


def bits_per_dim(nats, dims: int = MNIST_DIMS):
    """Negative log-likelihood per example in nats -> bits per dimension: nats / (dims * ln 2)."""
    if dims <= 0:
        raise ValueError(f"dims must be positive, got {dims}.")
    return nats / (dims * math.log(2))


def nats_from_bits_per_dim(bpd, dims: int = MNIST_DIMS):
    """Inverse of bits_per_dim: bits/dim -> nats per example."""
    if dims <= 0:
        raise ValueError(f"dims must be positive, got {dims}.")
    return bpd * dims * math.log(2)


@torch.no_grad()
def evaluate_nll(model: nn.Module, x: torch.Tensor, batch_size: int = 500, **log_prob_kwargs) -> float:
    """Mean negative log-likelihood in nats per example: -mean(model.log_prob(x, **log_prob_kwargs)).

    x: (N, ...) on any device; batches are moved to the model's device. For a VAE,
    `k=1000` asks for the IWAE estimate with 1000 importance samples.
    """
    if not hasattr(model, "log_prob"):
        raise TypeError(f"{type(model).__name__} has no log_prob(x): it is not a density model.")
    was_training = model.training
    model.eval()
    dev = next((p.device for p in model.parameters()), torch.device("cpu"))
    total = 0.0
    for i in range(0, len(x), batch_size):
        total += model.log_prob(x[i : i + batch_size].to(dev), **log_prob_kwargs).sum().item()
    model.train(was_training)
    return -total / len(x)
