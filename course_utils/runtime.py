"""Seeds, device and threads (the first code cell of every notebook calls `setup_notebook`), and `say`.

Re-running a notebook top to bottom from a fresh kernel must print the same numbers on the
same machine, so every random generator the course touches is seeded here.
"""

from __future__ import annotations

import os
import random
import textwrap

import numpy as np
import torch

__all__ = ["seed_everything", "device", "default_threads", "set_threads", "setup_notebook", "say", "WIDTH"]


WIDTH = 80  # printed lines fit a projected slide, like the notebooks' code lines


def say(text: str) -> None:
    """Print a message wrapped at WIDTH characters (continuation lines indented), e.g. a live cell's notice."""
    print("\n".join(textwrap.fill(part, WIDTH, subsequent_indent="  ") for part in str(text).split("\n")))


def seed_everything(seed: int = 0) -> None:
    """Seed Python, NumPy and PyTorch (CPU and every GPU)."""
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__} ({seed!r}); pass e.g. seed_everything(0).")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def device(prefer: str | None = None) -> torch.device:
    """The device the course trains on: CUDA, then Apple's MPS, then the CPU.

    `prefer="cpu"` (or the environment variable COURSE_DEVICE=cpu) forces a device, e.g. to
    reproduce the committed notebook outputs, which were made on a CPU.
    """
    prefer = prefer or os.environ.get("COURSE_DEVICE")
    if prefer:
        try:
            return torch.device(prefer)
        except RuntimeError as err:
            raise ValueError(f"unknown device {prefer!r}: expected 'cpu', 'cuda', 'cuda:0' or 'mps'.") from err
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def default_threads(cores: int | None = None) -> int:
    """All cores but one, at most 4 (at least 1): one core stays free for the browser, Jupyter and the rest.

    Why not every core: when torch has as many threads as there are cores and any other process needs a
    core, each step waits for its slowest thread. Measured on the course's 2-core reference machine (DCGAN
    training steps per second, batch 64): 1 thread 12.0 alone, 11.9 beside one busy process, 7.6 beside two;
    2 threads 19.7 alone but 2.4 beside one busy process and 8.3 beside two. One spare core costs at most
    1.6x when the machine is quiet and saves up to 5x when it is not.
    """
    cores = cores if cores is not None else (os.cpu_count() or 1)
    return max(1, min(4, cores - 1))


TRAIN_CAP_ENV = "COURSE_MAX_TRAIN_SECONDS"


def capped_seconds(seconds: float | None) -> float | None:
    """A training loop's wall-clock cap, lowered to COURSE_MAX_TRAIN_SECONDS when that is set.

    CI sets it to run the student edition quickly: every live training cell is then cut short and the
    notebook must go on with its shipped checkpoints, the path a student on a slow or busy machine takes.
    """
    env = os.environ.get(TRAIN_CAP_ENV)
    if not env:
        return seconds
    try:
        cap = float(env)
    except ValueError:
        raise ValueError(f"{TRAIN_CAP_ENV} must be a number of seconds, got {env!r}.") from None
    if cap <= 0:
        raise ValueError(f"{TRAIN_CAP_ENV} must be positive, got {env!r}: unset it to train without a cap.")
    return cap if seconds is None else min(seconds, cap)


SAMPLE_CAP_ENV = "COURSE_MAX_SAMPLES"


def capped_samples(n: int) -> int:
    """How many samples a sample-quality measurement draws: n, lowered to COURSE_MAX_SAMPLES when that is set.

    CI sets it for the student edition, whose notebooks repeat the instructor notebooks' measurements: the same
    code on fewer samples (noisier numbers, the same claims). Unset, every measurement uses n.
    """
    env = os.environ.get(SAMPLE_CAP_ENV)
    if not env:
        return n
    if not env.isdigit() or int(env) < 1:
        raise ValueError(f"{SAMPLE_CAP_ENV} must be a positive whole number of samples, got {env!r}: unset it to "
                         f"draw {n}.")
    return min(n, int(env))


def set_threads(n: int | None = None, *, fallback: int | None = None) -> int:
    """Set PyTorch's CPU threads and return the number used.

    Default: the OMP_NUM_THREADS environment variable if set, else `fallback`, else `default_threads()` (all
    cores but one, at most 4). Parallel test runs set OMP_NUM_THREADS=1 per notebook kernel.
    """
    if n is None:
        env = os.environ.get("OMP_NUM_THREADS")
        n = int(env) if env and env.isdigit() and int(env) > 0 else (fallback or default_threads())
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"threads must be a positive int, got {n!r}.")
    torch.set_num_threads(n)
    return n


def setup_notebook(seed: int = 0, threads: int | None = None, presenting: bool = False) -> torch.device:
    """Seed everything, set threads, choose the device and the plotting style; print a one-line summary."""
    seed_everything(seed)
    n = set_threads(threads)
    dev = device()
    from .plotting import use_course_style

    use_course_style(presenting=presenting)
    print(f"torch {torch.__version__} | device: {dev} | threads: {n} | seed: {seed}")
    return dev
