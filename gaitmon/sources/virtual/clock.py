"""A virtual-time asyncio event loop: timers fire at once, in order, with ``loop.time()`` jumping ahead.

The acquisition code reads the host clock only through ``asyncio.get_running_loop().time()``, so the
same code runs on the real clock live and on this virtual one in tests and fast demos: a 60-second
emulated two-sensor session runs in the CPU time its packets take, deterministically. When nothing is
scheduled the loop blocks for real I/O (a thread's ``call_soon_threadsafe`` still wakes it).
"""

from __future__ import annotations

import asyncio
import selectors


class _SkippingSelector:
    """Wraps a selector: a wait with a timeout does not sleep, it advances the loop's virtual clock."""

    def __init__(self, loop: "VirtualTimeLoop", inner: selectors.BaseSelector):
        self._loop = loop
        self._inner = inner

    def select(self, timeout: float | None = None):
        if timeout is None:
            return self._inner.select(None)
        events = self._inner.select(0)
        if not events and timeout > 0:
            self._loop.advance(timeout)
        return events

    def __getattr__(self, name):
        return getattr(self._inner, name)


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """Event loop whose ``time()`` is virtual seconds, starting at ``start``."""

    def __init__(self, start: float = 1000.0):
        self._virtual_now = float(start)
        super().__init__(_SkippingSelector(self, selectors.DefaultSelector()))

    def time(self) -> float:
        return self._virtual_now

    def advance(self, seconds: float) -> None:
        self._virtual_now += seconds


def run_virtual(coroutine, start: float = 1000.0):
    """Run ``coroutine`` to completion on a fresh :class:`VirtualTimeLoop` and return its result."""
    with asyncio.Runner(loop_factory=lambda: VirtualTimeLoop(start)) as runner:
        return runner.run(coroutine)
