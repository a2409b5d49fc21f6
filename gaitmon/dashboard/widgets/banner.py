"""The flag banner under the controls: the flag's (or note's) sentence in large type and the
evidence it rests on, yellow for a flag, grey for a note; or why there is no flag yet.
"""

from __future__ import annotations

from pyqtgraph.Qt import QtWidgets

from gaitmon.dashboard.widgets.theme import Theme
from gaitmon.engine.model import Snapshot


def banner_text(snap: Snapshot) -> tuple[str, str, str]:
    """``(headline, evidence, kind)`` of the banner; kind is ``"alarm"``, ``"note"`` or ``"none"``."""
    if snap.banner is not None:
        b = snap.banner
        where = f"rep {b.rep}" if b.scale != "sessions" else "this session"
        head = ("FLAG: " if b.alarm else "NOTE: ") + f"{b.message}  [{where}]"
        return head, f"Rests on {b.evidence}", "alarm" if b.alarm else "note"
    reps = len(snap.reps)
    if reps < 4:
        return (f"No flag. {reps} rep{'s' if reps != 1 else ''} so far: the across-reps check needs 4.",
                "Within a rep the steps are compared with the earlier reps' from rep 3 on.", "none")
    return ("No flag: swing-side and push-side outputs are moving together.",
            f"Checked over the last reps ({reps} so far) and within each rep.", "none")


class FlagBanner(QtWidgets.QFrame):
    """The banner's frame (object name ``banner``) with its headline and evidence labels."""

    def __init__(self):
        super().__init__()
        self.setObjectName("banner")
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 6)
        self.head = QtWidgets.QLabel()
        self.head.setObjectName("bannerHead")
        self.head.setWordWrap(True)
        self.evidence = QtWidgets.QLabel()
        self.evidence.setObjectName("bannerEvidence")
        self.evidence.setWordWrap(True)
        layout.addWidget(self.head)
        layout.addWidget(self.evidence)

    def draw(self, snap: Snapshot, theme: Theme) -> None:
        """Show ``snap``'s flag (see :func:`banner_text`) in ``theme``'s colours for its kind."""
        head, evidence, kind = banner_text(snap)
        background, foreground = {"alarm": (theme.alarm_bg, theme.alarm_fg), "note": (theme.note_bg, theme.foreground)
                                  }.get(kind, (theme.panel, theme.foreground))
        border = theme.alarm_fg if kind == "alarm" else theme.muted
        style = (f"QFrame#banner {{ background: {background}; border: 3px solid {border}; border-radius: 6px; }} "
                 f"QFrame#banner QLabel {{ background: {background}; color: {foreground}; }}")
        if self.styleSheet() != style:  # re-styling re-polishes the frame and its labels
            self.setStyleSheet(style)
        self.head.setText(head)
        self.evidence.setText(evidence)
        if self.toolTip() != evidence:  # for a window too small to show the evidence line
            self.setToolTip(evidence)
