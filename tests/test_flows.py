"""The coupling flow: invertibility, log-determinant against autograd, normalisation."""

import pytest
import torch

from course_utils.models.flows import CouplingFlow


def _random_flow(dim=2, layers=4):
    flow = CouplingFlow(CouplingFlow.Config(dim=dim, layers=layers, hidden=16))
    with torch.no_grad():
        for p in flow.parameters():
            p.add_(torch.randn_like(p) * 0.3)
    return flow


@pytest.mark.parametrize("dim", [2, 3, 5])
def test_inverse_undoes_forward(dim):
    flow = _random_flow(dim)
    x = torch.randn(64, dim) * 2
    z, _ = flow(x)
    assert torch.allclose(flow.inverse(z), x, atol=1e-5)


@pytest.mark.parametrize("dim", [2, 3])
def test_log_det_equals_autograd_jacobian(dim):
    flow = _random_flow(dim).double()
    x = torch.randn(10, dim, dtype=torch.float64)
    _, log_det = flow(x)
    for i in range(len(x)):
        J = torch.autograd.functional.jacobian(lambda v: flow(v[None])[0][0], x[i])
        assert log_det[i].item() == pytest.approx(torch.linalg.slogdet(J)[1].item(), abs=1e-8)


def test_density_integrates_to_one():
    flow = _random_flow(2)
    g = torch.linspace(-8, 8, 401)
    pts = torch.cartesian_prod(g, g)
    with torch.no_grad():
        mass = flow.log_prob(pts).exp().sum().item() * (g[1] - g[0]).item() ** 2
    assert mass == pytest.approx(1.0, abs=0.02)


def test_sample_shape_and_errors():
    flow = _random_flow(2)
    assert flow.sample(5).shape == (5, 2)
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        flow.log_prob(torch.zeros(5, 3))
    with pytest.raises(ValueError, match="NaN or inf"):
        flow.log_prob(torch.tensor([[float("nan"), 0.0]]))
