"""Qt-free arithmetic of drawing the dashboard: round tick values and peak decimation per pixel column."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def nice_ticks(lo: float, hi: float, most: int = 6, least_step: float = 0.0) -> np.ndarray:
    """Round values in ``[lo, hi]``: the finest step of 1, 2, 2.5 or 5 × 10ⁿ giving at most
    ``most + 1`` of them. With ``least_step`` the step is a multiple of it (1: whole numbers)."""
    step = 10.0 ** math.floor(math.log10(max(hi - lo, least_step, 1e-9) / most))
    while True:
        for factor in (1.0, 2.0, 2.5, 5.0):
            size = factor * step
            whole = not least_step or math.isclose(size / least_step, round(size / least_step))
            first, last = math.ceil(lo / size - 1e-9), math.floor(hi / size + 1e-9)
            if size >= least_step and whole and last - first <= most:
                return np.arange(first, last + 1) * size
        step *= 10.0


def peak_decimate(t: np.ndarray, ys: Sequence[np.ndarray], columns: int) -> tuple[np.ndarray, ...]:
    """``t`` and each of ``ys`` cut to about ``2 × columns`` points: min and max of runs of samples.

    pyqtgraph's "peak" downsampling: a spike of one sample stays visible at any zoom. Runs start at
    multiples of the run length in the sample count since ``t = 0`` (``t`` evenly sampled), so as the
    window slides the same samples stay together and the picture does not shimmer; the few samples
    at either end that do not fill a run are kept as they are. NaNs (gaps) are ignored within a run;
    a run that is all NaN stays NaN, so the line breaks there.
    """
    n = len(t)
    run = n // columns
    if run < 3:  # runs of 2 give as many points back
        return (t, *ys)
    dt = (t[-1] - t[0]) / (n - 1)
    head = int(-round(t[0] / dt) % run) if dt > 0 else 0
    end = head + (n - head) // run * run

    def ends_kept(a: np.ndarray, middle: np.ndarray) -> np.ndarray:
        return np.concatenate([a[:head], middle, a[end:]])

    out = [ends_kept(t, np.repeat(t[head:end:run], 2))]
    for y in ys:
        runs = y[head:end].reshape(-1, run)
        out.append(ends_kept(y, np.column_stack([np.fmin.reduce(runs, axis=1), np.fmax.reduce(runs, axis=1)]).ravel()))
    return tuple(out)
