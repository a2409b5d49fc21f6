"""The coach's dashboard.

The Qt-free half lives here and runs headless: :mod:`~gaitmon.engine.runtime` (acquisition,
recording and replay on one asyncio loop in a thread) and :mod:`~gaitmon.engine.model` (what the
screen shows, as immutable snapshots). Only the window module imports Qt; importing this package
does not.
"""

from gaitmon.engine.runtime import Engine, EmulatedSource, LiveSource, ReplaySource
from gaitmon.engine.model import DashboardModel, RecordingState, Snapshot

__all__ = ["DashboardModel", "EmulatedSource", "Engine", "LiveSource", "RecordingState", "ReplaySource", "Snapshot",
           "can_show_window"]


def can_show_window(warn=None) -> bool:
    """Whether the dashboard window can open here: Qt loads and there is a display.

    ``warn(message)`` hears why not when Qt itself cannot load.
    """
    try:
        from gaitmon.dashboard.window import display_available
    except ImportError as error:
        if warn is not None:
            warn(f"no dashboard ({error}); running headless")
        return False
    return display_available()
