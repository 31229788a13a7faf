"""Exercises 3.1-3.4 of notebook 03 (autoencoders): the lecture's loss, PCA by hand, counting
parameters, and the lab (one training step, then training with it)."""

from __future__ import annotations

import torch

from .expect import call, require, tensor
from .registry import Wrong, exercise

NOTEBOOK = "03_autoencoders"


def _rel(a, b) -> float:
    return float((a.detach().double() - b.detach().double()).norm() / b.detach().double().norm().clamp_min(1e-12))


# ---------------------------------------------------------------- 3.1 the lecture's loss
def reference_3_1(x, x_hat):
    return ((x - x_hat) ** 2).sum()  # over pixels and over the batch


@exercise("3.1", "the lecture's loss", notebook=NOTEBOOK, minutes=4, reference=reference_3_1,
          hint="J adds up squared differences: over the pixels of each image and over the images.")
def check_3_1(l2_loss) -> str:
    gen = torch.Generator().manual_seed(31)
    for shape in [(5, 1, 28, 28), (3, 784), (2, 3, 4, 4), (1, 1, 28, 28)]:
        x = torch.rand(shape, generator=gen)
        x_hat = torch.rand(shape, generator=gen).requires_grad_()
        case = f"shape {shape}"
        got = call(l2_loss, x, x_hat, case=case)
        if torch.is_tensor(got) and got.dim() == 1 and len(got) == shape[0] > 1:
            raise Wrong(f"on {case} you return one number per image: J sums over the batch too (a scalar).")
        want = reference_3_1(x, x_hat.detach())
        if isinstance(got, float):
            raise Wrong("you return a Python float: J must stay a tensor, or no gradient can reach x_hat.")
        got = tensor(got, f"your loss on {case}", shape=())
        value = got.detach().double()
        n, per_image = shape[0], (x - x_hat.detach()).flatten(1)
        if n > 1 and torch.isclose(value, want.double() / n, rtol=1e-4):
            raise Wrong(f"on {case} you averaged over the batch (the mean): J is the sum over the batch.")
        if torch.isclose(value, want.double() / x.numel(), rtol=1e-4):
            raise Wrong(f"on {case} you took the mean per pixel (mse_loss's default): J sums over pixels.")
        if torch.isclose(value, per_image.abs().sum().double(), rtol=1e-4) or \
                torch.isclose(value, per_image.norm(dim=1).sum().double(), rtol=1e-4) or \
                torch.isclose(value, per_image.norm().double(), rtol=1e-4):
            raise Wrong(f"on {case} your differences are not squared (an absolute value or a norm ||.||, "
                        "not its square ||.||^2).")
        require(bool(torch.isclose(value, want.double(), rtol=1e-4)),
                f"on {case} your loss is {value.item():.6g}: not the sum of squared differences.")
        require(got.requires_grad, "no gradient reaches x_hat: do not detach, convert to numpy or call .item().")
        (grad,) = torch.autograd.grad(got, x_hat)
        require(torch.allclose(grad, 2 * (x_hat.detach() - x), rtol=1e-4, atol=1e-5),
                f"on {case} the gradient with respect to x_hat is not that of J.")
    return "J sums ||x_n - x_hat_n||^2 over the batch; the package's model.loss averages it (J / N)."


# ---------------------------------------------------------------- 3.2 PCA by hand
def reference_3_2(x, k):
    mean = x.mean(0)                                   # (D,): one mean per pixel
    _, _, vt = torch.linalg.svd(x - mean, full_matrices=False)
    v_k = vt[:k].T                                     # (D, k): torch returns V transposed
    return mean + (x - mean) @ v_k @ v_k.T             # (N, D)


def _pca_data(n, d, offset, gen):
    rank = min(n, d)
    q, _ = torch.linalg.qr(torch.randn(d, d, generator=gen, dtype=torch.float64))
    s = torch.linspace(6, 0.5, rank, dtype=torch.float64)  # distinct variances
    z = torch.randn(n, rank, generator=gen, dtype=torch.float64)
    z = (z - z.mean(0)) / z.std(0)
    mean = offset * (1 + torch.rand(d, generator=gen, dtype=torch.float64))
    return (mean + (z * s) @ q[:, :rank].T).float()


def _pca_variants(x, k):
    """Typical wrong reconstructions, each with what it gets wrong (computed in float64)."""
    x = x.double()
    mean = x.mean(0)
    _, _, vt = torch.linalg.svd(x - mean, full_matrices=False)
    _, _, vt_raw = torch.linalg.svd(x, full_matrices=False)
    row_mean = x.mean(1, keepdim=True)
    _, _, vt_row = torch.linalg.svd(x - row_mean, full_matrices=False)

    def around(m, v):
        return m + (x - m) @ v @ v.T

    out = [("you did not centre the data: subtract the mean image before the SVD and add it back after",
            x @ vt_raw[:k].T @ vt_raw[:k]),
           ("you centred the data but did not add the mean back to the reconstruction",
            (x - mean) @ vt[:k].T @ vt[:k]),
           ("you centred each example by its own mean (dim 1): PCA centres each coordinate by its mean "
            "over the examples (dim 0)", around(row_mean, vt_row[:k].T)),
           (f"you used {k + 1} components instead of k = {k}", around(mean, vt[:k + 1].T)),
           (f"you used {k - 1} components instead of k = {k}", around(mean, vt[:k - 1].T)),
           ("you used the last k components (the smallest singular values): the top ones come first",
            around(mean, vt[-k:].T))]
    if vt.shape[0] == vt.shape[1]:
        out.append(("you took columns of Vᵀ as the principal directions: torch.linalg.svd returns V "
                    "transposed, so the directions are its rows", around(mean, vt[:, :k])))
    return out


class _NoSklearnPCA:
    def __enter__(self):
        try:
            from sklearn.decomposition import PCA
        except ImportError:  # pragma: no cover
            self.cls = None
            return self
        self.cls, self.saved = PCA, PCA._fit

        def refuse(*args, **kwargs):
            raise Wrong("your function uses scikit-learn's PCA: this exercise is PCA by hand with "
                        "torch.linalg.svd.")

        PCA._fit = refuse
        return self

    def __exit__(self, *exc):
        if self.cls is not None:
            self.cls._fit = self.saved


@exercise("3.2", "PCA by hand", notebook=NOTEBOOK, minutes=12, points=2, reference=reference_3_2,
          hint="read torch.linalg.svd's documentation: which output holds the principal directions, "
               "and as rows or as columns? And check which mean you subtract.")
def check_3_2(pca_reconstruct) -> str:
    gen = torch.Generator().manual_seed(32)
    cases = [(300, 12, 3, 40.0), (40, 60, 5, 30.0), (200, 8, 1, 0.0), (100, 20, 7, 100.0)]
    for n, d, k, offset in cases:
        x = _pca_data(n, d, offset, gen)
        case = f"N={n}, D={d}, k={k}" + (f" (data offset by ~{offset:g})" if offset else "")
        with _NoSklearnPCA():
            got = call(pca_reconstruct, x.clone(), k, case=case)
        if torch.is_tensor(got) and got.shape == (n, k):
            raise Wrong(f"on {case} you return the codes (N, k): return the reconstruction x_hat (N, D).")
        got = tensor(got, f"your reconstruction on {case}", shape=(n, d)).double()
        want = reference_3_2(x.double(), k)
        scale = float((x.double() - x.double().mean(0)).norm())
        if float((got - want).norm()) <= 1e-4 * scale:
            continue
        for says, variant in _pca_variants(x, k):
            if float((got - variant).norm()) <= 1e-4 * scale:
                raise Wrong(f"on {case} {says}.")
        err = float(((x.double() - got) ** 2).sum())
        raise Wrong(f"on {case} your reconstruction (squared error {err:.4g}) is not the best "
                    f"k-component reconstruction around the mean.")
    return ("the best rank-k reconstruction around the mean (Eckart-Young); the linear autoencoder "
            "above learns the same subspace.")


from .autoencoders_lab import train_with_your_step  # noqa: E402,F401  (registers 3.3, 3.4)
