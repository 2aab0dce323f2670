"""`make train` says after each epoch how long the rest should take."""

import pytest

from training.train import TimeLeft

pytestmark = [pytest.mark.training, pytest.mark.unit]


def test_each_epoch_but_the_last_estimates_the_rest(capsys: pytest.CaptureFixture[str]) -> None:
    ticks = iter([0.0, 0.0, 60.0, 150.0])  # built, training starts, after epoch 1, after epoch 2
    callback = TimeLeft(3, clock=lambda: next(ticks))
    callback.on_train_begin()
    callback.on_epoch_end(0)
    callback.on_epoch_end(1)
    callback.on_epoch_end(2)
    assert capsys.readouterr().out.splitlines() == [
        "epoch 1/3 done; about 2.0 min for the other 2",
        "epoch 2/3 done; about 1.2 min for the other 1",
    ]
