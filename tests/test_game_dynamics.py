"""course_utils.game_dynamics: the bilinear game's three behaviours and the disjoint-support argument."""

import math

import pytest
import torch

from course_utils.game_dynamics import (
    METHODS,
    bilinear_game,
    disjoint_support,
    distance_to_equilibrium,
    extragradient_factor,
    js_of_uniforms,
    spiral_factor,
    update_matrix,
)


@pytest.mark.parametrize("method", METHODS)
def test_trajectory_shape_and_start(method):
    path = bilinear_game(method, steps=7, lr=0.2, start=(0.5, -1.0))
    assert path.shape == (8, 2) and path.dtype == torch.float64
    assert path[0].tolist() == [0.5, -1.0]
    assert distance_to_equilibrium(path).shape == (8,)


@pytest.mark.parametrize("lr", [0.05, 0.1, 0.3])
def test_simultaneous_spirals_out_by_the_derived_factor(lr):
    dist = distance_to_equilibrium(bilinear_game("simultaneous", steps=50, lr=lr))
    ratios = dist[1:] / dist[:-1]
    torch.testing.assert_close(ratios, torch.full_like(ratios, math.sqrt(1 + lr ** 2)))
    assert spiral_factor(lr) == pytest.approx(math.sqrt(1 + lr ** 2))


@pytest.mark.parametrize("method, factor", [("simultaneous", spiral_factor), ("extragradient", extragradient_factor)])
def test_eigenvalues_of_the_update_are_the_derived_factors(method, factor):
    eig = torch.linalg.eigvals(update_matrix(method, 0.3)).abs()
    torch.testing.assert_close(eig, torch.full((2,), factor(0.3), dtype=torch.float64))


def test_update_matrix_is_one_step_of_the_game():
    for method in METHODS[:3]:
        path = bilinear_game(method, steps=1, lr=0.25, start=(0.3, 0.7))
        torch.testing.assert_close(update_matrix(method, 0.25) @ path[0], path[1])


def test_alternating_circles_bounded_and_does_not_converge():
    dist = distance_to_equilibrium(bilinear_game("alternating", steps=2000, lr=0.1))
    assert dist.max() < 1.1 * dist[0]  # bounded: a closed curve (det = 1, |eigenvalues| = 1)
    assert dist[-200:].min() > 0.9 * dist[0]  # ... but never closer to (0, 0)
    assert torch.linalg.det(update_matrix("alternating", 0.1)).item() == pytest.approx(1.0)


@pytest.mark.parametrize("method", ["extragradient", "optimistic"])
def test_extragradient_and_optimism_converge(method):
    dist = distance_to_equilibrium(bilinear_game(method, steps=2000, lr=0.1))
    assert dist[-1] < 1e-3 * dist[0]


def test_extragradient_contracts_by_the_derived_factor():
    dist = distance_to_equilibrium(bilinear_game("extragradient", steps=30, lr=0.2))
    ratios = dist[1:] / dist[:-1]
    torch.testing.assert_close(ratios, torch.full_like(ratios, extragradient_factor(0.2)))
    assert extragradient_factor(0.2) < 1 < extragradient_factor(1.5)  # a contraction for lr < 1 only


def test_disjoint_support_gradients():
    r = disjoint_support(theta=2.0)
    assert r.steps.tolist() == [0, 1, 10, 100, 1_000, 10_000, 100_000]
    assert r.value[0].item() == pytest.approx(-math.log(4))  # D = 1/2: V = -log 4
    assert torch.all(r.value[1:] > r.value[:-1]) and -1e-3 < r.value[-1] < 0  # V -> 0 = -log 4 + 2 log 2
    assert r.d_real[-1] > 0.999 and r.d_fake[-1] < 1e-3
    sat, ns = r.grad_saturating.abs(), r.grad_non_saturating.abs()
    assert sat[-1] < 0.01 * sat.max()  # vanishes as D wins
    assert torch.all(ns[1:] > ns[:-1]) and ns[-1] > 1  # the non-saturating one grows
    torch.testing.assert_close(r.grad_wasserstein[2:], torch.full((5,), 1 + 2.0 / 20, dtype=torch.float64))


def test_the_two_generator_gradients_differ_by_the_odds_of_d():
    # d/dtheta log(1 - D) = -D w and d/dtheta -log D = -(1 - D) w: their ratio is (1 - D) / D at theta
    r = disjoint_support(theta=-1.5, checkpoints=(3, 50, 500))
    odds = (1 - r.d_fake) / r.d_fake
    torch.testing.assert_close(r.grad_non_saturating / r.grad_saturating, odds)
    assert torch.all(r.grad_saturating < 0)  # theta < 0: descent pushes G to the right, towards the data
    assert r.grad_wasserstein[-1].item() == pytest.approx(-(1 + 1.5 / 20))  # |f'| = 1 + |theta| / (2 gp_weight)


def test_js_of_uniforms_is_stuck_at_log_2_once_disjoint():
    js = js_of_uniforms(torch.tensor([0.0, 0.25, 0.5, 1.0, -3.0]), width=0.5)
    torch.testing.assert_close(js, math.log(2) * torch.tensor([0.0, 0.5, 1.0, 1.0, 1.0], dtype=torch.float64))


@pytest.mark.parametrize("call, match", [
    (lambda: bilinear_game("adam"), "unknown method 'adam'"),
    (lambda: bilinear_game("simultaneous", steps=0), "steps must be a positive int"),
    (lambda: bilinear_game("simultaneous", steps=2.5), "steps must be a positive int"),
    (lambda: bilinear_game("simultaneous", lr=-0.1), "lr must be a finite number > 0"),
    (lambda: bilinear_game("simultaneous", lr=float("nan")), "lr must be a finite number > 0"),
    (lambda: bilinear_game("simultaneous", start=(1.0,)), "start must be two numbers"),
    (lambda: bilinear_game("simultaneous", start=(1.0, float("inf"))), "start must be finite"),
    (lambda: update_matrix("optimistic", 0.1), "4x4 map"),
    (lambda: distance_to_equilibrium(torch.zeros(5, 3)), r"shape \(steps \+ 1, 2\), got \(5, 3\)"),
    (lambda: disjoint_support(theta=0.0), "theta must be a finite number != 0"),
    (lambda: disjoint_support(checkpoints=(10, 5)), "checkpoints must be increasing ints"),
    (lambda: disjoint_support(checkpoints=()), "checkpoints must be increasing ints"),
    (lambda: disjoint_support(lr=0), "lr must be a finite number > 0"),
    (lambda: js_of_uniforms(1.0, width=0), "width must be > 0"),
])
def test_bad_arguments_get_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
