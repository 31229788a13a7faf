"""Next-frame prediction (notebook 07): moving-digit sequences, the two predictors, their measures and checkpoints."""

import pytest
import torch

from course_utils import checkpoints
from course_utils.data import load_mnist
from course_utils.models.next_frame import (
    L2FramePredictor,
    StochasticFramePredictor,
    apply_kernel,
    frame_correlation,
)
from course_utils.moving_digits import (
    DIGIT,
    best_of_k_mse,
    copy_last_frame,
    moving_digits,
    next_frame_pairs,
    per_step_mse,
    rollout_report,
    sharpness,
)
from course_utils.train_video import fit_next_frame

SMALL = dict(size=32, channels=4, hidden=16, max_shift=2)  # a 32x32 frame leaves a digit 4 px to move


@pytest.fixture(scope="module")
def seqs():
    return moving_digits(200, 12, size=48, turn_probability=0.3, seed=3)


def small(cls):
    torch.manual_seed(0)
    return cls(cls.Config(**SMALL))


def small_sequences(n=8, length=4, seed=0):
    return moving_digits(n, length, size=32, speed=(1, 2), seed=seed).frames


# ---------------------------------------------------------------- the generator's physics

def test_the_digit_stays_whole_inside_the_frame(seqs):
    room = 48 - DIGIT
    assert seqs.frames.shape == (200, 12, 1, 48, 48) and seqs.frames.dtype == torch.float32
    assert seqs.positions.min() >= 0 and seqs.positions.max() <= room
    digits = load_mnist("train")[0][seqs.digits]  # (N, 1, 28, 28)
    for n in range(0, 200, 37):
        for t in range(12):
            r, c = seqs.positions[n, t].tolist()
            frame = seqs.frames[n, t, 0]
            assert torch.equal(frame[r:r + DIGIT, c:c + DIGIT], digits[n, 0]), "the frame shows the digit at its position"
            outside = frame.clone()
            outside[r:r + DIGIT, c:c + DIGIT] = 0
            assert outside.abs().max() == 0, "nothing outside the digit's box"


def test_motion_bounces_and_keeps_its_speed(seqs):
    pos, vel, turned = seqs.positions, seqs.velocities, seqs.turned
    room = 48 - DIGIT
    speed = vel.abs()
    assert torch.equal(speed, speed[:, :1].expand_as(speed)), "constant speed, the same along both axes"
    assert speed.min() >= 2 and speed.max() <= 4
    assert not turned[:, 0].any() and turned.any() and not turned.all()
    bounces = 0
    for t in range(11):
        keep = ~turned[:, t + 1]  # no new direction drawn on the way into frame t + 1
        moved = pos[:, t] + vel[:, t]
        outside = (moved < 0) | (moved > room)
        expected_velocity = torch.where(outside, -vel[:, t], vel[:, t])
        expected_position = torch.where(moved < 0, -moved, torch.where(moved > room, 2 * room - moved, moved))
        assert torch.equal(vel[keep, t + 1], expected_velocity[keep]), "a bounce reverses that velocity component"
        assert torch.equal(pos[keep, t + 1], expected_position[keep]), "a bounce mirrors the position inside"
        bounces += int(outside[keep].sum())
    assert bounces > 50, "the test must see bounces"
    straight = moving_digits(50, 10, turn_probability=0.0, seed=1)
    assert not straight.turned.any()
    changed = straight.velocities[:, 1:] != straight.velocities[:, :-1]
    moved = straight.positions[:, :-1] + straight.velocities[:, :-1]
    assert torch.equal(changed, (moved < 0) | (moved > room)), "without turns, only bounces change the velocity"


def test_sequences_are_seeded_and_splits_use_different_digits():
    a, b = moving_digits(30, 5, seed=7), moving_digits(30, 5, seed=7)
    assert torch.equal(a.frames, b.frames) and torch.equal(a.positions, b.positions)
    assert not torch.equal(a.frames, moving_digits(30, 5, seed=8).frames)
    test = moving_digits(30, 5, split="test", seed=7)
    assert test.split == "test" and torch.equal(test.labels, load_mnist("test")[1][test.digits])
    train_images = {bytes(x.numpy()) for x in load_mnist("train")[0][a.digits, 0]}
    test_images = {bytes(x.numpy()) for x in load_mnist("test")[0][test.digits, 0]}
    assert not train_images & test_images
    assert len(set(moving_digits(100, 1, split="test").digits.tolist())) == 100, "each digit once before repeats"


@pytest.mark.parametrize("kwargs, match", [
    (dict(n=-1, length=3), "n must be an int >= 1"),
    (dict(n=2.5, length=3), "n must be an int"),
    (dict(n=2, length=0), "length must be an int >= 1"),
    (dict(n=2, length=3, size=20), "must hold a 28x28 digit"),
    (dict(n=2, length=3, size=28), "no room to move"),
    (dict(n=2, length=3, speed=(3, 2)), "speed must be a pair"),
    (dict(n=2, length=3, size=30, speed=(1, 3)), "speed must be a pair"),
    (dict(n=2, length=3, turn_probability=1.5), "turn_probability"),
    (dict(n=2, length=3, split="val"), "unknown split"),
])
def test_bad_generator_arguments_get_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        moving_digits(**kwargs)


def test_next_frame_pairs_cut_every_window():
    frames = small_sequences(3, 5)
    past, following = next_frame_pairs(frames, 2)
    assert past.shape == (9, 2, 1, 32, 32) and following.shape == (9, 1, 32, 32)
    assert torch.equal(past[4], frames[1, 1:3]) and torch.equal(following[4], frames[1, 3])
    with pytest.raises(ValueError, match="context < T"):
        next_frame_pairs(frames, 5)


# ---------------------------------------------------------------- the predictors

def test_a_kernel_moves_the_frame_and_the_correlation_finds_the_motion(seqs):
    before, after = seqs.frames[:6, 0], seqs.frames[:6, 1]
    moved = seqs.positions[:6, 1] - seqs.positions[:6, 0]
    kernel = torch.zeros(6, 1, 9, 9)
    kernel[torch.arange(6), 0, 4 + moved[:, 0], 4 + moved[:, 1]] = 1
    torch.testing.assert_close(apply_kernel(before, kernel), after)
    scores = frame_correlation(before[:, 0], after[:, 0], 4)
    assert torch.equal(scores.argmax(1), (4 + moved[:, 0]) * 9 + 4 + moved[:, 1])
    shifted = StochasticFramePredictor().shifted_frames(before)  # every candidate, in the kernel's order
    torch.testing.assert_close(shifted[torch.arange(6), (4 + moved[:, 0]) * 9 + 4 + moved[:, 1]], after[:, 0])


@pytest.mark.parametrize("cls", [L2FramePredictor, StochasticFramePredictor])
def test_shapes_ranges_and_conditioning(cls):
    model = small(cls)
    frames = small_sequences(6, 4)
    past = frames[:, :3]  # longer than the context: the last 2 frames are used
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    prediction = model.predict(past, generator=g())
    assert prediction.shape == (6, 1, 32, 32) and 0 <= prediction.min() and prediction.max() <= 1
    torch.testing.assert_close(model.predict(past[:, 1:], generator=g()), prediction)
    rollout = model.rollout(past, 4, generator=g())
    assert rollout.shape == (6, 4, 1, 32, 32)
    torch.testing.assert_close(rollout[:, 0], prediction)
    kernel = model.motion_kernel(past, generator=g())
    assert kernel.shape == (6, 1, 5, 5)
    torch.testing.assert_close(kernel.sum((1, 2, 3)), torch.ones(6))
    other = torch.roll(past, 1, 0)  # each sequence gets another one's past
    assert not torch.allclose(model.predict(other, generator=g()), prediction), "the prediction depends on the past"
    model.train()
    model.predict(past)
    assert model.training, "predict restores the training mode"


def test_seeded_sampling_repeats_and_differs_with_another_seed():
    model = small(StochasticFramePredictor)
    past = small_sequences(8, 3)[:, :2]
    draw = lambda seed: model.rollout(past, 3, generator=torch.Generator().manual_seed(seed))  # noqa: E731
    a, b, c = draw(0), draw(0), draw(1)
    assert torch.equal(a, b) and not torch.equal(a, c)
    one_hot = model.motion_kernel(past, generator=torch.Generator().manual_seed(0)).flatten(1)
    assert torch.equal(one_hot.max(1).values, torch.ones(8)) and torch.equal(one_hot.sum(1), torch.ones(8))
    l2 = small(L2FramePredictor)
    assert torch.equal(l2.predict(past), l2.predict(past, generator=torch.Generator().manual_seed(5)))


def test_the_stochastic_model_is_exact_maximum_likelihood():
    model = small(StochasticFramePredictor)
    frames = small_sequences(5, 3)
    past, following = frames[:, :2], frames[:, 2]
    log_prob = model.log_prob(past, following)
    assert log_prob.shape == (5,)
    torch.testing.assert_close(model.loss(past, following), -log_prob.mean())
    posterior = model.posterior(past, following).flatten(1)  # exact Bayes: the true displacement wins
    moved = moving_digits(5, 3, size=32, speed=(1, 2), seed=0).positions.diff(dim=1)[:, 1]
    assert torch.equal(posterior.argmax(1), (2 + moved[:, 0]) * 5 + 2 + moved[:, 1])


@pytest.mark.parametrize("cls", [L2FramePredictor, StochasticFramePredictor])
def test_loss_has_no_hidden_state(cls):
    model = small(cls).train()
    frames = small_sequences(4, 3)
    values = []
    for _ in range(2):
        torch.manual_seed(7)
        values.append(model.loss(frames[:, :2], frames[:, 2]).detach())
    assert torch.equal(values[0], values[1])
    assert not list(model.buffers())


@pytest.mark.parametrize("cls, field, value, match", [
    (L2FramePredictor, "size", 36, "a multiple of 8"),
    (L2FramePredictor, "context", 1, "at least 2 frames"),
    (L2FramePredictor, "max_shift", 0, "positive int"),
    (L2FramePredictor, "max_shift", 30, "no wider than size"),
    (L2FramePredictor, "hidden", 0, "positive int"),
    (StochasticFramePredictor, "obs_std", 0.0, "positive pixel noise"),
    (StochasticFramePredictor, "channels", -4, "positive int"),
])
def test_config_rejects_what_is_not_implemented(cls, field, value, match):
    with pytest.raises(ValueError, match=match):
        cls.Config(**{field: value})


@pytest.mark.parametrize("cls", [L2FramePredictor, StochasticFramePredictor])
def test_bad_inputs_get_clear_errors(cls):
    model = small(cls)
    frames = small_sequences(4, 3)
    past, following = frames[:, :2], frames[:, 2]
    with pytest.raises(ValueError, match=r"past of shape \(N, \*, 1, 32, 32\)"):
        model.predict(past[:, :, 0])
    with pytest.raises(ValueError, match="last 2 frames but past has 1"):
        model.predict(past[:, :1])
    with pytest.raises(ValueError, match="pixels in"):
        model.predict(past * 255)
    with pytest.raises(ValueError, match="NaN"):
        model.loss(past.clone().fill_(float("nan")), following)
    with pytest.raises(ValueError, match="one next frame per past"):
        model.loss(past, following[:3])
    with pytest.raises(ValueError, match="next of shape"):
        model.loss(past, following[:, 0])
    with pytest.raises(ValueError, match="positive int number of steps"):
        model.rollout(past, 0)
    with pytest.raises(TypeError, match="torch.Generator"):
        model.predict(past, generator=0)
    with pytest.raises(TypeError, match="torch.Tensor"):
        model.predict(past.numpy())


def test_a_short_training_lowers_the_loss():
    frames = moving_digits(256, 3, size=32, speed=(1, 2), turn_probability=0.2, seed=0).frames
    past, following = frames[:64, :2], frames[:64, 2]
    # the L2 loss is a mean squared error; the stochastic loss, -log p in nats, is dominated by a constant (the
    # Gaussian's normaliser) and can only gain log p(z | past) <= log 25 nats
    for cls, gain in ((L2FramePredictor, lambda before: 0.1 * before), (StochasticFramePredictor, lambda _: 0.5)):
        model = small(cls)
        before = model.loss(past, following).item()
        history = fit_next_frame(model, frames, epochs=6, batch_size=32, lr=3e-3, progress=False)
        assert history.steps == 48 and not history.cut_short
        assert model.loss(past, following).item() < before - gain(before)
    with pytest.raises(TypeError, match="next-frame predictor"):
        fit_next_frame(torch.nn.Linear(2, 2), frames, epochs=1)
    with pytest.raises(ValueError, match="more than context=2 frames"):
        fit_next_frame(small(L2FramePredictor), frames[:, :2], epochs=1)


# ---------------------------------------------------------------- measures

def test_measures():
    frames = small_sequences(6, 5)
    past, future = frames[:, :2], frames[:, 2:]
    copy = copy_last_frame(past, 3)
    assert copy.shape == future.shape and torch.equal(copy[:, 2], frames[:, 1])
    assert per_step_mse(future, future).abs().max() == 0
    samples = torch.stack([copy, future, copy])
    assert best_of_k_mse(samples, future).abs().max() == 0
    blur = 0.5 * (frames[:, 1] + frames[:, 2])
    assert (sharpness(blur) < torch.minimum(sharpness(frames[:, 1]), sharpness(frames[:, 2]))).all()
    with pytest.raises(ValueError, match="same shape"):
        per_step_mse(future[:, :2], future)
    with pytest.raises(ValueError, match=">= context \\+ steps"):
        rollout_report(frames, steps=4)


# ---------------------------------------------------------------- the shipped checkpoints

@pytest.mark.slow
def test_the_shipped_predictors_tell_the_lectures_story():
    if not {"nextframe_mnist", "nextframe_mnist_l2"} <= set(checkpoints.available_checkpoints()):
        pytest.skip("the next-frame checkpoints are not shipped yet")
    l2, stochastic = checkpoints.load_pretrained("nextframe_mnist_l2"), checkpoints.load_pretrained("nextframe_mnist")
    sequences = moving_digits(150, 7, split="test", seed=11)
    report = rollout_report(sequences, deterministic=l2, stochastic=stochastic, steps=5, samples=5, seed=0)
    real = report["sharpness real"][0]
    assert report["mse L2"][0] < 0.5 * report["mse copy last frame"][0], "L2 beats copying the last frame"
    assert report["mse L2"][0] < report["mse one sample"][0], "L2 has the lowest single-prediction error"
    assert max(report["sharpness L2"]) < 0.8 * real and report["sharpness L2"][-1] < 0.3 * real, "L2 blurs"
    assert min(report["sharpness samples"]) > 0.95 * real, "samples are as sharp as real frames"
    assert report["mse best of k"][0] < report["mse one sample"][0]
    assert min(report["sample spread"]) > 0, "different draws, different futures"
