"""The tables: the rep table (one row per finished rep, newest first, flagged reps highlighted; its
heads name each column in words over its unit) and sensor health (state and its reason, rate, losses
and battery per sensor, coloured by state). Row heights stretch a little so that the rows in view
fill the table: no row is ever shown cut; more rows than fit scroll.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyqtgraph.Qt import QtCore, QtGui, QtWidgets

from gaitmon.analysis.metrics import CONTACT, FLIGHT, PUSH_FORCE, STEP_FREQUENCY, SWING_PEAK
from gaitmon.dashboard.widgets.theme import Theme

REP_COLUMNS = ("Rep", "Steps", "Contact", "Flight", "Step freq.", "Left swing", "Right swing", "Left push",
               "Right push", "Flags")
#: Each rep-table column's unit (the head's second line) and what it is (the head's tooltip).
REP_UNITS = {"Rep": "no.", "Steps": "both legs", "Contact": CONTACT.unit, "Flight": FLIGHT.unit,
             "Step freq.": STEP_FREQUENCY.unit, "Left swing": SWING_PEAK.unit, "Right swing": SWING_PEAK.unit,
             "Left push": "× body wt.", "Right push": "× body wt.", "Flags": "raised on the rep"}
REP_TIPS = {"Rep": "Rep number in the session", "Steps": "Steps in the rep, both legs",
            **{name: f"{metric.label}: median of the rep's top-speed steps{side}" for name, metric, side in (
                ("Contact", CONTACT, ", both legs"), ("Flight", FLIGHT, ", both legs"),
                ("Step freq.", STEP_FREQUENCY, ", both legs"), ("Left swing", SWING_PEAK, ", left leg"),
                ("Right swing", SWING_PEAK, ", right leg"), ("Left push", PUSH_FORCE, ", left leg"),
                ("Right push", PUSH_FORCE, ", right leg"))},
            "Flags": "Strength-balance flags raised on this rep"}
HEALTH_COLUMNS = ("Sensor", "State", "Rate Hz", "Lost", "Bad", "Battery")
#: Rep-table columns an athlete's calibration corrects (contact and flight time and what follows from them).
CALIBRATED_REP_COLUMNS = frozenset({"Contact", "Flight", "Step freq.", "Left push", "Right push"})


def rep_head(name: str, calibrated: bool = False) -> str:
    """A rep-table head: the column's name over its unit, and "calibrated" where the calibration corrected it."""
    mark = " · calibrated" if calibrated and name in CALIBRATED_REP_COLUMNS else ""
    return f"{name}\n{REP_UNITS[name]}{mark}"


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
    """A read-only table with ``heads``, sized to its contents, that takes no focus or selection, and
    shows whole rows only (:meth:`resizeEvent`)."""

    def __init__(self, heads: Sequence[str]):
        super().__init__(0, len(heads))
        self.setHorizontalHeaderLabels(list(heads))
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        #: Least row height (px), what the font needs; rows stretch up to (k + 1) / k of it to fill the view.
        self.row_px = self.verticalHeader().defaultSectionSize()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name; the viewport's size
        """Rows as tall as fills the view with whole rows: ``k`` of them, ``k`` the most of height
        :attr:`row_px` that fit (the last row is never cut; what does not fit scrolls)."""
        super().resizeEvent(event)
        view = self.viewport().height()
        rows = max(1, view // self.row_px)
        height = max(self.row_px, view // rows)
        if self.verticalHeader().defaultSectionSize() != height:
            self.verticalHeader().setDefaultSectionSize(height)

    def rows_height(self, rows: int) -> int:
        """The table's height (px) for its head and ``rows`` rows of :attr:`row_px` (frame included)."""
        return self.horizontalHeader().sizeHint().height() + rows * self.row_px + 2 * self.frameWidth()

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
    """The rep table (:data:`REP_COLUMNS`): at least :data:`LEAST_ROWS` rows in view, :data:`ROWS` when
    there is room, more scroll."""

    LEAST_ROWS = 3
    ROWS = 6

    def __init__(self):
        super().__init__([rep_head(name) for name in REP_COLUMNS])
        for col, name in enumerate(REP_COLUMNS):
            self.horizontalHeaderItem(col).setToolTip(REP_TIPS[name])
        self.setMinimumHeight(self.rows_height(self.LEAST_ROWS))

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 - Qt's name
        return QtCore.QSize(super().sizeHint().width(), self.rows_height(self.ROWS))

    #: Compact layout (a narrow tab): the flags come right after the rep number, cut to this width
    #: (px; whole in their tooltip), the step count is left out; the numbers follow and scroll sideways.
    COMPACT_FLAGS_PX = 190

    def set_compact(self, compact: bool) -> None:
        """The column arrangement for a narrow (compact) or a wide table."""
        header = self.horizontalHeader()
        flags, steps = REP_COLUMNS.index("Flags"), REP_COLUMNS.index("Steps")
        header.moveSection(header.visualIndex(flags), 1 if compact else len(REP_COLUMNS) - 1)
        self.setColumnHidden(steps, compact)
        header.setStretchLastSection(not compact)
        header.setSectionResizeMode(flags, QtWidgets.QHeaderView.ResizeMode.Fixed if compact
                                    else QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        if compact:
            header.resizeSection(flags, self.COMPACT_FLAGS_PX)
        self.setTextElideMode(QtCore.Qt.TextElideMode.ElideRight)

    def draw(self, reps: Sequence, theme: Theme, calibration: str = "") -> None:
        """One row per rep in ``reps``, newest first; flagged reps in ``theme``'s alarm colours, bold.
        With a ``calibration`` (what corrected the numbers), the corrected columns' heads say "calibrated"."""
        for col, name in enumerate(REP_COLUMNS):
            if name in CALIBRATED_REP_COLUMNS:
                head = self.horizontalHeaderItem(col)
                head.setText(rep_head(name, bool(calibration)))
                head.setToolTip(f"{REP_TIPS[name]}. {calibration}" if calibration else REP_TIPS[name])
        rows = list(reversed(reps))  # newest first: the coach looks at the top
        self.setRowCount(len(rows))
        for row, rep in enumerate(rows):
            alarm = (theme.alarm_bg, theme.alarm_fg) if rep.alarm else (None, None)
            self.fill_row(row, rep_cells(rep), *alarm, bold=rep.alarm)
            flags = self.item(row, REP_COLUMNS.index("Flags"))
            flags.setToolTip(flags.text())  # whole, where the column is too narrow


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
