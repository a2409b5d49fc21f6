"""The dashboard's looks: the legs' screen order, the outdoor and indoor colour themes, and the
window's style sheet (type sizes and weights, and colours, of its buttons, labels and tables).

Qt-free: the plots take their colours from :class:`Theme`, the Qt widgets from :func:`style_sheet`.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The legs, in screen order (top to bottom in the plots and the big numbers).
SIDES = ("left", "right")


@dataclass(frozen=True)
class Theme:
    """Colours of one theme (``#rrggbb``)."""

    name: str
    background: str
    foreground: str
    muted: str
    panel: str
    legs: dict
    markers: dict
    swing: str
    push: str
    alarm_bg: str
    alarm_fg: str
    note_bg: str
    ok: str
    warn: str
    bad: str
    gap: tuple


#: Black on white with saturated colours: readable in sunlight (the default).
OUTDOOR = Theme("outdoor", "#ffffff", "#000000", "#444444", "#ececec",
                {"left": "#0046c8", "right": "#c83200"}, {"TO": "#00802b", "MSW": "#7a1fa2", "IC": "#d10000"},
                "#6a00c8", "#000000", "#ffc400", "#000000", "#d8d8d8", "#00802b", "#b36b00", "#d10000",
                (200, 0, 0, 60))
#: Light on black for indoor or evening use.
INDOOR = Theme("indoor", "#000000", "#f2f2f2", "#b0b0b0", "#1c1c1c",
               {"left": "#5aa9ff", "right": "#ff8a3d"}, {"TO": "#3ddc84", "MSW": "#e08cff", "IC": "#ff5c5c"},
               "#c792ff", "#f2f2f2", "#ffc400", "#000000", "#333333", "#3ddc84", "#ffc400", "#ff5c5c",
               (255, 80, 80, 70))
THEMES = {theme.name: theme for theme in (OUTDOOR, INDOOR)}


def style_sheet(theme: Theme) -> str:
    """The window's Qt style sheet in ``theme``: fonts and colours of buttons, labels and tables."""
    return f"""
        QWidget {{ background: {theme.background}; color: {theme.foreground}; font-size: 15px; }}
        QPushButton {{ background: {theme.panel}; border: 3px solid {theme.foreground}; border-radius: 8px;
                      font-size: 20px; font-weight: bold; padding: 4px 14px; }}
        QPushButton:pressed, QPushButton:checked {{ background: {theme.foreground}; color: {theme.background}; }}
        QPushButton:disabled, QPushButton:checked:disabled {{ background: {theme.panel}; color: {theme.muted};
                                                             border-color: {theme.muted}; }}
        QLabel#status {{ font-size: 24px; font-weight: bold; }}
        QLabel#bannerHead {{ font-size: 24px; font-weight: bold; }}
        QLabel#bannerEvidence {{ font-size: 14px; }}
        QLabel#numberHead {{ font-size: 15px; font-weight: bold; color: {theme.muted}; }}
        QLabel#number_left {{ font-size: 54px; font-weight: bold; color: {theme.legs['left']}; }}
        QLabel#number_right {{ font-size: 54px; font-weight: bold; color: {theme.legs['right']}; }}
        QLabel#numbersCaption {{ font-size: 16px; font-weight: bold; color: {theme.muted}; padding: 4px 10px; }}
        QLabel#numbersCaptionHeld {{ font-size: 16px; font-weight: bold; color: {theme.foreground};
                                    background: {theme.note_bg}; border-radius: 6px; padding: 4px 10px; }}
        QLabel#legName_left {{ font-size: 40px; font-weight: bold; color: {theme.legs['left']}; }}
        QLabel#legName_right {{ font-size: 40px; font-weight: bold; color: {theme.legs['right']}; }}
        QTabBar::tab {{ background: {theme.panel}; color: {theme.foreground}; font-size: 16px; font-weight: bold;
                       padding: 6px 16px; border: 1px solid {theme.muted}; }}
        QTabBar::tab:selected {{ background: {theme.background}; border-bottom-color: {theme.background}; }}
        QTableWidget {{ gridline-color: {theme.muted}; font-size: 16px; }}
        QHeaderView::section {{ background: {theme.panel}; color: {theme.foreground}; font-weight: bold;
                               font-size: 14px; border: 1px solid {theme.muted}; padding: 2px; }}
    """
