"""A session's decoded samples and projected traces kept on disk, so a long session costs no RAM.

The end-of-session outputs (the report's traces and sensor notes, the BIDS export, the units check)
need every sample of the session; at 1 kHz on two legs that is 0.7 GB per hour in RAM as Python
blocks. :class:`SampleSpool` appends them instead to unnamed temporary files (deleted by the
operating system when the spool is closed or the process ends, even when killed) and hands them
back memory-mapped: the pages are the file's, read when touched and dropped when memory is short.

Per role, four files of native floats: ``t`` (float64 s, session clock) and ``x`` (float32
``ax, ay, az`` m/s², ``gx, gy, gz`` rad/s, sensor frame) of the decoded blocks; ``trace_t``
(float64 s) and ``trace_omega`` (float64 rad/s) of what the leg's step core was fed.
"""

from __future__ import annotations

import tempfile
import weakref
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from gaitmon.stream.sink import ProjectionListener
from gaitmon.stream.timing import SampleBlock

#: Bytes buffered per file before they are written.
BUFFER = 1 << 18
_DTYPES = {"t": np.float64, "x": np.float32, "trace_t": np.float64, "trace_omega": np.float64}


class SampleSpool:
    """Decoded sample blocks (a ``LiveSession.block_listener``) and projected traces
    (:meth:`projection`, a ``LiveSession.projection_listener``) spooled to temporary files.

    Parameters
    ----------
    folder : Path, optional
        Where the temporary files go (default: the system's temporary folder). Give a folder on
        disk: on a RAM-backed ``/tmp`` the files would take memory again.
    forward : ProjectionListener, optional
        Also receives every projection (e.g. the dashboard model).
    """

    def __init__(self, folder: Path | None = None, forward: ProjectionListener | None = None):
        self.folder = folder if folder is None or Path(folder).is_dir() else None
        self.forward = forward
        self._files: dict[tuple[str, str], object] = {}
        self._closer = weakref.finalize(self, _close_all, self._files)

    def _write(self, role: str, what: str, values: np.ndarray) -> None:
        file = self._files.get((role, what))
        if file is None:
            file = self._files[(role, what)] = tempfile.TemporaryFile(
                dir=self.folder, prefix=f".gaitmon-{role}-{what}-", buffering=BUFFER)
        file.write(np.ascontiguousarray(values, dtype=_DTYPES[what]).tobytes())

    def __call__(self, role: str, blocks: Sequence[SampleBlock]) -> None:
        for block in blocks:
            self._write(role, "t", block.t)
            self._write(role, "x", block.x)

    def projection(self, role: str, t: np.ndarray, omega: np.ndarray, acc: np.ndarray) -> None:
        self._write(role, "trace_t", t)
        self._write(role, "trace_omega", omega)
        if self.forward is not None:
            self.forward(role, t, omega, acc)

    def _read(self, role: str, what: str, columns: int = 1) -> np.ndarray:
        file = self._files[(role, what)]
        file.flush()
        n = file.tell() // (np.dtype(_DTYPES[what]).itemsize * columns)
        if n == 0:
            return np.empty((0, columns) if columns > 1 else 0, _DTYPES[what])
        shape = (n, columns) if columns > 1 else (n,)
        return np.memmap(file, dtype=_DTYPES[what], mode="r", shape=shape)

    def _roles(self, what: str) -> list[str]:
        return sorted(role for role, kind in self._files if kind == what)

    def samples(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """role → ``(t[n]`` s, ``x[n, 6]`` float32 sensor frame SI), in arrival order (read-only maps)."""
        return {role: (self._read(role, "t"), self._read(role, "x", 6)) for role in self._roles("t")}

    def traces(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """role → ``(t, ω)`` (s, rad/s) as each leg's step core was fed (read-only maps)."""
        return {role: (self._read(role, "trace_t"), self._read(role, "trace_omega"))
                for role in self._roles("trace_t")}

    def close(self) -> None:
        """Delete the files (arrays handed out stay readable until they are dropped); done by
        itself when the spool is garbage-collected."""
        self._closer()


def _close_all(files: dict) -> None:
    for file in files.values():
        file.close()
    files.clear()
