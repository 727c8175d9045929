"""The curves widget: smoothed training points, validation points per epoch, history from records,
still axes, and redraws gathered together."""

from __future__ import annotations

import pytest

from app.training.curves import PROPERTIES, CurvesWidget, Smoother
from app.training.worker import StepPoint


def metrics(loss: float, accuracy: float) -> dict[str, float]:
    return {"loss": loss, **{f"{name}_accuracy": accuracy for name in PROPERTIES}}


@pytest.fixture
def curves(qtbot):
    widget = CurvesWidget()
    qtbot.addWidget(widget)
    widget.resize(900, 360)
    widget.show()
    return widget


def test_the_smoother_starts_at_the_first_value_and_follows():
    smooth = Smoother(0.9)
    assert smooth(10.0) == pytest.approx(10.0)
    assert smooth(None) is None and smooth(float("nan")) is None
    second = smooth(0.0)
    assert 0.0 < second < 10.0 and second == pytest.approx(10.0 * 0.9 * 0.1 / (1 - 0.81))
    for _ in range(200):
        value = smooth(4.0)
    assert value == pytest.approx(4.0, abs=1e-6)


def test_steps_are_smoothed_with_the_raw_loss_behind(curves):
    curves.add_steps([StepPoint(0.25, 1, metrics(8.0, 0.2)), StepPoint(0.5, 2, metrics(4.0, 0.6))])
    x, raw = curves.values("train_loss_raw")
    assert x == [0.25, 0.5] and raw == [8.0, 4.0]
    smoothed = curves.values("train_loss")[1]
    assert smoothed[0] == 8.0 and 4.0 < smoothed[1] < 8.0
    assert curves.values("train_pitch")[1][0] == pytest.approx(20.0)
    assert curves.latest("train_loss") == smoothed[1] and curves.latest("val_loss") is None


def test_epochs_add_validation_points_and_records_rebuild_the_history(curves):
    curves.add_epoch({"epoch": 1, "val": metrics(5.0, 0.5), "train": metrics(6.0, 0.4)})
    assert curves.values("val_loss") == ([1.0], [5.0]) and curves.values("train_loss") == ([], [])
    epochs = [{"epoch": e, "val": metrics(6.0 - e, 0.1 * e), "train": metrics(7.0 - e, 0.1 * e)} for e in (1, 2, 3)]
    records = {"epochs": epochs}
    curves.show_records(records)
    assert curves.values("val_loss") == ([1.0, 2.0, 3.0], [5.0, 4.0, 3.0])
    assert curves.values("train_loss")[1] == [6.0, 5.0, 4.0]
    assert curves.values("val_velocity")[1] == pytest.approx([10.0, 20.0, 30.0])
    curves.reset()
    assert all(curves.values(key) == ([], []) for key in curves.series)


def test_axes_keep_still_while_points_arrive(curves):
    curves.set_span(10)
    curves.add_steps([StepPoint(0.1, 1, metrics(9.0, 0.1))])
    curves.flush()
    x_range = curves.loss_plot.getViewBox().viewRange()[0]
    top = curves.loss_plot.getViewBox().viewRange()[1][1]
    assert x_range[0] < 0 < 10 < x_range[1] < 10.5 and top == pytest.approx(9.0 * 1.08)
    curves.add_steps([StepPoint(0.1 + i / 100, 2 + i, metrics(9.0 - i / 10, 0.2)) for i in range(30)])
    curves.flush()
    assert curves.loss_plot.getViewBox().viewRange()[1][1] == pytest.approx(top)  # lower points move nothing
    assert curves.accuracy_plot.getViewBox().viewRange()[1] == pytest.approx([-2.0, 102.0])
    curves.add_steps([StepPoint(11.0, 40, metrics(50.0, 0.2))])
    curves.flush()
    assert curves.span == 11.0 and curves.loss_plot.getViewBox().viewRange()[1][1] > top


def test_live_points_are_drawn_together_not_one_by_one(curves, qtbot):
    for step in range(1, 6):
        curves.add_steps([StepPoint(step / 10, step, metrics(5.0, 0.5))])
    assert len(curves.values("train_loss")[0]) == 5
    assert curves.curves["train_loss"].xData is None or len(curves.curves["train_loss"].xData) == 0  # not drawn yet
    drawn = curves.curves["train_loss"]
    qtbot.waitUntil(lambda: drawn.xData is not None and len(drawn.xData) == 5)
