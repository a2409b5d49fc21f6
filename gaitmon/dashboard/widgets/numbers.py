"""The big numbers: the current step's contact, flight, step frequency, swing peak and push of each
leg in large type, a row per leg under a head per number; and :func:`format_value`, how the
dashboard writes a number (a dash when there is none).
"""

from __future__ import annotations

import math

from pyqtgraph.Qt import QtCore, QtWidgets

from gaitmon.dashboard.widgets.theme import SIDES
from gaitmon.engine.model import Step

#: The big numbers: (label, unit, Step attribute, scale, format).
NUMBERS = (("CONTACT", "ms", "contact_s", 1e3, "{:.0f}"),
           ("FLIGHT", "ms", "flight_s", 1e3, "{:.0f}"),
           ("STEP FREQ", "Hz", "step_hz", 1.0, "{:.2f}"),
           ("SWING PEAK", "rad/s", "swing_peak_rad_s", 1.0, "{:.1f}"),
           ("PUSH", "BW", "push_force_bw", 1.0, "{:.2f}"))


def format_value(value: float, scale: float = 1.0, fmt: str = "{:.1f}") -> str:
    """``value × scale`` written in ``fmt``; a dash for None or a value that is not finite."""
    return fmt.format(value * scale) if value is not None and math.isfinite(value) else "–"


class BigNumbers(QtWidgets.QGridLayout):
    """The numbers' grid: heads on top, then per leg its initial and its numbers (the window's style
    sheet sizes and colours them by object name: ``numberHead``, ``legName_<side>``, ``number_<side>``)."""

    def __init__(self):
        super().__init__()
        self.setHorizontalSpacing(18)
        self.setVerticalSpacing(0)
        #: (side, Step attribute) → the label showing it.
        self.labels: dict[tuple[str, str], QtWidgets.QLabel] = {}
        for col, (label, unit, *_rest) in enumerate(NUMBERS, start=1):
            head = QtWidgets.QLabel(f"{label} <span style='font-weight:normal'>{unit}</span>")
            head.setObjectName("numberHead")
            head.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
            self.addWidget(head, 0, col)
        for row, side in enumerate(SIDES, start=1):
            name = QtWidgets.QLabel(side[0].upper())
            name.setObjectName(f"legName_{side}")
            name.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
            self.addWidget(name, row, 0)
            for col, (_, _, key, *_rest) in enumerate(NUMBERS, start=1):
                value = QtWidgets.QLabel("–")
                value.setObjectName(f"number_{side}")
                value.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
                self.addWidget(value, row, col)
                self.labels[side, key] = value

    def draw(self, latest: dict[str, Step]) -> None:
        """Show each leg's latest complete step (dashes for a leg without one)."""
        for side in SIDES:
            step = latest.get(side)
            for _, _, key, scale, fmt in NUMBERS:
                value = getattr(step, key) if step is not None else math.nan
                self.labels[side, key].setText(format_value(value, scale, fmt))
