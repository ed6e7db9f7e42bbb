# Kernels behind karyo.features.lbp (private: callers validate).
#
# Each circle sample is read from one pixel: the caller turns mahotas's
# sampling rule into a row table and a column table per angle (-1 where the
# sample falls outside the image and reads 0), so the kernel only gathers and
# compares.

from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc

ctypedef fused pixel_t:
    uint8_t
    uint16_t
    uint32_t
    int8_t
    int16_t
    int32_t
    float
    double

# Below this many points a table of every code's rotation minimum (2**points
# entries) is cheaper than rotating each pixel's code.
cdef enum:
    TABLE_POINTS = 16


def binary_codes(const pixel_t[:, ::1] centres, const pixel_t[:, ::1] samples,
                 const int64_t[:, ::1] row_maps, const int64_t[:, ::1] col_maps,
                 uint32_t[:, ::1] codes):
    """codes[i, j] = sum over angles a of 2**a * (sample_a(i, j) > centres[i, j]).

    sample_a(i, j) is samples[row_maps[a, i], col_maps[a, j]], or 0 when either
    index is -1. At most 32 angles (one bit each).
    """
    cdef Py_ssize_t rows = centres.shape[0], cols = centres.shape[1]
    cdef Py_ssize_t points = row_maps.shape[0]
    cdef Py_ssize_t i, j, a, sample_row, sample_col
    cdef uint32_t bit
    cdef pixel_t sample
    cdef pixel_t zero = 0
    with nogil:
        for i in range(rows):
            for j in range(cols):
                codes[i, j] = 0
            for a in range(points):
                bit = (<uint32_t>1) << a
                sample_row = row_maps[a, i]
                if sample_row < 0:
                    for j in range(cols):
                        codes[i, j] |= bit * (zero > centres[i, j])
                    continue
                for j in range(cols):
                    sample_col = col_maps[a, j]
                    sample = samples[sample_row, sample_col] if sample_col >= 0 else zero
                    # branch-free: neighbours compare either way about as often
                    codes[i, j] |= bit * (sample > centres[i, j])


cdef inline uint32_t rotation_minimum(uint32_t code, int points) noexcept nogil:
    # Rotate right by one within `points` bits, `points` times, keeping the
    # smallest value: mahotas's rotation-invariant code.
    cdef uint32_t smallest = code
    cdef uint32_t top = (<uint32_t>1) << (points - 1)
    cdef int r
    for r in range(points):
        code = (code >> 1) | (top if code & 1 else 0)
        if code < smallest:
            smallest = code
    return smallest


def map_rotation_invariant(uint32_t[::1] codes, int points):
    """Replace each code (< 2**points) by the smallest of its rotations, in place."""
    cdef Py_ssize_t i, n = codes.shape[0]
    cdef Py_ssize_t n_codes = (<Py_ssize_t>1) << points if points < 32 else 0
    cdef uint32_t* table
    if points <= TABLE_POINTS and n > n_codes:
        table = <uint32_t*> malloc(n_codes * sizeof(uint32_t))
        if table == NULL:
            raise MemoryError()
        with nogil:
            for i in range(n_codes):
                table[i] = rotation_minimum(<uint32_t>i, points)
            for i in range(n):
                codes[i] = table[codes[i]]
        free(table)
        return
    with nogil:
        for i in range(n):
            codes[i] = rotation_minimum(codes[i], points)


cdef inline bint is_canonical(uint32_t code, int points) noexcept nogil:
    # True when no rotation of `code` is smaller: stop at the first that is.
    cdef uint32_t top = (<uint32_t>1) << (points - 1)
    cdef uint32_t rotated = code
    cdef int r
    for r in range(points - 1):
        rotated = (rotated >> 1) | (top if rotated & 1 else 0)
        if rotated < code:
            return False
    return True


def canonical_codes(int points, uint32_t largest, uint32_t[::1] out):
    """Write the rotation-minimal codes <= largest, increasing, into `out`; return how many.

    `out` must hold them all (its length bounds the count).
    """
    cdef Py_ssize_t count = 0, capacity = out.shape[0]
    cdef uint64_t code = 0
    with nogil:
        while code <= largest and count < capacity:
            if is_canonical(<uint32_t>code, points):
                out[count] = <uint32_t>code
                count += 1
            code += 1
    return count
