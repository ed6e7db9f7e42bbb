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

ctypedef fused src_t:
    uint8_t
    uint16_t
    uint32_t
    uint64_t
    int8_t
    int16_t
    int32_t
    int64_t
    float
    double


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
