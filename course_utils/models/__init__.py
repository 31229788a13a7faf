"""The course's models, one module per family; every model is a plain torch.nn.Module.

The one contract they share is written once in `base.py` (ModelConfig, CourseModel, GenerativeModel,
DensityModel, LatentModel). Importing this package imports every family, so that `MODEL_REGISTRY`
knows every model class by the name a checkpoint's sidecar stores.
"""

from . import (  # noqa: F401
    autoencoders,
    autoregressive,
    density,
    features,
    flows,
    gans,
    gated_pixelcnn,
    image_to_image,
    made,
    next_frame,
    pixel_models,
    vae,
)
from .base import MODEL_REGISTRY, model_class
from .gated_pixelcnn import GatedPixelCNN

__all__ = ["MODEL_REGISTRY", "model_class", "GatedPixelCNN"]
