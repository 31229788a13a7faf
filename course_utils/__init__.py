"""course_utils: the models, training loop and helpers behind the deep generative models course.

Notebooks import from here; the package holds every model and loop, the notebooks hold the
story, the math and the experiments. Start with `setup_notebook()`.
"""

from .checkpoints import load_or_train, load_pretrained
from .data import binarized_mnist_test, dynamic_binarize, load_fashion_mnist, load_mnist
from .metrics import bits_per_dim, evaluate_nll
from .runtime import device, seed_everything, set_threads, setup_notebook
from .source import show
from .train import History, TrainingDiverged, fit

__version__ = "0.1.0"

__all__ = [
    "setup_notebook", "seed_everything", "device", "set_threads", "show", "fit", "History", "TrainingDiverged",
    "load_mnist", "load_fashion_mnist", "binarized_mnist_test", "dynamic_binarize", "bits_per_dim",
    "evaluate_nll", "load_pretrained", "load_or_train", "__version__",
]
