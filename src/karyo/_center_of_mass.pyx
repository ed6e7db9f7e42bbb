# Kernel behind karyo.center_of_mass: per-label sums of value and of value
# times each coordinate, in one pass (private: the caller validates).

from libc.stdint cimport int64_t

from karyo._types cimport number_t


def labeled_moments(const number_t[::1] values, const int64_t[::1] labels,
                    const int64_t[::1] shape, double[:, ::1] totals):
    """Per label: totals[label, 0] += value, totals[label, 1 + d] += value * coord[d].

    `values` and `labels` are raveled C-order arrays of `shape`; the pixel
    coordinates are tracked with an odometer instead of divisions.
    """
    cdef Py_ssize_t n = values.shape[0]
    cdef Py_ssize_t ndim = shape.shape[0]
    cdef Py_ssize_t i, d, label
    cdef double value
    cdef int64_t[::1] coord = shape.copy()
    coord[:] = 0
    with nogil:
        for i in range(n):
            label = labels[i]
            value = <double>values[i]
            totals[label, 0] += value
            for d in range(ndim):
                totals[label, 1 + d] += value * coord[d]
            d = ndim - 1
            coord[d] += 1
            while d > 0 and coord[d] == shape[d]:
                coord[d] = 0
                d -= 1
                coord[d] += 1
