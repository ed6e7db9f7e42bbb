# Kernels behind karyo.convolve (private: callers validate).
#
# A 1-D correlation along one axis with a symmetric (or antisymmetric) kernel
# of half-width `radius`: out[i] = sum_k w[k] * (in[i + k] +/- in[i - k]).
# Border handling is reduced to a table: `source_index[j]` is the input index
# read for position j - radius (-1: outside, use `cval`), so the kernels know
# nothing about modes.

from libc.stdint cimport int8_t, int16_t, int32_t, int64_t
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

from karyo._types cimport number_t as src_t

# The separable filter writes float32 images directly (no float64 image of the
# whole size beside them): each output row is combined in float64, then rounded.
ctypedef fused out_t:
    double
    float

cdef extern from "_convolve_simd.h" nogil:
    ctypedef void (*fir_line_fn)(const double* centre, double* out, Py_ssize_t n,
                                 const double* w, Py_ssize_t r, int anti)
    ctypedef void (*fir_rows_fn)(const double** rows, double* out, Py_ssize_t n,
                                 const double* w, Py_ssize_t r, int anti)
    int fir_level(int limit)
    fir_line_fn fir_line_for(int level)
    fir_rows_fn fir_rows_for(int level)

# AVX-512 measured slower than AVX2 here (clock drop): AVX2 is the default.
cdef int _simd_level = fir_level(1)


def simd_level(int limit=1):
    """Select the widest vector instructions up to `limit` (0 portable, 1 AVX2, 2 AVX-512).

    Returns the level in use; the CPU may support less than asked.
    """
    global _simd_level
    _simd_level = fir_level(limit)
    return _simd_level



cdef inline void accumulate_pair(double* acc, const src_t* plus, const src_t* minus,
                                 double weight, bint antisymmetric,
                                 Py_ssize_t width) noexcept nogil:
    cdef Py_ssize_t x
    if antisymmetric:
        for x in range(width):
            acc[x] += weight * (<double> plus[x] - <double> minus[x])
    else:
        for x in range(width):
            acc[x] += weight * (<double> plus[x] + <double> minus[x])


cdef inline void accumulate_two_pairs(double* acc, const src_t* plus1, const src_t* minus1,
                                      const src_t* plus2, const src_t* minus2,
                                      double weight1, double weight2, bint antisymmetric,
                                      Py_ssize_t width) noexcept nogil:
    # Two taps per sweep halve the loads and stores of the accumulator row.
    cdef Py_ssize_t x
    if antisymmetric:
        for x in range(width):
            acc[x] += (weight1 * (<double> plus1[x] - <double> minus1[x])
                       + weight2 * (<double> plus2[x] - <double> minus2[x]))
    else:
        for x in range(width):
            acc[x] += (weight1 * (<double> plus1[x] + <double> minus1[x])
                       + weight2 * (<double> plus2[x] + <double> minus2[x]))


cdef inline void accumulate_one(double* acc, const src_t* row, double weight,
                                Py_ssize_t width) noexcept nogil:
    cdef Py_ssize_t x
    for x in range(width):
        acc[x] += weight * <double> row[x]


def correlate_rows(const src_t[:, :, ::1] src, double[:, :, ::1] dst,
                   const double[::1] weights, const int64_t[::1] source_index,
                   double cval, bint antisymmetric):
    """Correlate along axis 1 of (outer, n, inner) arrays, one row of `inner` at a time.

    Every update is a contiguous sweep over a row, so it vectorises. `src` and
    `dst` must not overlap.
    """
    cdef Py_ssize_t n_outer = src.shape[0], n = src.shape[1], width = src.shape[2]
    cdef Py_ssize_t radius = weights.shape[0] - 1
    cdef Py_ssize_t o, i, k, x, plus, minus, plus2, minus2
    cdef double* acc
    cdef double border_term, sign = -1.0 if antisymmetric else 1.0
    if n == 0 or width == 0 or n_outer == 0:
        return
    with nogil:
        for o in range(n_outer):
            for i in range(n):
                acc = &dst[o, i, 0]
                for x in range(width):
                    acc[x] = weights[0] * <double> src[o, i, x]
                border_term = 0.0
                k = 1
                while k <= radius:
                    plus = source_index[i + radius + k]
                    minus = source_index[i + radius - k]
                    if plus >= 0 and minus >= 0:
                        if k < radius:
                            plus2 = source_index[i + radius + k + 1]
                            minus2 = source_index[i + radius - k - 1]
                            if plus2 >= 0 and minus2 >= 0:
                                accumulate_two_pairs(acc, &src[o, plus, 0], &src[o, minus, 0],
                                                     &src[o, plus2, 0], &src[o, minus2, 0],
                                                     weights[k], weights[k + 1],
                                                     antisymmetric, width)
                                k += 2
                                continue
                        accumulate_pair(acc, &src[o, plus, 0], &src[o, minus, 0],
                                        weights[k], antisymmetric, width)
                    elif plus >= 0:
                        accumulate_one(acc, &src[o, plus, 0], weights[k], width)
                        border_term += sign * weights[k] * cval
                    elif minus >= 0:
                        accumulate_one(acc, &src[o, minus, 0], sign * weights[k], width)
                        border_term += weights[k] * cval
                    else:
                        border_term += (1.0 + sign) * weights[k] * cval
                    k += 1
                if border_term != 0.0:
                    for x in range(width):
                        acc[x] += border_term


def correlate_lines(const src_t[:, :] src, double[:, ::1] dst,
                    const double[::1] weights, const int64_t[::1] source_index,
                    double cval, bint antisymmetric):
    """Correlate along axis 1 of (m, n) arrays, one line at a time.

    Each line is first copied (converted to double, extended by the border
    table) into a padded buffer, so `src` may be `dst` itself.
    """
    cdef Py_ssize_t n_lines = src.shape[0], n = src.shape[1]
    cdef Py_ssize_t radius = weights.shape[0] - 1
    cdef Py_ssize_t padded = n + 2 * radius
    cdef Py_ssize_t m, j, k, x, index
    cdef double* line
    cdef double* centre
    cdef double* out
    cdef double w1, w2
    if n == 0 or n_lines == 0:
        return
    line = <double*> malloc(padded * sizeof(double))
    if line == NULL:
        raise MemoryError()
    centre = line + radius
    with nogil:
        for m in range(n_lines):
            for j in range(padded):
                index = source_index[j]
                line[j] = <double> src[m, index] if index >= 0 else cval
            out = &dst[m, 0]
            for x in range(n):
                out[x] = weights[0] * centre[x]
            k = 1
            while k + 1 <= radius:
                w1 = weights[k]
                w2 = weights[k + 1]
                if antisymmetric:
                    for x in range(n):
                        out[x] += (w1 * (centre[x + k] - centre[x - k])
                                   + w2 * (centre[x + k + 1] - centre[x - k - 1]))
                else:
                    for x in range(n):
                        out[x] += (w1 * (centre[x + k] + centre[x - k])
                                   + w2 * (centre[x + k + 1] + centre[x - k - 1]))
                k += 2
            if k == radius:
                w1 = weights[k]
                if antisymmetric:
                    for x in range(n):
                        out[x] += w1 * (centre[x + k] - centre[x - k])
                else:
                    for x in range(n):
                        out[x] += w1 * (centre[x + k] + centre[x - k])
    free(line)


def separable_rows(const src_t[:, :] src, out_t[:, ::1] dst,
                   const double[::1] row_weights, bint row_anti,
                   const int64_t[::1] row_index,
                   const double[::1] col_weights, bint col_anti,
                   const int64_t[::1] col_index,
                   double cval, Py_ssize_t row_start, Py_ssize_t row_stop,
                   Py_ssize_t col_start, Py_ssize_t col_stop, Py_ssize_t col_block):
    """Correlate each row (`col_weights`), then across rows (`row_weights`).

    Writes rows [row_start, row_stop) x columns [col_start, col_stop) of
    `dst`; `src` and `dst` must not overlap. `row_index` / `col_index` are border tables (see the top of this
    file) of lengths n_rows + 2 rv and n_cols + 2 rh. A `col_weights` of one
    tap means no filtering along rows (a plain conversion to double).

    The row-filtered rows live in a ring of 2 rv + 1 rows, each computed once
    as the sweep down the image first needs it, so the intermediate image is
    never stored; columns go by blocks of `col_block` so the ring stays in L2.
    """
    cdef Py_ssize_t n_rows = src.shape[0], n_cols = src.shape[1]
    cdef Py_ssize_t rv = row_weights.shape[0] - 1, rh = col_weights.shape[0] - 1
    cdef Py_ssize_t ring_size = 2 * rv + 1
    cdef Py_ssize_t stride = src.strides[1] // <Py_ssize_t> sizeof(src_t)
    cdef Py_ssize_t block_start, block_width, i, j, k, position, source, lo, hi, index
    cdef const src_t* row
    cdef double* slot
    cdef double* ring
    cdef double* line
    cdef double* combined = NULL
    cdef const double** ring_rows
    cdef fir_line_fn fir_line = fir_line_for(_simd_level)
    cdef fir_rows_fn fir_rows = fir_rows_for(_simd_level)
    col_start = max(0, col_start)
    col_stop = min(n_cols, col_stop)
    if n_rows == 0 or col_start >= col_stop or row_start >= row_stop:
        return
    col_block = max(1, min(col_block, col_stop - col_start))
    ring = <double*> malloc(ring_size * col_block * sizeof(double))
    line = <double*> malloc((col_block + 2 * rh) * sizeof(double))
    ring_rows = <const double**> malloc(ring_size * sizeof(double*))
    if out_t is float:
        combined = <double*> malloc(col_block * sizeof(double))
    if ring == NULL or line == NULL or ring_rows == NULL or (out_t is float and combined == NULL):
        free(ring)
        free(line)
        free(ring_rows)
        free(combined)
        raise MemoryError()
    with nogil:
        block_start = col_start
        while block_start < col_stop:
            block_width = min(col_block, col_stop - block_start)
            # Positions block_start - rh + j whose table entry is the identity.
            lo = max(0, rh - block_start)
            hi = min(block_width + 2 * rh, n_cols - block_start + rh)
            position = row_start - rv
            for i in range(row_start, row_stop):
                while position <= i + rv:
                    slot = ring + ((position + rv) % ring_size) * block_width
                    source = row_index[position + rv]
                    if source < 0:
                        for j in range(block_width):
                            slot[j] = cval
                    else:
                        row = &src[source, 0]
                        if rh == 0:
                            for j in range(block_width):
                                slot[j] = <double> row[(block_start + j) * stride]
                        else:
                            for j in range(lo):
                                index = col_index[block_start + j]
                                line[j] = <double> row[index * stride] if index >= 0 else cval
                            if stride == 1:
                                for j in range(lo, hi):
                                    line[j] = <double> row[block_start - rh + j]
                            else:
                                for j in range(lo, hi):
                                    line[j] = <double> row[(block_start - rh + j) * stride]
                            for j in range(max(lo, hi), block_width + 2 * rh):
                                index = col_index[block_start + j]
                                line[j] = <double> row[index * stride] if index >= 0 else cval
                            fir_line(line + rh, slot, block_width, &col_weights[0], rh, col_anti)
                    position += 1
                for k in range(ring_size):
                    ring_rows[k] = ring + ((i + k) % ring_size) * block_width
                if out_t is double:
                    fir_rows(ring_rows, &dst[i, block_start], block_width, &row_weights[0], rv,
                             row_anti)
                else:
                    fir_rows(ring_rows, combined, block_width, &row_weights[0], rv, row_anti)
                    for j in range(block_width):
                        dst[i, block_start + j] = <float> combined[j]
            block_start += block_width
    free(ring)
    free(line)
    free(ring_rows)
    free(combined)
