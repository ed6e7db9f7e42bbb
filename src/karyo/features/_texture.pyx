# Kernels behind karyo.features.texture: grey-level co-occurrence counts and
# the sum and difference histograms of Haralick's features (private: callers
# validate shapes, dtypes and value ranges).

from libc.stdint cimport int32_t

from karyo._types cimport integer_t


def cooccurrence_2d(const integer_t[:, :] image, Py_ssize_t dy, Py_ssize_t dx,
                    int32_t[:, ::1] counts):
    """Add 1 to counts[image[y, x], image[y + dy, x + dx]] for every pair inside."""
    cdef Py_ssize_t n0 = image.shape[0], n1 = image.shape[1]
    cdef Py_ssize_t y, x
    cdef Py_ssize_t y_first = max(0, -dy), y_stop = min(n0, n0 - dy)
    cdef Py_ssize_t x_first = max(0, -dx), x_stop = min(n1, n1 - dx)
    with nogil:
        for y in range(y_first, y_stop):
            for x in range(x_first, x_stop):
                counts[<Py_ssize_t>image[y, x], <Py_ssize_t>image[y + dy, x + dx]] += 1


def cooccurrence_3d(const integer_t[:, :, :] image, Py_ssize_t d0, Py_ssize_t d1,
                    Py_ssize_t d2, int32_t[:, ::1] counts):
    """The 3-D version of `cooccurrence_2d`, for the offset (d0, d1, d2)."""
    cdef Py_ssize_t n0 = image.shape[0], n1 = image.shape[1], n2 = image.shape[2]
    cdef Py_ssize_t i, j, k
    cdef Py_ssize_t i_first = max(0, -d0), i_stop = min(n0, n0 - d0)
    cdef Py_ssize_t j_first = max(0, -d1), j_stop = min(n1, n1 - d1)
    cdef Py_ssize_t k_first = max(0, -d2), k_stop = min(n2, n2 - d2)
    with nogil:
        for i in range(i_first, i_stop):
            for j in range(j_first, j_stop):
                for k in range(k_first, k_stop):
                    counts[<Py_ssize_t>image[i, j, k],
                           <Py_ssize_t>image[i + d0, j + d1, k + d2]] += 1


def symmetrise(int32_t[:, ::1] counts):
    """counts <- counts + counts.T, in place (counts is square)."""
    cdef Py_ssize_t n = counts.shape[0]
    cdef Py_ssize_t i, j
    cdef int32_t total
    with nogil:
        for i in range(n):
            for j in range(i, n):
                total = counts[i, j] + counts[j, i]
                counts[i, j] = total
                counts[j, i] = total


def sum_and_difference_histograms(const double[:, ::1] p, double[::1] p_sum,
                                  double[::1] p_difference):
    """p_sum[i + j] += p[i, j] and p_difference[|i - j|] += p[i, j]."""
    cdef Py_ssize_t n = p.shape[0]
    cdef Py_ssize_t i, j
    with nogil:
        for i in range(n):
            for j in range(n):
                p_sum[i + j] += p[i, j]
                p_difference[i - j if i >= j else j - i] += p[i, j]
