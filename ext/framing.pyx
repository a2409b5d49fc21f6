# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled journal framing walk: record after record, headers and CRC-32 checked.

Python twin and specification: ``_walk_python`` in ``gaitmon/session/journal.py``; the record layout is
described there. ``tests/unit/test_journal.py`` holds the two equal (and the CRC equal to zlib's).
"""

from libc.stdint cimport uint8_t, uint32_t, int64_t

cdef enum:
    SYNC_LO = 0x5A  # u16 0xA55A, little-endian
    SYNC_HI = 0xA5
    HEAD = 7  # sync u16, kind u8, length u32
    OVERHEAD = 11  # head + crc u32
    MAX_PAYLOAD = 1 << 20
    FIRST_KIND = 1  # DATA … CLOSE
    LAST_KIND = 8

cdef uint32_t TABLE[8][256]


cdef void _fill_table() noexcept:
    """Slice-by-8 tables of the reflected CRC-32 (zlib's: polynomial 0xEDB88320)."""
    cdef uint32_t c
    cdef int i, k
    for i in range(256):
        c = i
        for k in range(8):
            c = (c >> 1) ^ (0xEDB88320U if c & 1 else 0)
        TABLE[0][i] = c
    for i in range(256):
        for k in range(1, 8):
            TABLE[k][i] = (TABLE[k - 1][i] >> 8) ^ TABLE[0][TABLE[k - 1][i] & 0xFF]


_fill_table()


cdef inline uint32_t _u32(const uint8_t* p) noexcept nogil:
    return <uint32_t>p[0] | (<uint32_t>p[1] << 8) | (<uint32_t>p[2] << 16) | (<uint32_t>p[3] << 24)


cdef uint32_t _crc32(const uint8_t* p, Py_ssize_t n) noexcept nogil:
    """zlib.crc32 of ``n`` bytes (initial value 0)."""
    cdef uint32_t c = 0xFFFFFFFFU, one, two
    while n >= 8:
        one = _u32(p) ^ c
        two = _u32(p + 4)
        c = (TABLE[7][one & 0xFF] ^ TABLE[6][(one >> 8) & 0xFF] ^ TABLE[5][(one >> 16) & 0xFF] ^ TABLE[4][one >> 24]
             ^ TABLE[3][two & 0xFF] ^ TABLE[2][(two >> 8) & 0xFF] ^ TABLE[1][(two >> 16) & 0xFF] ^ TABLE[0][two >> 24])
        p += 8
        n -= 8
    while n > 0:
        c = TABLE[0][(c ^ p[0]) & 0xFF] ^ (c >> 8)
        p += 1
        n -= 1
    return c ^ 0xFFFFFFFFU


def crc32(const uint8_t[::1] data):
    """zlib.crc32 of ``data`` (for the tests)."""
    return _crc32(&data[0], data.shape[0]) if data.shape[0] else 0


def walk(const uint8_t[::1] data, Py_ssize_t pos, int64_t[::1] out):
    """Offsets of the whole, checksummed records that follow one another from ``pos`` into ``out``.

    Stops at the end of the file, at a record that fails (incomplete header, bad sync word, unknown
    kind, length over the limit or past the end of the file, checksum mismatch), or when ``out`` is
    full. Returns (records written, offset where the walk stopped).
    """
    cdef Py_ssize_t size = data.shape[0], count = 0, capacity = out.shape[0], after
    cdef uint32_t length
    cdef uint8_t kind
    cdef const uint8_t* base = &data[0] if size else NULL
    with nogil:
        while count < capacity and size - pos >= HEAD:
            kind = base[pos + 2]
            length = _u32(base + pos + 3)
            if base[pos] != SYNC_LO or base[pos + 1] != SYNC_HI or kind < FIRST_KIND or kind > LAST_KIND:
                break
            if length > MAX_PAYLOAD:
                break
            after = pos + OVERHEAD + length
            if after > size or _crc32(base + pos + 2, HEAD - 2 + length) != _u32(base + after - 4):
                break
            out[count] = pos
            count += 1
            pos = after
    return count, pos
