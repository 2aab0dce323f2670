"""The model's operation count, from the Keras layers of the design CNN."""

import pytest

from ops.bench.flops import design_flops

pytestmark = pytest.mark.unit


def _by_hand(size: int, classes: int) -> int:
    """2 x MACs of Conv2D(3x3) 32/64/128 with 2x2 pooling, Dense 128, Dense classes."""
    total, side, channels = 0, size, 3
    for filters in (32, 64, 128):
        side -= 2  # valid 3x3 convolution
        total += 2 * side * side * filters * 9 * channels
        side //= 2
        channels = filters
    return total + 2 * side * side * channels * 128 + 2 * 128 * classes


@pytest.mark.parametrize("size", [32, 224])
def test_design_cnn_flops_match_the_layer_arithmetic(size: int) -> None:
    assert design_flops(size, 10) == _by_hand(size, 10)


def test_the_design_size_costs_about_0_94_gflop() -> None:
    assert design_flops(224, 10) == 944_018_688
