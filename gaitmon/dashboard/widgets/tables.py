"""The tables at the bottom: the rep table (one row per finished rep, newest first, flagged reps
highlighted) and sensor health (state and its reason, rate, losses and battery per sensor, coloured by state).
"""

from __future__ import annotations

from collections.abc import Sequence

from pyqtgraph.Qt import QtCore, QtGui, QtWidgets

from gaitmon.analysis.metrics import CONTACT, FLIGHT, PUSH_FORCE, STEP_FREQUENCY, SWING_PEAK
from gaitmon.dashboard.widgets.theme import Theme

REP_COLUMNS = ("Rep", "Steps", "Contact ms", "Flight ms", "Step Hz", "Swing L", "Swing R", "Push L", "Push R",
               "Flag")
HEALTH_COLUMNS = ("Sensor", "State", "Rate Hz", "Lost", "Bad", "Battery")
#: Rep-table columns an athlete's calibration corrects (contact and flight time and what follows from them).
CALIBRATED_REP_COLUMNS = frozenset({"Contact ms", "Flight ms", "Step Hz", "Push L", "Push R"})


def rep_cells(rep) -> list[str]:
    """One rep-table row as text (times in ms, ω in rad/s, push in body weights)."""
    return [str(rep.rep), str(rep.n_steps), CONTACT.text(rep.contact_s), FLIGHT.text(rep.flight_s),
            STEP_FREQUENCY.text(rep.step_hz), SWING_PEAK.text(rep.swing_left_rad_s),
            SWING_PEAK.text(rep.swing_right_rad_s), PUSH_FORCE.text(rep.push_left_bw),
            PUSH_FORCE.text(rep.push_right_bw),
            "; ".join(rep.flags) if rep.flags else "—"]


def health_cells(status) -> list[str]:
    """One sensor-table row: the state says why unless streaming (stalled, not found, no Bluetooth …),
    and how often the stream stalled."""
    battery = f"{status.battery_pct} %" if status.battery_pct is not None else "–"
    detail = f" ({status.detail})" if status.detail and status.state != "streaming" else ""
    stalls = f" · stalled {status.stalls}×" if status.stalls else ""
    return [status.role.upper(), status.state + detail + stalls,
            f"{status.effective_rate_hz:.0f}", str(status.lost_packets), str(status.malformed), battery]


class _Table(QtWidgets.QTableWidget):
    """A read-only table of ``columns``, sized to its contents, that takes no focus or selection."""

    def __init__(self, columns: Sequence[str]):
        super().__init__(0, len(columns))
        self.setHorizontalHeaderLabels(list(columns))
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)

    def fill_row(self, row: int, cells: Sequence[str], background: str | None = None,
                 foreground: str | None = None, bold: bool = False) -> None:
        for col, text in enumerate(cells):
            item = self.item(row, col)
            if item is None:
                item = QtWidgets.QTableWidgetItem()
                self.setItem(row, col, item)
            item.setText(text)
            item.setBackground(QtGui.QBrush(QtGui.QColor(background)) if background else QtGui.QBrush())
            item.setForeground(QtGui.QBrush(QtGui.QColor(foreground)) if foreground else QtGui.QBrush())
            font = item.font()
            font.setBold(bold)
            item.setFont(font)


class RepTable(_Table):
    """The rep table (:data:`REP_COLUMNS`)."""

    def __init__(self):
        super().__init__(REP_COLUMNS)
        self.setMinimumHeight(150)

    def draw(self, reps: Sequence, theme: Theme, calibration: str = "") -> None:
        """One row per rep in ``reps``, newest first; flagged reps in ``theme``'s alarm colours, bold.
        With a ``calibration`` (what corrected the numbers), the corrected columns' heads say "cal."."""
        for col, name in enumerate(REP_COLUMNS):
            if name in CALIBRATED_REP_COLUMNS:
                head = self.horizontalHeaderItem(col)
                head.setText(f"{name} cal." if calibration else name)
                head.setToolTip(calibration)
        rows = list(reversed(reps))  # newest first: the coach looks at the top
        self.setRowCount(len(rows))
        for row, rep in enumerate(rows):
            alarm = (theme.alarm_bg, theme.alarm_fg) if rep.alarm else (None, None)
            self.fill_row(row, rep_cells(rep), *alarm, bold=rep.alarm)


class HealthTable(_Table):
    """Sensor health (:data:`HEALTH_COLUMNS`), the state column taking the room left."""

    def __init__(self):
        super().__init__(HEALTH_COLUMNS)
        self.horizontalHeader().setStretchLastSection(False)
        self.horizontalHeader().setSectionResizeMode(
            HEALTH_COLUMNS.index("State"), QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.setMaximumWidth(560)

    def draw(self, health: Sequence, theme: Theme) -> None:
        """One row per sensor status, coloured by state in ``theme`` (ok, warn, muted when stopped, else bad);
        bold unless streaming."""
        self.setRowCount(len(health))
        colours = {"streaming": theme.ok, "reconnecting": theme.warn, "connecting": theme.warn,
                   "searching": theme.warn, "stopped": theme.muted}
        for row, status in enumerate(health):
            colour = colours.get(status.state, theme.bad)
            self.fill_row(row, health_cells(status), foreground=colour, bold=status.state != "streaming")
