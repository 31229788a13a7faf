"""Notebook 07's two applications built on shipped models: text -> image (the word reader in front of the
class-conditional DCGAN) and image completion with PixelRNN."""

import pytest
import torch

from course_utils import load_pretrained
from course_utils.data import binarized_mnist_test
from course_utils.models.gans import GAN
from course_utils.models.pixel_models import PixelRNN
from course_utils.text_to_image import DIGIT_WORDS, accuracy_per_word, images_from_text, label_of


@pytest.mark.parametrize("text, label", [("seven", 7), ("a Seven", 7), ("7", 7), ("the digit 0", 0),
                                         ("NINE!", 9), ("one one", 1), ("the digit four, please", 4)])
def test_label_of_reads_one_digit(text, label):
    assert label_of(text) == label


@pytest.mark.parametrize("text, says", [("hello", "no digit"), ("seven and 8", "2 different digits"),
                                        ("eleven", "no digit"), ("12", "no digit"), ("", "no digit")])
def test_label_of_refuses_text_without_exactly_one_digit(text, says):
    with pytest.raises(ValueError, match=says):
        label_of(text)


def test_label_of_wants_a_string():
    with pytest.raises(TypeError, match="string"):
        label_of(7)


def test_images_from_text_conditions_on_the_word():
    cgan = GAN(GAN.Config(data_shape=(1, 28, 28), arch="dcgan", latent_dim=8, width=8, num_classes=10))
    a = images_from_text(cgan, "three", 4, generator=torch.Generator().manual_seed(0))
    b = images_from_text(cgan, "3", 4, generator=torch.Generator().manual_seed(0))
    c = images_from_text(cgan, "eight", 4, generator=torch.Generator().manual_seed(0))
    assert a.shape == (4, 1, 28, 28) and torch.equal(a, b) and not torch.equal(a, c)
    with pytest.raises(ValueError, match="class-conditional"):
        images_from_text(GAN(GAN.Config(data_shape=(1, 28, 28), arch="dcgan", latent_dim=8, width=8)), "three")


def test_the_shipped_cgan_draws_the_digit_each_word_names():
    accuracy = accuracy_per_word(load_pretrained("cgan_mnist"), n=50)
    assert list(accuracy) == list(DIGIT_WORDS)
    assert min(accuracy.values()) >= 0.85, accuracy


def _small_pixelrnn():
    torch.manual_seed(0)
    return PixelRNN(PixelRNN.Config(shape=(1, 6, 5), hidden=8, features=4))


def test_completion_keeps_the_given_rows_and_draws_the_rest():
    model = _small_pixelrnn()
    x = torch.bernoulli(torch.full((7, 1, 6, 5), 0.5), generator=torch.Generator().manual_seed(1))
    a = model.complete(x, 3, generator=torch.Generator().manual_seed(0))
    b = model.complete(x, 3, generator=torch.Generator().manual_seed(0))
    c = model.complete(x, 3, generator=torch.Generator().manual_seed(5))
    assert a.shape == x.shape and torch.equal(a[:, :, :3], x[:, :, :3])
    assert torch.equal(a, b) and not torch.equal(a[:, :, 3:], c[:, :, 3:])
    assert torch.equal(model.complete(x, 6), x), "all rows given: nothing to draw"
    assert set(a.unique().tolist()) <= {0.0, 1.0}


def test_completion_with_no_rows_given_is_sampling():
    model = _small_pixelrnn()
    x = torch.zeros(4, 1, 6, 5)
    torch.testing.assert_close(model.complete(x, 0, generator=torch.Generator().manual_seed(3)),
                               model.sample(4, generator=torch.Generator().manual_seed(3)))


def test_completion_depends_on_the_given_rows():
    model = _small_pixelrnn()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p))
    zeros, ones = torch.zeros(200, 1, 6, 5), torch.ones(200, 1, 6, 5)
    a = model.complete(zeros, 3, generator=torch.Generator().manual_seed(0))[:, :, 3:]
    b = model.complete(ones, 3, generator=torch.Generator().manual_seed(0))[:, :, 3:]
    assert (a != b).float().mean() > 0.01, "the drawn rows must depend on the given ones"


@pytest.mark.parametrize("rows", [-1, 7, 2.5, True])
def test_completion_refuses_a_bad_row_count(rows):
    with pytest.raises(ValueError, match="known_rows"):
        _small_pixelrnn().complete(torch.zeros(2, 1, 6, 5), rows)


def test_completion_refuses_grey_images():
    with pytest.raises(ValueError):
        _small_pixelrnn().complete(torch.full((2, 1, 6, 5), 0.5), 3)


def test_the_shipped_pixelrnn_completes_halves_into_readable_digits():
    from course_utils.models.features import load_feature_network

    x, y = binarized_mnist_test()
    x, y = x[:100], y[:100]
    half = x.clone()
    half[:, :, 14:] = 0
    done = load_pretrained("pixelrnn_mnist").complete(x, 14, generator=torch.Generator().manual_seed(1))
    clf = load_feature_network()
    read = lambda imgs: (clf.predict(imgs) == y).float().mean().item()  # noqa: E731
    assert read(half) + 0.15 < read(done)
