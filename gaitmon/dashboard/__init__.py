"""The coach's dashboard: the window (:mod:`~gaitmon.dashboard.window`), its parts
(:mod:`~gaitmon.dashboard.widgets`), the set-up screen before it (:mod:`~gaitmon.dashboard.setup_window`),
Qt-free drawing arithmetic (:mod:`~gaitmon.dashboard.drawing`) and ``gaitmon demo`` (:mod:`~gaitmon.dashboard.demo`).

It draws what the Qt-free engine produces (:mod:`gaitmon.engine`: acquisition, recording and
replay on one asyncio loop, and the immutable snapshots of :mod:`~gaitmon.engine.model`), which it
re-exports here for convenience. Only the window and widget modules import Qt; importing this
package does not.
"""

from gaitmon.engine.runtime import Engine, EmulatedSource, LiveSource, ReplaySource
from gaitmon.engine.model import DashboardModel, RecordingState, Snapshot

__all__ = ["DashboardModel", "EmulatedSource", "Engine", "LiveSource", "RecordingState", "ReplaySource", "Snapshot",
           "can_show_window"]


def can_show_window(warn=None) -> bool:
    """Whether the dashboard window can open here: Qt loads and there is a display.

    ``warn(message)`` hears why not when Qt itself cannot load, or when a display is there but
    cannot take a window (a missing system library); simply having no display is not news.
    """
    try:
        from gaitmon.dashboard import window
    except ImportError as error:
        if warn is not None:
            warn(f"no dashboard ({error}); running headless")
        return False
    if window.display_available():
        return True
    problem = window.display_problem()
    if problem is not None and warn is not None and problem.startswith("the X11 display"):
        warn(f"no dashboard ({problem}); running headless")
    return False
