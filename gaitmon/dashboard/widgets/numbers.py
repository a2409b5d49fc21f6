"""The big numbers: the current step's contact, flight, step frequency, swing peak and push of each
leg in large type, a row per leg under a head per number (named, scaled and rounded by
:mod:`gaitmon.analysis.metrics`). When the athlete's calibration corrected them, the heads of the
corrected numbers say "calibrated" in small type, and hovering over them tells by which calibration.
"""

from __future__ import annotations

from pyqtgraph.Qt import QtCore, QtWidgets

from gaitmon.analysis.calibration import CALIBRATED_KEYS
from gaitmon.analysis.metrics import STEP_METRICS, Metric
from gaitmon.dashboard.widgets.theme import SIDES
from gaitmon.analysis.steps import Step


def head_text(metric: Metric, calibrated: bool) -> str:
    """A column head: the metric's short name and unit, and "calibrated" when the calibration corrected it."""
    mark = " <span style='font-weight:normal;font-size:11px'>calibrated</span>" if (
        calibrated and metric.key in CALIBRATED_KEYS) else ""
    return f"{metric.short} <span style='font-weight:normal'>{metric.short_unit}</span>{mark}"


class BigNumbers(QtWidgets.QGridLayout):
    """The numbers' grid: heads on top, then per leg its initial and its numbers (the window's style
    sheet sizes and colours them by object name: ``numberHead``, ``legName_<side>``, ``number_<side>``)."""

    def __init__(self):
        super().__init__()
        self.setHorizontalSpacing(18)
        self.setVerticalSpacing(0)
        #: (side, Step attribute) → the label showing it.
        self.labels: dict[tuple[str, str], QtWidgets.QLabel] = {}
        #: Step attribute → the head of its column.
        self.heads: dict[str, QtWidgets.QLabel] = {}
        for col, metric in enumerate(STEP_METRICS, start=1):
            head = self.heads[metric.key] = QtWidgets.QLabel(head_text(metric, calibrated=False))
            head.setObjectName("numberHead")
            head.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
            self.addWidget(head, 0, col)
        for row, side in enumerate(SIDES, start=1):
            name = QtWidgets.QLabel(side[0].upper())
            name.setObjectName(f"legName_{side}")
            name.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
            self.addWidget(name, row, 0)
            for col, metric in enumerate(STEP_METRICS, start=1):
                value = QtWidgets.QLabel("–")
                value.setObjectName(f"number_{side}")
                value.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
                self.addWidget(value, row, col)
                self.labels[side, metric.key] = value

    def draw(self, latest: dict[str, Step], calibration: str = "") -> None:
        """Show each leg's latest complete step (dashes for a leg without one); ``calibration`` is
        what corrected them (:attr:`~gaitmon.engine.model.Snapshot.calibration`, "" for none)."""
        for metric in STEP_METRICS:
            head = self.heads[metric.key]
            head.setText(head_text(metric, bool(calibration)))
            head.setToolTip(calibration if metric.key in CALIBRATED_KEYS else "")
        for side in SIDES:
            step = latest.get(side)
            for metric in STEP_METRICS:
                value = getattr(step, metric.key) if step is not None else None
                self.labels[side, metric.key].setText(metric.text(value))
