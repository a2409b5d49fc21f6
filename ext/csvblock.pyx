# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled fast path of the IMU sample CSV reader: one block of whole lines into arrays.

It accepts a strict subset of what the reader's reference paths accept (``_Reader._parse_fast``,
numpy.loadtxt, and ``_Reader._parse_slow``, the csv module; ``gaitmon/io/imu_csv.py``) and gives the
same numbers for it; for anything else it answers "unusual" and the reader takes those paths.
``tests/unit/test_csvblock.py`` holds them equal.

Accepted: lines ending in ``\\n`` or ``\\r\\n`` (the block's last line may have no end), exactly the
header's number of fields separated by ``,``; numeric fields ``[+-]digits[.digits][(e|E)[+-]digits]``
(digits on at least one side of the point), a side field ``left`` or ``right``, and any printable
ASCII but ``"`` in the ignored columns. Unusual: blank lines, quotes, white space around numbers,
``nan``/``inf``, more than 19 significant digits, a sample value beyond the float32 range, and
numbers outside the exact range below.

Numbers are converted exactly as a correctly rounded ``strtod`` (hence as Python's ``float`` and
numpy): a decimal ``m · 10^e`` with an integer ``m ≤ 2^53`` and ``|e| ≤ 22`` is one IEEE multiply or
divide of two exactly representable doubles, which rounds once, correctly (Clinger's fast path).
Every other number is unusual. Sample values are then rounded to float32, as the reader's cast does.
"""

from libc.stdint cimport uint8_t, uint64_t, int8_t
from libc.math cimport isinf

cdef enum:
    TIME = -2  # roles of the fields, from the header (see parse_block)
    SIDE = -3
    IGNORED = -1

cdef double POW10[23]
cdef int _k
POW10[0] = 1.0
for _k in range(1, 23):
    POW10[_k] = POW10[_k - 1] * 10.0  # exact: every 10^k with k ≤ 22 is a double

cdef uint64_t MAX_EXACT = 1ULL << 53


cdef inline bint _digit(uint8_t c) noexcept nogil:
    return 48 <= c <= 57


cdef inline bint _line_end(const uint8_t* p, const uint8_t* end) noexcept nogil:
    """Whether a line ends at ``p``: the block's end, ``\\n``, or ``\\r`` then ``\\n`` or the block's end."""
    return p == end or p[0] == 10 or (p[0] == 13 and (p + 1 == end or p[1] == 10))


cdef inline const uint8_t* _number(const uint8_t* p, const uint8_t* end, double* out) noexcept nogil:
    """The number starting at ``p``: where it ends (``out`` set), or NULL (unusual).

    One pass: digits go into ``m`` as they are read; leading zeros are not significant digits.
    The caller checks that a field ends where the number does.
    """
    cdef bint negative = False, exp_negative = False
    cdef uint64_t m = 0
    cdef const uint8_t* q
    cdef const uint8_t* s
    cdef Py_ssize_t significant, digits
    cdef int exponent = 0, exp_digits = 0, fraction = 0
    cdef double v
    if p < end and (p[0] == 43 or p[0] == 45):  # + -
        negative = p[0] == 45
        p += 1
    q = p
    while p < end and p[0] == 48:
        p += 1
    s = p
    while p < end and _digit(p[0]):
        m = m * 10 + (p[0] - 48)
        p += 1
    significant = p - s
    digits = p - q
    if p < end and p[0] == 46:  # .
        p += 1
        q = p
        if m == 0:
            while p < end and p[0] == 48:
                p += 1
        s = p
        while p < end and _digit(p[0]):
            m = m * 10 + (p[0] - 48)
            p += 1
        significant += p - s
        fraction = <int>(p - q) if p - q < 100000 else 100000
        digits += p - q
    if significant > 19 or digits == 0:
        return NULL
    if p < end and (p[0] == 101 or p[0] == 69):  # e E
        p += 1
        if p < end and (p[0] == 43 or p[0] == 45):
            exp_negative = p[0] == 45
            p += 1
        while p < end and _digit(p[0]):
            exponent = exponent * 10 + (p[0] - 48)
            exp_digits += 1
            if exp_digits > 4:
                return NULL
            p += 1
        if exp_digits == 0:
            return NULL
    if m == 0:
        out[0] = -0.0 if negative else 0.0
        return p
    exponent = (-exponent if exp_negative else exponent) - fraction
    if m > MAX_EXACT or exponent > 22 or exponent < -22:
        return NULL
    v = <double>m  # exact: m ≤ 2^53
    if exponent >= 0:
        v = v * POW10[exponent]
    else:
        v = v / POW10[-exponent]
    out[0] = -v if negative else v
    return p


cdef Py_ssize_t _parse(const uint8_t* data, Py_ssize_t n, const int8_t* role, Py_ssize_t n_fields,
                       double* t, uint8_t* right, float* x, Py_ssize_t capacity) noexcept nogil:
    cdef const uint8_t* p = data
    cdef const uint8_t* end = data + n
    cdef const uint8_t* start
    cdef Py_ssize_t row = 0, f
    cdef int r
    cdef double v
    cdef float v32
    cdef uint8_t c
    while p < end:
        if row >= capacity:
            return -1
        f = 0
        while True:
            r = role[f]
            if r >= 0:
                p = _number(p, end, &v)
                if p == NULL:
                    return -1
                v32 = <float>v
                if isinf(v32):
                    return -1
                x[row * 6 + r] = v32
            elif r == TIME:
                p = _number(p, end, &v)
                if p == NULL:
                    return -1
                t[row] = v
            elif r == SIDE:
                if end - p >= 4 and p[0] == 108 and p[1] == 101 and p[2] == 102 and p[3] == 116:  # left
                    right[row] = 0
                    p += 4
                elif (end - p >= 5 and p[0] == 114 and p[1] == 105 and p[2] == 103 and p[3] == 104
                        and p[4] == 116):  # right
                    right[row] = 1
                    p += 5
                else:
                    return -1
            else:
                while p < end and p[0] != 44 and not _line_end(p, end):
                    c = p[0]
                    if c < 32 or c > 126 or c == 34:  # printable ASCII but "
                        return -1
                    p += 1
            f += 1
            if f == n_fields:
                break
            if p == end or p[0] != 44:  # , (too few fields, or something after a field)
                return -1
            p += 1
        if not _line_end(p, end):  # too many fields, or something after the last one
            return -1
        if p < end and p[0] == 13:
            p += 1
        if p < end:
            p += 1  # the \n
        row += 1
    return row


def parse_block(const uint8_t[::1] data, const int8_t[::1] role, double[::1] t, uint8_t[::1] right,
                float[:, ::1] x):
    """Parse whole lines of the samples CSV (no header) into ``t``, ``right`` and ``x``.

    Parameters
    ----------
    data : bytes-like
        The block: whole lines, the last one with or without its line end.
    role : int8 array, one entry per field of a line
        ``-2`` the time (s), ``-3`` the side, ``0…5`` the column of ``x`` a sample value goes to
        (ax, ay, az, gx, gy, gz), ``-1`` an ignored field.
    t, right, x : output arrays with room for the block's lines
        float64 ``(n,)`` times as written; uint8 ``(n,)`` 1 for ``right``, 0 for ``left``; float32
        ``(n, 6)`` sample values in the file's units.

    Returns
    -------
    int
        The number of rows parsed, or -1 when anything is unusual (the outputs are then undefined).
    """
    if x.shape[1] != 6 or right.shape[0] < t.shape[0] or x.shape[0] < t.shape[0]:
        raise ValueError("parse_block: right and x need as many rows as t, and x six columns")
    cdef Py_ssize_t rows
    with nogil:
        rows = _parse(&data[0] if data.shape[0] else NULL, data.shape[0], &role[0], role.shape[0],
                      &t[0] if t.shape[0] else NULL, &right[0] if right.shape[0] else NULL,
                      &x[0, 0] if x.shape[0] else NULL, t.shape[0])
    return rows
