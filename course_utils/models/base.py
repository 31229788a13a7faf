"""The one contract every model of the course follows, written once (README, "one interface").

- `ModelConfig`: the base of every model's frozen dataclass `Config`. It checks its values when it is
  made: a `Literal[...]` field accepts only the choices it lists, and `validate()` adds ranges, so a
  value that the model does not implement is refused with a clear error instead of being ignored.
- `CourseModel(nn.Module)`: every model has `config` (its `Config`) and `device`; each model class is
  registered under its class name, the key a checkpoint's sidecar stores (so moving a class to another
  module breaks no checkpoint).
- `GenerativeModel`: `sample(n, *, generator=None) -> (n, *event_shape)`, in eval mode, repeatable with a
  seeded `torch.Generator`. GANs (no likelihood) are generative models with two losses instead of one.
- `DensityModel`: adds `log_prob(x) -> (N,)` nats, exact, and `loss(x) = -log_prob(x).mean()` (maximum
  likelihood), which `course_utils.fit` minimises.
- `LatentModel`: `encode(x) -> z (N, latent_dim)`, a point code (a VAE's posterior mean), and
  `decode(z) -> x_hat (N, *event_shape)`, the mean image E[x | z] (for image models, pixels in [0, 1]);
  `reconstruct(x) = decode(encode(x))`. Autoencoders are latent models but not generative ones: they
  have no `sample` (notebook 03's point); the VAE is both.

No `loss` changes the model's state: two calls on the same batch with the same random seed give the
same value (tests/test_contract.py checks every recipe and every model class).
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass

import torch
from torch import nn

from ..validation import module_device

__all__ = ["ModelConfig", "CourseModel", "GenerativeModel", "DensityModel", "LatentModel", "MODEL_REGISTRY",
           "model_class", "check_sample_count"]

MODEL_REGISTRY: dict[str, type] = {}  # class name -> model class: the key checkpoints store


@dataclass(frozen=True)
class ModelConfig:
    """Base of every model's `Config`: refuses values the model does not implement, when it is created."""

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):
            hint, value = hints[f.name], getattr(self, f.name)
            if typing.get_origin(hint) is typing.Literal and value not in typing.get_args(hint):
                choices = ", ".join(map(repr, typing.get_args(hint)))
                raise ValueError(f"{type(self).__qualname__}: {f.name}={value!r} is not implemented; "
                                 f"expected one of {choices}.")
        self.validate()

    def validate(self) -> None:
        """Range and consistency checks of a subclass (use `require` and `require_positive`)."""

    def require(self, ok: bool, field: str, expected: str) -> None:
        if not ok:
            raise ValueError(f"{type(self).__qualname__}: {field}={getattr(self, field)!r}; expected {expected}.")

    def require_positive(self, *fields: str) -> None:
        """Each field is a positive int, or a non-empty tuple of positive ints."""
        for field in fields:
            value = getattr(self, field)
            values = tuple(value) if isinstance(value, (tuple, list)) else (value,)
            ok = bool(values) and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values)
            self.require(ok, field, "a positive int" + (" in every entry (and at least one)" if values != (value,) else ""))


def check_sample_count(n) -> int:
    """The one check of a sample count: a positive int."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"sample(n) needs a positive int n, got {n!r}.")
    return n


def model_class(key: str) -> type:
    """The model class registered under `key` (a class name such as "MADE")."""
    if key not in MODEL_REGISTRY:
        raise KeyError(f"no course model is registered as {key!r}; known: {', '.join(sorted(MODEL_REGISTRY))}.")
    return MODEL_REGISTRY[key]


class CourseModel(nn.Module):
    """Every model: a validated `config` and a `device`; concrete classes (those that define a `Config`)
    are registered by class name."""

    Config = ModelConfig
    config: ModelConfig

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "Config" not in cls.__dict__:  # a shared base such as _Autoencoder: not a model of its own
            return
        if not issubclass(cls.Config, ModelConfig):
            raise TypeError(f"{cls.__qualname__}.Config must subclass ModelConfig (course_utils.models.base).")
        other = MODEL_REGISTRY.get(cls.__name__)
        if other is not None and (other.__module__, other.__qualname__) != (cls.__module__, cls.__qualname__):
            raise TypeError(f"two course models are called {cls.__name__} ({other.__module__} and {cls.__module__}): "
                            "checkpoints name models by class name, so names must be unique.")
        MODEL_REGISTRY[cls.__name__] = cls

    @property
    def device(self) -> torch.device:
        """Where the model's weights live (the CPU for a model without tensors)."""
        return module_device(self) or torch.device("cpu")


class GenerativeModel(CourseModel):
    """A model that draws new examples: `sample(n, *, generator=None)`."""

    @torch.no_grad()
    def sample(self, n: int, *, generator: torch.Generator | None = None, **conditions) -> torch.Tensor:
        """n new examples (n, *event_shape), drawn in eval mode (the training mode is restored after).

        generator: a seeded torch.Generator on the model's device makes the draw repeatable;
        conditions: e.g. `labels` for a class-conditional GAN.
        """
        check_sample_count(n)
        if generator is not None:
            if not isinstance(generator, torch.Generator):
                raise TypeError(f"generator must be a torch.Generator (or None), got {type(generator).__name__}.")
            if generator.device.type != self.device.type:
                raise ValueError(f"the generator is on {generator.device} but the model on {self.device}: "
                                 f"make it with torch.Generator(device={str(self.device)!r}).manual_seed(...).")
        was_training = self.training
        self.eval()
        try:
            return self._sample(n, generator, **conditions)
        finally:
            self.train(was_training)

    def _sample(self, n: int, generator: torch.Generator | None, **conditions) -> torch.Tensor:
        raise NotImplementedError


class DensityModel(GenerativeModel):
    """A generative model with an exact density: `log_prob(x)` (N,) nats; trained by maximum likelihood."""

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        """Negative mean log-likelihood in nats per example: minimising it is maximum likelihood."""
        return -self.log_prob(x).mean()


class LatentModel:
    """Mixin of the models with a code z: `encode`, `decode` and `reconstruct` with the same meaning for all."""

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """x (N, *event_shape) -> z (N, latent_dim): the code of each example (a VAE: the posterior mean)."""
        raise NotImplementedError

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z (N, latent_dim) -> x_hat (N, *event_shape): the mean image E[x | z]."""
        raise NotImplementedError

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """decode(encode(x)), (N, *event_shape)."""
        return self.decode(self.encode(x))
