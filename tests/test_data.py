import shutil

import pytest
import torch

from course_utils import data


def test_mnist_split_sizes_shapes_and_range():
    x, y = data.load_mnist("train")
    xt, yt = data.load_mnist("test")
    assert x.shape == (8000, 1, 28, 28) and y.shape == (8000,)
    assert xt.shape == (2000, 1, 28, 28) and yt.shape == (2000,)
    assert x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1
    # the official first training labels of MNIST
    assert y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    # train and test do not overlap: they are rows 0-7,999 and 8,000-9,999 of the same file
    xa, _ = data.load_mnist("all")
    assert torch.equal(xa[:8000], x) and torch.equal(xa[8000:], xt)


def test_fashion_mnist_official_split():
    x, y = data.load_fashion_mnist("train")
    xt, yt = data.load_fashion_mnist("test")
    assert x.shape == (60000, 1, 28, 28) and xt.shape == (10000, 1, 28, 28)
    assert torch.bincount(yt).tolist() == [1000] * 10


def test_fixed_binarization_is_binary_reproducible_and_follows_grey_levels():
    a, _ = data.binarized_mnist_test()
    b, _ = data.binarized_mnist_test()
    grey, _ = data.load_mnist("test")
    assert torch.equal(a, b)
    assert set(a.unique().tolist()) <= {0.0, 1.0}
    assert a[grey == 0].sum() == 0 and a[grey == 1].min() == 1  # certain pixels stay certain
    assert abs(a.mean().item() - grey.mean().item()) < 2e-3


def test_dynamic_binarization_differs_per_call_and_matches_in_mean():
    x, _ = data.load_mnist("train")
    x = x[:500]
    a, b = data.dynamic_binarize(x), data.dynamic_binarize(x)
    assert not torch.equal(a, b)
    assert set(a.unique().tolist()) <= {0.0, 1.0}
    assert abs(a.mean().item() - x.mean().item()) < 3e-3


@pytest.mark.parametrize("bad, message", [
    (torch.zeros(2, 3, dtype=torch.uint8), "float tensor"),
    (torch.full((2, 3), 255.0), "Divide uint8 images by 255"),
])
def test_dynamic_binarize_rejects_bad_input(bad, message):
    with pytest.raises((TypeError, ValueError), match=message):
        data.dynamic_binarize(bad)


def test_checksums_verify():
    checked = data.verify_data_files()
    assert set(checked) == set(data.DATA_FILES)


def test_missing_file_names_file_checksum_and_fix(tmp_path):
    with pytest.raises(data.DataFileError) as err:
        data.load_mnist("train", root=tmp_path)
    msg = str(err.value)
    assert "train10k-images-idx3-ubyte.gz" in msg and data.DATA_FILES["mnist/train10k-images-idx3-ubyte.gz"] in msg
    assert "git checkout" in msg


def test_corrupt_file_is_refused(tmp_path):
    (tmp_path / "mnist").mkdir()
    for rel in ["mnist/train10k-images-idx3-ubyte.gz", "mnist/train10k-labels-idx1-ubyte.gz"]:
        shutil.copy(data.DATA_DIR / rel, tmp_path / rel)
    with open(tmp_path / "mnist/train10k-labels-idx1-ubyte.gz", "r+b") as f:
        f.seek(100)
        f.write(b"\x00\x01\x02")
    with pytest.raises(data.DataFileError, match="corrupt.*expected"):
        data.load_mnist("test", root=tmp_path)


def test_unknown_split():
    with pytest.raises(ValueError, match="expected one of 'train', 'test', 'all'"):
        data.load_mnist("validation")


def test_toy_distributions():
    ring = data.ring_of_gaussians()
    x = ring.sample((4000,))
    assert x.shape == (4000, 2)
    assert torch.allclose(x.norm(dim=1).mean(), torch.tensor(2.0), atol=0.01)
    grid = data.grid_of_gaussians()
    means = grid.component_distribution.base_dist.loc
    assert means.shape == (25, 2) and means.min() == -4 and means.max() == 4
    # true density integrates to ~1 over a fine grid
    from course_utils.plotting import grid_points

    n = 400
    _, _, pts = grid_points((-3, 3), (-3, 3), n)
    cell = (6 / (n - 1)) ** 2
    total = ring.log_prob(pts).exp().sum().item() * cell
    assert abs(total - 1) < 0.02
    moons = data.two_moons(500)
    assert moons.shape == (500, 2) and moons.abs().max() < 3.5


def test_loader_is_seeded():
    x = torch.arange(20.0).view(20, 1)
    a = torch.cat([b[0] for b in data.make_loader(x, batch_size=5, seed=3)])
    b = torch.cat([b[0] for b in data.make_loader(x, batch_size=5, seed=3)])
    assert torch.equal(a, b) and sorted(a.view(-1).tolist()) == list(range(20))
