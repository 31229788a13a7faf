"""Wrong answers of notebook 03's exercises (autoencoders)."""

import torch
from torch.nn import functional as F

from . import Mistake


def _svd(x):
    return torch.linalg.svd(x, full_matrices=False)


def _pca(centre="dim0", add_back=True, rows=True, k_shift=0, last=False):
    def pca_reconstruct(x, k):
        mean = x.mean(0) if centre == "dim0" else x.mean(1, keepdim=True) if centre == "dim1" else 0 * x[0]
        _, _, vt = _svd(x - mean)
        if last:
            v = vt[-k:].T
        else:
            v = vt[:k + k_shift].T if rows else vt[:, :k + k_shift]
        return (mean if add_back else 0) + (x - mean) @ v @ v.T
    return pca_reconstruct


def _sklearn_pca(x, k):
    from sklearn.decomposition import PCA

    pca = PCA(k).fit(x.numpy())
    return torch.from_numpy(pca.inverse_transform(pca.transform(x.numpy())))


def _codes(x, k):
    mean = x.mean(0)
    return (x - mean) @ _svd(x - mean)[2][:k].T


def _count(bias=True, decoder=True, encoder=True):
    def count_parameters(widths):
        back = widths[::-1]
        layers = (list(zip(widths[:-1], widths[1:])) if encoder else []) + \
                 (list(zip(back[:-1], back[1:])) if decoder else [])
        return sum(a * b + b * bias for a, b in layers)
    return count_parameters


def _twice_encoder(widths):
    return 2 * sum(a * b + b for a, b in zip(widths[:-1], widths[1:]))


def _step(zero=True, zero_late=False, backward=True, step=True, reduce="mean", ret="item", sign=1,
          step_first=False, eval_mode=False):
    def train_step(model, optimizer, x):
        if zero:
            optimizer.zero_grad()
        if eval_mode:
            model.eval()
        x_hat = model.reconstruct(x)
        err = ((x - x_hat) ** 2)
        loss = {"mean": err.flatten(1).sum(1).mean(), "sum": err.sum(), "pixel": F.mse_loss(x_hat, x)}[reduce]
        if step_first:
            optimizer.step()
        if backward:
            (sign * loss).backward()
        if zero_late:
            optimizer.zero_grad()
        if step and not step_first:
            optimizer.step()
        if ret == "after":
            with torch.no_grad():
                return ((x - model.reconstruct(x)) ** 2).flatten(1).sum(1).mean().item()
        return {"item": loss.item(), "tensor": loss, "none": None}[ret]
    return train_step


MISTAKES = {
    "3.1": [Mistake("mean over the batch", lambda: lambda x, x_hat: ((x - x_hat) ** 2).flatten(1).sum(1).mean(),
                    "averaged over the batch"),
            Mistake("per-pixel mean (mse_loss)", lambda: lambda x, x_hat: F.mse_loss(x_hat, x), "per pixel"),
            Mistake("one number per image", lambda: lambda x, x_hat: ((x - x_hat) ** 2).flatten(1).sum(1),
                    "one number per image"),
            Mistake("not squared", lambda: lambda x, x_hat: (x - x_hat).abs().sum(), "not squared"),
            Mistake("norms not squared", lambda: lambda x, x_hat: (x - x_hat).flatten(1).norm(dim=1).sum(),
                    "not squared"),
            Mistake("a Python float", lambda: lambda x, x_hat: ((x - x_hat) ** 2).sum().item(), "python float"),
            Mistake("detached", lambda: lambda x, x_hat: ((x - x_hat.detach()) ** 2).sum(), "no gradient")],
    "3.2": [Mistake("no centring", lambda: _pca(centre="none"), "did not centre"),
            Mistake("mean not added back", lambda: _pca(add_back=False), "add the mean back"),
            Mistake("centring each image by its own mean", lambda: _pca(centre="dim1"), "its own mean"),
            Mistake("columns of V transposed", lambda: _pca(rows=False), "transposed"),
            Mistake("k + 1 components", lambda: _pca(k_shift=1), "components instead of k"),
            Mistake("the smallest components", lambda: _pca(last=True), "last k components"),
            Mistake("scikit-learn", lambda: _sklearn_pca, "scikit-learn"),
            Mistake("the codes, not the reconstruction", lambda: _codes, "codes")],
    "3.3": [Mistake("forgotten biases", lambda: _count(bias=False), "biases"),
            Mistake("encoder only", lambda: _count(decoder=False), "encoder only"),
            Mistake("encoder twice", lambda: _twice_encoder, "encoder twice"),
            Mistake("the 784-pixel model only", lambda: lambda widths: 410_912, "you counted 410,912")],
    "3.4": [Mistake("gradients never zeroed", lambda: _step(zero=False), "zero them before backward"),
            Mistake("no backward", lambda: _step(backward=False), "no gradient was computed"),
            Mistake("no step", lambda: _step(step=False), "step must come after backward"),
            Mistake("step before backward", lambda: _step(step_first=True), "step must come after backward"),
            Mistake("zeroed after backward", lambda: _step(zero_late=True), "zeroed after backward"),
            Mistake("summed over the batch", lambda: _step(reduce="sum"), "summed over the batch"),
            Mistake("per-pixel mean", lambda: _step(reduce="pixel"), "per-pixel"),
            Mistake("gradient ascent", lambda: _step(sign=-1), "uphill"),
            Mistake("returns the graph", lambda: _step(ret="tensor"), "holds the graph"),
            Mistake("returns nothing", lambda: _step(ret="none"), "returns none"),
            Mistake("loss after the step", lambda: _step(ret="after"), "after the step"),
            Mistake("eval mode", lambda: _step(eval_mode=True), "eval mode")],
}

def _package_loss_step(model, optimizer, x):
    optimizer.zero_grad()
    loss = model.loss(x)  # the package's J / N
    loss.backward()
    optimizer.step()
    return loss.detach()


ALSO_RIGHT = {
    "3.1": [lambda: lambda x, x_hat: F.mse_loss(x_hat, x, reduction="sum")],
    "3.2": [lambda: _pca(rows=True)],
    "3.3": [lambda: lambda widths: 2 * sum(a * b for a, b in zip(widths[:-1], widths[1:])) + sum(widths[1:])
            + sum(widths[:-1])],
    "3.4": [lambda: _package_loss_step],
}
