"""Qt-free arithmetic of drawing the dashboard: peak decimation per pixel column of a sliding window.

(Tick values come from :func:`gaitmon.report.svg.nice_ticks`, the one tick rule of all charts. The
report's own decimation, :func:`gaitmon.report.svg.decimate_minmax`, serves a different contract:
a static page of irregular samples whose holes are found from the time stamps, where this one keeps
runs aligned to an evenly sampled stream with NaN gaps, so a sliding window does not shimmer.)"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


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
