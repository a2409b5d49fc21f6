"""Vectorised number-to-text formatting for the CSV writers and the report's SVG path data (private).

Python's ``"%.6g" % v`` costs about a microsecond per value, far too slow for a million-row IMU file.
Here a column of ``n`` numbers becomes a slot-major ``(width, n)`` ``uint8`` block of ASCII codes
(a fixed template of character slots per value) in which unused slots hold the pad byte ``0``. The
blocks are stacked with separator rows, transposed to row order and the pad bytes deleted with
``bytes.translate`` (:func:`join_rows`), giving the CSV text.

The output is byte-identical to ``"%.6g" % float(np.float32(v))`` and ``"%.6f" % t`` (checked in the
tests): for float32 values whose decimal exponent is in [-7, 12] the scaling to six digits is an
exact floating-point product or a quotient that cannot straddle a rounding boundary, so ``np.rint``
(round half to even) rounds exactly like Python. Values outside that range (never seen in IMU
data) are formatted by Python itself. Times (``"%.6f"``) are scaled with an error-free product
(Dekker), so they too round exactly like Python; this needs ``|t| < 9.9e6`` s, beyond which the caller
falls back to Python formatting. :func:`f1_block` (``"%.1f"``, the SVG coordinates of
:mod:`gaitmon.report.svg`) is made the same way; :func:`join_slots` joins blocks and constant texts without separators.

Nine digits (:func:`g9_block`, :func:`f9_block`) serve the lossless BIDS export: nine significant
digits always give back the same float32, nine decimals give times to 0.5 ns. :func:`f9_block` is
byte-identical to ``"%.9f"`` (same error-free scaling as for ``"%.6f"``). :func:`g9_block` has the
layout of ``"%.9g"`` but its scaled product is rounded once in floating point, so in rare near-tie
cases its ninth digit is one unit off the correctly rounded one; the text then still lies within
one unit of the ninth digit (at most 1e-8 relative) of the float32 value, closer than the 2**-25
relative half-spacing of float32, so it reads back as the same float32 (see :func:`g9_block`).
"""

from __future__ import annotations

import numpy as np

PAD = 0
_ZERO = ord("0")
_MINUS, _POINT, _PLUS, _E = ord("-"), ord("."), ord("+"), ord("e")

#: Exact powers of ten 10**0 .. 10**22.
_POW10 = 10.0 ** np.arange(23)

#: Number of slots (rows) of a block produced by :func:`g6_block`.
G6_WIDTH = 21
#: Number of slots of a block produced by :func:`f6_block`.
F6_WIDTH = 15
#: Times with ``|t|`` at or above this are not handled by :func:`f6_block`.
F6_LIMIT = 9.9e6

_G6_EXP_MIN = -7
_G6_EXP_MAX = 12


def _digits_into(out: np.ndarray, m: np.ndarray) -> None:
    """Write the decimal digits (ASCII) of non-negative int64 ``m`` into the rows of ``out``.

    ``out`` is ``(count, n)``; row 0 gets the most significant digit.
    """
    q = m
    for k in range(out.shape[0] - 1, -1, -1):
        nq = q // 10  # floor_divide by a scalar is fast; np.divmod / % are not
        out[k] = q - nq * 10 + _ZERO
        q = nq


def _put(row: np.ndarray, cond: np.ndarray, char: int) -> None:
    """``row[:] = char where cond else PAD`` in one pass (row is uint8)."""
    np.multiply(cond, np.uint8(char), out=row)


def _scale(a: np.ndarray, e: np.ndarray, digits: int) -> np.ndarray:
    """``rint(a * 10**(digits - 1 - e))`` with one product or quotient by an exact power of ten."""
    k = digits - 1 - e
    p = _POW10[np.clip(np.abs(k), 0, 22)]
    return np.rint(np.where(k >= 0, a * p, a / p))


def _decimal(v: np.ndarray, digits: int, exp_min: int, exp_max: int):
    """Decimal form ``|v| ~ m * 10**(e - digits + 1)`` with ``digits`` significant digits.

    Returns ``m`` (float64 integers in ``[10**(digits-1), 10**digits)``, or 0), ``e`` (int64) and
    ``fallback`` (bool): where ``fallback`` (non-finite, or ``e`` outside ``[exp_min, exp_max]``)
    or ``v == 0``, ``m`` and ``e`` are 0.
    """
    a = np.abs(v)
    zero = a == 0
    finite = np.isfinite(a)
    safe = np.where(zero | ~finite, 1.0, a)
    e = np.floor(np.log10(safe)).astype(np.int64)
    m = _scale(safe, e, digits)
    top, bottom = 10.0 ** digits, 10.0 ** (digits - 1)
    # log10 may be off by one next to powers of ten, and rounding may carry to 10**digits.
    for _ in range(2):
        up = m >= top
        down = m < bottom
        if not (up.any() or down.any()):
            break
        e = e + up - down
        m = np.where(up | down, _scale(safe, e, digits), m)
    fallback = ~zero & (~finite | (e < exp_min) | (e > exp_max))
    m = np.where(zero | fallback, 0.0, m)
    e = np.where(zero | fallback, 0, e)
    return m, e, fallback


def _g_block(values: np.ndarray, digits: int, exp_min: int, exp_max: int) -> np.ndarray:
    """Float32 values in the layout of ``"%.<digits>g"``: a slot-major ``(2 * digits + 9, n)`` block.

    With the significant digits ``D0..D(digits-1)`` (mantissa ``m``, decimal exponent ``e``) the
    slots are::

        sign | "0" "." z z z | D0 P1 D1 P2 ... P(digits-1) D(digits-1) | "e" ± X X
                 (-4 <= e < 0)                                          (e < -4 or e >= digits)

    where ``Pk`` is the decimal point when it falls after ``D(k-1)``, the ``z`` are the zeros of
    ``0.000ddd``, and trailing zero digits (and a bare point) are padded away, as ``%g`` does.
    Values with ``e`` outside ``[exp_min, exp_max]`` and non-finite values are formatted by Python.
    """
    width = 2 * digits + 9
    v = np.asarray(values, dtype=np.float32).astype(np.float64)
    n = v.size
    neg = np.signbit(v)
    m, e, fallback = _decimal(v, digits, exp_min, exp_max)

    out = np.empty((width, n), dtype=np.uint8)
    x = 2 * digits + 5  # first exponent slot
    d = out[6:x:2]  # the digit slots
    _digits_into(d, m.astype(np.int64))
    ndig = np.ones(n, dtype=np.int8)  # significant digits left after stripping trailing zeros
    for k in range(1, digits):
        ndig[d[k] != _ZERO] = k + 1

    e8 = e.astype(np.int8)  # small ints: cheaper comparisons from here on
    fixed = (e8 >= -4) & (e8 < digits)
    fpos = fixed & (e8 >= 0)
    fneg = fixed & (e8 < 0)
    expo = ~fixed
    pointpos = np.full(n, 99, dtype=np.int8)
    pointpos[fpos] = e8[fpos] + 1
    pointpos[expo] = 1
    ae = np.abs(e8).astype(np.uint8)

    _put(out[0], neg, _MINUS)
    _put(out[1], fneg, _ZERO)
    _put(out[2], fneg, _POINT)
    for j in range(1, 4):
        _put(out[2 + j], fneg & (e8 <= -1 - j), _ZERO)
    for k in range(1, digits):
        _put(out[5 + 2 * k], (pointpos == k) & (ndig > k), _POINT)
        d[k] *= (ndig > k) | (fpos & (e8 >= k))
    _put(out[x], expo, _E)
    out[x + 1] = np.where(e8 >= 0, _PLUS, _MINUS).astype(np.uint8)
    out[x + 1] *= expo
    out[x + 2] = ae // 10 + _ZERO
    out[x + 2] *= expo
    out[x + 3] = ae % 10 + _ZERO
    out[x + 3] *= expo

    if fallback.any():
        texts = [f"%.{digits}g" % value for value in v[fallback].tolist()]
        chars = np.array(texts, dtype=f"S{width}").view(np.uint8).reshape(-1, width)
        out[:, fallback] = chars.T
    return out


def g6_block(values: np.ndarray) -> np.ndarray:
    """Format float32 values like ``"%.6g"`` (byte-identical); a ``(G6_WIDTH, n)`` block (:func:`_g_block`)."""
    return _g_block(values, 6, _G6_EXP_MIN, _G6_EXP_MAX)


def _round_scaled(a: np.ndarray, scale: float) -> np.ndarray:
    """``a * scale`` rounded half-to-even on the *exact* product (``scale`` = 10, 1e6 or 1e9).

    ``p = a * scale`` is the double nearest the exact product, so only when ``p`` sits exactly on a
    half-integer can the exact product lie on the other side of it. Veltkamp splits ``a`` into
    halves of at most 26 and 27 bits whose products with ``scale`` (``2**k * 5**k``, at most 21
    significant bits) are exact, which gives the rounding error of ``p`` (Dekker) and decides those
    cases.
    """
    p = a * scale
    c = 134217729.0 * a  # Veltkamp split, 2**27 + 1
    hi = c - (c - a)
    lo = a - hi
    err = (hi * scale - p) + lo * scale
    r = np.rint(p)
    half = (p - np.floor(p)) == 0.5
    if half.any():
        r = np.where(half & (err > 0), np.ceil(p), r)
        r = np.where(half & (err < 0), np.floor(p), r)
    return r


def round_micro(a: np.ndarray) -> np.ndarray:
    """``a * 1e6`` rounded exactly like ``"%.6f"`` does (``0 <= a < F6_LIMIT``)."""
    return _round_scaled(a, 1e6)


def _fixed_block(values: np.ndarray, decimals: int) -> np.ndarray:
    """Float64 values like ``"%.<decimals>f"``: slots sign, 7 integer digits, point, decimals."""
    v = np.asarray(values, dtype=np.float64)
    unit = 10 ** decimals
    scaled = _round_scaled(np.abs(v), float(unit)).astype(np.int64)
    ip = scaled // unit
    out = np.empty((9 + decimals, v.size), dtype=np.uint8)
    out[0] = np.where(np.signbit(v), _MINUS, PAD)
    idig = out[1:8]
    _digits_into(idig, ip)
    leading = np.ones(v.size, dtype=bool)  # still inside the leading zeros of the integer part
    for k in range(idig.shape[0] - 1):
        leading &= idig[k] == _ZERO
        idig[k] = np.where(leading, PAD, idig[k])
    out[8] = _POINT
    _digits_into(out[9:], scaled - ip * unit)
    return out


#: Number of slots of a block produced by :func:`f1_block`.
F1_WIDTH = 10
#: Values at or above this are not handled by :func:`f1_block` (seven integer digits).
F1_LIMIT = 9.9e6


def f1_block(values: np.ndarray) -> np.ndarray:
    """Format float64 values like ``"%.1f"`` (byte-identical); returns a ``(F1_WIDTH, n)`` block.

    Requires finite values with ``|v| < F1_LIMIT`` (checked by the caller).
    """
    return _fixed_block(values, 1)


def f6_block(values: np.ndarray) -> np.ndarray:
    """Format float64 values like ``"%.6f"``; returns a slot-major ``(F6_WIDTH, n)`` block.

    Requires finite values with ``|v| < F6_LIMIT`` (checked by the caller).
    """
    return _fixed_block(values, 6)


def text_block(texts: list[str], codes: np.ndarray) -> np.ndarray:
    """Slot-major block of short ASCII texts chosen by an integer code per value (e.g. sides)."""
    width = max(len(t) for t in texts)
    table = np.array(texts, dtype=f"S{width}").view(np.uint8).reshape(len(texts), width)
    return np.ascontiguousarray(table[codes].T)


def join_rows(blocks: list[np.ndarray], sep: str = ",") -> bytes:
    """CSV text from slot-major blocks: ``sep`` between blocks, ``\n`` after each row, pads dropped."""
    parts: list[np.ndarray | bytes] = []
    for i, b in enumerate(blocks):
        parts += [b, (sep if i < len(blocks) - 1 else "\n").encode("ascii")]
    return join_slots(parts, blocks[0].shape[1])


def join_slots(blocks: list[np.ndarray | bytes], n: int) -> bytes:
    """The ``n`` rows of slot-major blocks one after the other, each row's slots in block order, pads
    dropped; a ``bytes`` block is the same text in every row."""
    widths = [len(b) if isinstance(b, bytes) else b.shape[0] for b in blocks]
    rows = np.empty((n, sum(widths)), dtype=np.uint8)
    at = 0
    for b, width in zip(blocks, widths):
        rows[:, at:at + width] = np.frombuffer(b, dtype=np.uint8) if isinstance(b, bytes) else b.T
        at += width
    return rows.tobytes().translate(None, b"\x00")


#: Number of slots of a block produced by :func:`g9_block`.
G9_WIDTH = 27
#: Number of slots of a block produced by :func:`f9_block`.
F9_WIDTH = 18
#: Values at or above this are not handled by :func:`f9_block` (``v * 1e9`` must stay below 2**52).
F9_LIMIT = 4.5e6

# Decimal exponents for which 10**(8 - e) is an exact double (|8 - e| <= 22).
_G9_EXP_MIN = -14
_G9_EXP_MAX = 30


def g9_block(values: np.ndarray) -> np.ndarray:
    """Format float32 values with nine significant digits in the layout of ``"%.9g"`` (:func:`_g_block`).

    Exactness: the mantissa is ``rint`` of the double nearest ``|v| * 10**(8 - e)`` (one rounding,
    error at most 2**-23 for a result below 2**30), so it is the correctly rounded mantissa except
    when the exact scaled value lies within 2**-23 of a half-integer, where it may be one unit
    off. Either way the text ``T`` obeys ``|T - v| <= (0.5 + 2**-23) * 10**(e - 8)``, which is
    below ``1e-8 * |v|``, while the float32 neighbours' midpoints are at least ``2**-25 * |v|``
    (about ``2.98e-8 * |v|``) away; so parsing ``T`` (also via a double, whose own rounding moves
    it by at most ``2**-53`` relative) gives back exactly ``v``. Values with a decimal exponent
    outside [-14, 30] (never seen in IMU data) and non-finite values are formatted by Python.
    """
    return _g_block(values, 9, _G9_EXP_MIN, _G9_EXP_MAX)


def round_nano(a: np.ndarray) -> np.ndarray:
    """``a * 1e9`` rounded exactly like ``"%.9f"`` does (``0 <= a < F9_LIMIT``)."""
    return _round_scaled(a, 1e9)


def f9_block(values: np.ndarray) -> np.ndarray:
    """Format float64 values like ``"%.9f"``; returns a ``(F9_WIDTH, n)`` block.

    Requires finite values with ``|v| < F9_LIMIT`` (checked by the caller).
    """
    return _fixed_block(values, 9)
