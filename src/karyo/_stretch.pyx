# Kernels behind karyo.stretch for float images (private: callers validate).
# Two passes instead of numpy's six (min, max, NaN check, copy, subtract,
# scale, cast), with mahotas's float64 arithmetic so the result is identical.

from libc.math cimport isfinite
from libc.stdint cimport uint8_t

from karyo._types cimport real_t


def finite_range(const real_t[::1] values):
    """(smallest, largest, n_finite) of the finite values; (0, 0, 0) if there is none."""
    cdef Py_ssize_t i, n = values.shape[0], n_finite = 0
    cdef double value, smallest = 0.0, largest = 0.0
    with nogil:
        for i in range(n):
            value = values[i]
            if isfinite(value):
                if n_finite == 0:
                    smallest = largest = value
                elif value < smallest:
                    smallest = value
                elif value > largest:
                    largest = value
                n_finite += 1
    return smallest, largest, n_finite


def stretch_to_uint8(const real_t[::1] values, uint8_t[::1] out, double smallest,
                     double largest, double scale, double low, bint all_finite):
    """out = uint8((clip(values, smallest, largest) - smallest) * scale + low); NaN -> low.

    The operations and their order are mahotas's (shift, scale, then add `low`
    only if it is not 0), so the rounding and the truncating cast match.
    """
    cdef Py_ssize_t i, n = values.shape[0]
    cdef double value, shifted
    cdef uint8_t nan_value = <uint8_t>low
    with nogil:
        if all_finite and low == 0:  # the usual case: a loop the compiler vectorises
            for i in range(n):
                out[i] = <uint8_t>((values[i] - smallest) * scale)
        else:
            for i in range(n):
                value = values[i]
                if value != value:
                    out[i] = nan_value
                    continue
                if value < smallest:
                    value = smallest
                elif value > largest:
                    value = largest
                shifted = (value - smallest) * scale
                if low != 0:
                    shifted = shifted + low
                out[i] = <uint8_t>shifted
