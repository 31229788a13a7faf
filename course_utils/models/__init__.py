"""The course's models, one module per family; every model is a plain torch.nn.Module.

The one contract they share is written once in `base.py` (ModelConfig, CourseModel, GenerativeModel,
DensityModel, LatentModel). Importing this package imports every family, so that `MODEL_REGISTRY`
knows every model class by the name a checkpoint's sidecar stores.
"""

from . import autoencoders, autoregressive, density, features, flows, gans, made, pixel_models, vae  # noqa: F401
from .base import MODEL_REGISTRY, model_class

__all__ = ["MODEL_REGISTRY", "model_class"]
