"""The big numbers: contact, flight, step frequency, swing peak and push of each leg in large type, a
row per leg under a head per number (named, scaled and rounded by :mod:`gaitmon.analysis.metrics`).
While a rep is run they are the latest step's; between reps the last rep's top-speed medians stay up
(:func:`gaitmon.engine.model.big_numbers`), and the caption beside them says which ("LIVE · latest
step" or "LAST REP 6 · top speed"). When the athlete's calibration corrected them, the heads of the
corrected numbers say "calibrated" in small type, and hovering over them tells by which calibration.
"""

from __future__ import annotations

from pyqtgraph.Qt import QtCore, QtWidgets

from gaitmon.analysis.calibration import CALIBRATED_KEYS
from gaitmon.analysis.metrics import STEP_METRICS, Metric
from gaitmon.dashboard.widgets.theme import SIDES
from gaitmon.engine.model import NO_NUMBERS, HeldNumbers


def head_text(metric: Metric, calibrated: bool) -> str:
    """A column head: the metric's short name and unit, and "calibrated" when the calibration corrected it."""
    mark = " <span style='font-weight:normal;font-size:11px'>calibrated</span>" if (
        calibrated and metric.key in CALIBRATED_KEYS) else ""
    return f"{metric.short} <span style='font-weight:normal'>{metric.short_unit}</span>{mark}"


def caption_text(numbers: HeldNumbers) -> str:
    """What the numbers are: ``"LAST REP 6\ntop speed"`` between reps, ``"LIVE\nlatest step"`` else."""
    return "LIVE\nlatest step" if numbers.rep is None else f"LAST REP {numbers.rep}\ntop speed"


class BigNumbers(QtWidgets.QGridLayout):
    """The numbers' grid: heads on top, then per leg its initial and its numbers, and at the right the
    caption saying what they are (the window's style sheet sizes and colours them by object name:
    ``numberHead``, ``legName_<side>``, ``number_<side>``, ``numbersCaption`` and, between reps,
    ``numbersCaptionHeld``)."""

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
        self.caption = QtWidgets.QLabel(caption_text(NO_NUMBERS))
        self.caption.setObjectName("numbersCaption")
        self.caption.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.addWidget(self.caption, 1, len(STEP_METRICS) + 1, len(SIDES), 1)

    def draw(self, numbers: HeldNumbers, calibration: str = "") -> None:
        """Show ``numbers`` (:attr:`~gaitmon.engine.model.Snapshot.numbers`; dashes for a leg without
        them) and say what they are; ``calibration`` is what corrected them
        (:attr:`~gaitmon.engine.model.Snapshot.calibration`, "" for none)."""
        held = "numbersCaptionHeld" if numbers.rep is not None else "numbersCaption"
        if self.caption.objectName() != held:  # re-styled only when it changes
            self.caption.setObjectName(held)
            self.caption.style().unpolish(self.caption)
            self.caption.style().polish(self.caption)
        self.caption.setText(caption_text(numbers))
        for metric in STEP_METRICS:
            head = self.heads[metric.key]
            head.setText(head_text(metric, bool(calibration)))
            head.setToolTip(calibration if metric.key in CALIBRATED_KEYS else "")
        for side in SIDES:
            values = numbers.values.get(side, {})
            for metric in STEP_METRICS:
                self.labels[side, metric.key].setText(metric.text(values.get(metric.key)))
