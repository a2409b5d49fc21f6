"""Vectorised number-to-text formatting for the CSV writers (private).

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
falls back to Python formatting.

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


def _scale6(a: np.ndarray, e: np.ndarray) -> np.ndarray:
    """``rint(a * 10**(5 - e))`` using exact powers of ten (e clipped to the table's range)."""
    k = 5 - e
    p = _POW10[np.clip(np.abs(k), 0, 22)]
    return np.rint(np.where(k >= 0, a * p, a / p))


def g6_block(values: np.ndarray) -> np.ndarray:
    """Format float32 values like ``"%.6g"``.

    Returns a slot-major ``(G6_WIDTH, n)`` uint8 block: slot ``k`` of value ``i`` is
    ``block[k, i]``, ``PAD`` where the slot is unused. With the six significant digits
    ``D0..D5`` (mantissa ``m``, decimal exponent ``e``) the 21 slots are::

        sign | "0" "." z z z | D0 P1 D1 P2 D2 P3 D3 P4 D4 P5 D5 | "e" ± X X
                 (-4 <= e < 0)                                    (e < -4 or e >= 6)

    where ``Pk`` is the decimal point when it falls after ``D(k-1)``, the ``z`` are the zeros of
    ``0.000ddd``, and trailing zero digits (and a bare point) are padded away, as ``%g`` does.
    """
    v = np.asarray(values, dtype=np.float32).astype(np.float64)
    n = v.size
    neg = np.signbit(v)
    a = np.abs(v)
    zero = a == 0
    finite = np.isfinite(a)
    safe = np.where(zero | ~finite, 1.0, a)
    e = np.floor(np.log10(safe)).astype(np.int64)
    m = _scale6(safe, e)
    # log10 may be off by one next to powers of ten, and rounding may carry to 1000000.
    for _ in range(2):
        up = m >= 1e6
        down = m < 1e5
        if not (up.any() or down.any()):
            break
        e = e + up - down
        m = np.where(up | down, _scale6(safe, e), m)
    fallback = ~zero & (~finite | (e < _G6_EXP_MIN) | (e > _G6_EXP_MAX))
    m = np.where(zero | fallback, 0.0, m)
    e = np.where(zero | fallback, 0, e)

    out = np.empty((G6_WIDTH, n), dtype=np.uint8)
    d = out[6:17:2]  # the six digit slots D0..D5
    _digits_into(d, m.astype(np.int64))
    ndig = np.ones(n, dtype=np.int8)  # significant digits left after stripping trailing zeros
    for k in range(1, 6):
        ndig[d[k] != _ZERO] = k + 1

    e8 = e.astype(np.int8)  # small ints: cheaper comparisons from here on
    fixed = (e8 >= -4) & (e8 < 6)
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
    for k in range(1, 6):
        _put(out[5 + 2 * k], (pointpos == k) & (ndig > k), _POINT)
        d[k] *= (ndig > k) | (fpos & (e8 >= k))
    _put(out[17], expo, _E)
    out[18] = np.where(e8 >= 0, _PLUS, _MINUS).astype(np.uint8)
    out[18] *= expo
    out[19] = ae // 10 + _ZERO
    out[19] *= expo
    out[20] = ae % 10 + _ZERO
    out[20] *= expo

    if fallback.any():
        texts = ["%.6g" % x for x in v[fallback].tolist()]
        chars = np.array(texts, dtype=f"S{G6_WIDTH}").view(np.uint8).reshape(-1, G6_WIDTH)
        out[:, fallback] = chars.T
    return out


def round_micro(a: np.ndarray) -> np.ndarray:
    """``a * 1e6`` rounded half-to-even on the *exact* product (``0 <= a < F6_LIMIT``).

    ``p = a * 1e6`` is the double nearest the exact product, so only when ``p`` sits exactly on a
    half-integer can the exact product lie on the other side of it; Dekker's error-free product
    gives the sign of the rounding error that decides those cases.
    """
    p = a * 1e6
    c = 134217729.0 * a  # Veltkamp split, 2**27 + 1
    hi = c - (c - a)
    lo = a - hi
    err = (hi * 1e6 - p) + lo * 1e6
    r = np.rint(p)
    half = (p - np.floor(p)) == 0.5
    if half.any():
        r = np.where(half & (err > 0), np.ceil(p), r)
        r = np.where(half & (err < 0), np.floor(p), r)
    return r


def f6_block(values: np.ndarray) -> np.ndarray:
    """Format float64 values like ``"%.6f"``; returns a slot-major ``(F6_WIDTH, n)`` block.

    Requires finite values with ``|v| < F6_LIMIT`` (checked by the caller).
    """
    v = np.asarray(values, dtype=np.float64)
    us = round_micro(np.abs(v)).astype(np.int64)
    ip = us // 10**6
    out = np.empty((F6_WIDTH, v.size), dtype=np.uint8)
    out[0] = np.where(np.signbit(v), _MINUS, PAD)
    idig = out[1:8]
    _digits_into(idig, ip)
    leading = np.ones(v.size, dtype=bool)  # still inside the leading zeros of the integer part
    for k in range(idig.shape[0] - 1):
        leading &= idig[k] == _ZERO
        idig[k] = np.where(leading, PAD, idig[k])
    out[8] = _POINT
    _digits_into(out[9:15], us - ip * 10**6)
    return out


def text_block(texts: list[str], codes: np.ndarray) -> np.ndarray:
    """Slot-major block of short ASCII texts chosen by an integer code per value (e.g. sides)."""
    width = max(len(t) for t in texts)
    table = np.array(texts, dtype=f"S{width}").view(np.uint8).reshape(len(texts), width)
    return np.ascontiguousarray(table[codes].T)


def join_rows(blocks: list[np.ndarray], sep: str = ",") -> bytes:
    """CSV text from slot-major blocks: ``sep`` between blocks, ``\n`` after each row, pads dropped."""
    n = blocks[0].shape[1]
    parts: list[np.ndarray] = []
    for i, b in enumerate(blocks):
        parts.append(b)
        parts.append(np.full((1, n), ord(sep) if i < len(blocks) - 1 else ord("\n"), dtype=np.uint8))
    rows = np.concatenate(parts, axis=0).T  # (n, width) view; tobytes() copies in row order
    return rows.tobytes().translate(None, b"\x00")


#: Number of slots of a block produced by :func:`g9_block`.
G9_WIDTH = 27
#: Number of slots of a block produced by :func:`f9_block`.
F9_WIDTH = 17
#: Values at or above this are not handled by :func:`f9_block` (``v * 1e9`` must stay below 2**52).
F9_LIMIT = 4.5e6

# Decimal exponents for which 10**(8 - e) is an exact double (|8 - e| <= 22).
_G9_EXP_MIN = -14
_G9_EXP_MAX = 30


def _scale9(a: np.ndarray, e: np.ndarray) -> np.ndarray:
    """``rint(a * 10**(8 - e))`` with one rounded product or quotient by an exact power of ten."""
    k = 8 - e
    p = _POW10[np.clip(np.abs(k), 0, 22)]
    return np.rint(np.where(k >= 0, a * p, a / p))


def decimal9(v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nine-significant-digit decimal form ``|v| ~ m * 10**(e - 8)`` of float32 values (as float64).

    Returns ``m`` (float64 integers in [1e8, 1e9), or 0), ``e`` (int64) and ``fallback`` (bool):
    where ``fallback`` (non-finite, or decimal exponent outside [-14, 30]) or ``v == 0``, ``m``
    and ``e`` are 0. See :func:`g9_block` for the accuracy of ``m``.
    """
    a = np.abs(v)
    zero = a == 0
    finite = np.isfinite(a)
    safe = np.where(zero | ~finite, 1.0, a)
    e = np.floor(np.log10(safe)).astype(np.int64)
    m = _scale9(safe, e)
    # log10 may be off by one next to powers of ten, and rounding may carry to 10**9.
    for _ in range(2):
        up = m >= 1e9
        down = m < 1e8
        if not (up.any() or down.any()):
            break
        e = e + up - down
        m = np.where(up | down, _scale9(safe, e), m)
    fallback = ~zero & (~finite | (e < _G9_EXP_MIN) | (e > _G9_EXP_MAX))
    m = np.where(zero | fallback, 0.0, m)
    e = np.where(zero | fallback, 0, e)
    return m, e, fallback


def g9_block(values: np.ndarray) -> np.ndarray:
    """Format float32 values with nine significant digits in the layout of ``"%.9g"``.

    Returns a slot-major ``(G9_WIDTH, n)`` uint8 block (see :func:`g6_block` for the idea). With
    the nine significant digits ``D0..D8`` (mantissa ``m``, decimal exponent ``e``) the 27 slots
    are::

        sign | "0" "." z z z | D0 P1 D1 P2 ... P8 D8 | "e" ± X X
                 (-4 <= e < 0)                         (e < -4 or e >= 9)

    trailing zero digits (and a bare point) padded away, as ``%g`` does.

    Exactness: ``m`` is ``rint`` of the double nearest ``|v| * 10**(8 - e)`` (one rounding, error
    at most 2**-23 for a result below 2**30), so ``m`` is the correctly rounded mantissa except
    when the exact scaled value lies within 2**-23 of a half-integer, where it may be one unit
    off. Either way the text ``T`` obeys ``|T - v| <= (0.5 + 2**-23) * 10**(e - 8)``, which is
    below ``1e-8 * |v|``, while the float32 neighbours' midpoints are at least ``2**-25 * |v|``
    (about ``2.98e-8 * |v|``) away; so parsing ``T`` (also via a double, whose own rounding moves
    it by at most ``2**-53`` relative) gives back exactly ``v``. Values with a decimal exponent
    outside [-14, 30] (never seen in IMU data) and non-finite values are formatted by Python.
    """
    v = np.asarray(values, dtype=np.float32).astype(np.float64)
    n = v.size
    neg = np.signbit(v)
    m, e, fallback = decimal9(v)

    out = np.empty((G9_WIDTH, n), dtype=np.uint8)
    d = out[6:23:2]  # the nine digit slots D0..D8
    _digits_into(d, m.astype(np.int64))
    ndig = np.ones(n, dtype=np.int8)  # significant digits left after stripping trailing zeros
    for k in range(1, 9):
        ndig[d[k] != _ZERO] = k + 1

    e8 = e.astype(np.int8)
    fixed = (e8 >= -4) & (e8 < 9)
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
    for k in range(1, 9):
        _put(out[5 + 2 * k], (pointpos == k) & (ndig > k), _POINT)
        d[k] *= (ndig > k) | (fpos & (e8 >= k))
    _put(out[23], expo, _E)
    out[24] = np.where(e8 >= 0, _PLUS, _MINUS).astype(np.uint8)
    out[24] *= expo
    out[25] = ae // 10 + _ZERO
    out[25] *= expo
    out[26] = ae % 10 + _ZERO
    out[26] *= expo

    if fallback.any():
        texts = ["%.9g" % x for x in v[fallback].tolist()]
        chars = np.array(texts, dtype=f"S{G9_WIDTH}").view(np.uint8).reshape(-1, G9_WIDTH)
        out[:, fallback] = chars.T
    return out


def round_nano(a: np.ndarray) -> np.ndarray:
    """``a * 1e9`` rounded half-to-even on the *exact* product (``0 <= a < F9_LIMIT``).

    As :func:`round_micro`: Veltkamp splits ``a`` into halves of at most 26 and 27 bits whose
    products with ``1e9 = 2**9 * 5**9`` (21 significant bits) are exact, which gives the rounding
    error of ``p = a * 1e9`` exactly; it decides the cases where ``p`` sits on a half-integer.
    """
    p = a * 1e9
    c = 134217729.0 * a  # Veltkamp split, 2**27 + 1
    hi = c - (c - a)
    lo = a - hi
    err = (hi * 1e9 - p) + lo * 1e9
    r = np.rint(p)
    half = (p - np.floor(p)) == 0.5
    if half.any():
        r = np.where(half & (err > 0), np.ceil(p), r)
        r = np.where(half & (err < 0), np.floor(p), r)
    return r


def f9_block(values: np.ndarray) -> np.ndarray:
    """Format non-negative float64 values like ``"%.9f"``; returns a ``(F9_WIDTH, n)`` block.

    Requires finite values with ``0 <= v < F9_LIMIT`` (checked by the caller); the 17 slots are
    seven integer digits (leading zeros padded away), the point and nine decimals.
    """
    v = np.asarray(values, dtype=np.float64)
    ns = round_nano(v).astype(np.int64)
    ip = ns // 10**9
    out = np.empty((F9_WIDTH, v.size), dtype=np.uint8)
    idig = out[0:7]
    _digits_into(idig, ip)
    leading = np.ones(v.size, dtype=bool)  # still inside the leading zeros of the integer part
    for k in range(idig.shape[0] - 1):
        leading &= idig[k] == _ZERO
        idig[k] = np.where(leading, PAD, idig[k])
    out[7] = _POINT
    _digits_into(out[8:17], ns - ip * 10**9)
    return out
