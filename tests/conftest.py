import os

import pytest
import torch

# Unit tests run single-threaded: predictable speed when a notebook kernel runs beside them.
torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
