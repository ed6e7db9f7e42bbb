# Kernels behind karyo.features.surf (private: callers validate).
#
# SURF as mahotas computes it (mahotas ports dlib's implementation): the
# same box filters, the same non-maximum suppression, the same quirks and the
# same floating-point expressions in the same order, so the points, their
# order and their descriptors are mahotas's. Where mahotas reads outside the
# integral image (undefined behaviour in C++), these kernels clamp instead.

from libc.math cimport atan2, cos, exp, fabs, pow, sin, sqrt, ceil
from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcpy

import numpy as np

from karyo._types cimport integer_t

ctypedef fused floating_t:
    float
    double
    long double

# mahotas's value of pi (not M_PI): it sets the Gaussian weights and the
# orientation window, so the descriptors depend on it.
cdef double PI = 3.1415926535898

# Columns of an interest point row (y, x, scale, score, laplacian) and of a
# SURF row (the point, its angle, its 64 descriptor values).
cdef enum:
    NPOINT = 5
    NSURF = 70


# ---------------------------------------------------------------- integral

cdef inline void recurrence_step(floating_t* pixels, Py_ssize_t n1, Py_ssize_t i,
                                 Py_ssize_t j) noexcept nogil:
    cdef floating_t* here = pixels + i * n1 + j
    here[0] += here[-n1] + here[-1] - here[-n1 - 1]


def integral_recurrence(floating_t[:, ::1] image):
    """In place: I[i, j] += (I[i-1, j] + I[i, j-1]) - I[i-1, j-1], mahotas's recurrence.

    The order of the additions is mahotas's, so float results are identical.
    Each row is a chain of dependent additions; four rows are run together,
    each one column behind the row above, so that their chains overlap.
    """
    cdef Py_ssize_t i, j, k, n0 = image.shape[0], n1 = image.shape[1]
    cdef floating_t* pixels
    if n0 == 0 or n1 == 0:
        return
    pixels = &image[0, 0]
    with nogil:
        for j in range(1, n1):
            pixels[j] += pixels[j - 1]
        for i in range(1, n0):
            pixels[i * n1] += pixels[(i - 1) * n1]
        i = 1
        while i + 4 <= n0:
            # row i + k handles column j - k
            for j in range(1, n1 + 3):
                if j >= 4 and j < n1:
                    recurrence_step(pixels, n1, i, j)
                    recurrence_step(pixels, n1, i + 1, j - 1)
                    recurrence_step(pixels, n1, i + 2, j - 2)
                    recurrence_step(pixels, n1, i + 3, j - 3)
                else:
                    for k in range(4):
                        if 1 <= j - k < n1:
                            recurrence_step(pixels, n1, i + k, j - k)
            i += 4
        while i < n0:
            for j in range(1, n1):
                recurrence_step(pixels, n1, i, j)
            i += 1


def integral_exact(const integer_t[:, ::1] image, double[:, ::1] out):
    """out = integral of an integer image, when every partial sum is exact in double.

    The caller guarantees |sum| < 2**52 for every rectangle, so any order of
    additions gives mahotas's values; a running row sum needs one dependent
    addition per pixel instead of three.
    """
    cdef Py_ssize_t i, j, n0 = image.shape[0], n1 = image.shape[1]
    cdef double row_sum
    with nogil:
        for i in range(n0):
            row_sum = 0.0
            if i == 0:
                for j in range(n1):
                    row_sum += image[0, j]
                    out[0, j] = row_sum
            else:
                for j in range(n1):
                    row_sum += image[i, j]
                    out[i, j] = out[i - 1, j] + row_sum


def integral_bool(unsigned char[:, ::1] image):
    """In place, mahotas's recurrence on a bool array: each step stores ``value != 0``."""
    cdef Py_ssize_t i, j, n0 = image.shape[0], n1 = image.shape[1]
    if n0 == 0 or n1 == 0:
        return
    with nogil:
        for j in range(1, n1):
            image[0, j] = (image[0, j] + image[0, j - 1]) != 0
        for i in range(1, n0):
            image[i, 0] = (image[i, 0] + image[i - 1, 0]) != 0
            for j in range(1, n1):
                image[i, j] = (<int>image[i, j] + (<int>image[i - 1, j] + image[i, j - 1]
                                                   - image[i - 1, j - 1])) != 0


# ---------------------------------------------------------------- rectangles

cdef inline Py_ssize_t flat_index(Py_ssize_t y, Py_ssize_t x, Py_ssize_t n1,
                                  Py_ssize_t total) noexcept nogil:
    # mahotas addresses the buffer as y * n1 + x even when x == -1 (it then
    # reads the previous row); keep that, but never leave the buffer.
    cdef Py_ssize_t k = y * n1 + x
    if k < 0:
        return 0
    if k >= total:
        return total - 1
    return k


cdef inline double sum_rect(const double* integral, Py_ssize_t n0, Py_ssize_t n1,
                            int y0, int x0, int y1, int x1, bint inside=False) noexcept nogil:
    """Sum over the box with corners (y0, x0), (y1, x1), mahotas's clamping rules.

    `inside`: the caller knows every corner lies in the image, so no rule applies.
    """
    cdef Py_ssize_t total = n0 * n1
    if inside:
        return ((integral[(y1 - 1) * n1 + x1 - 1] - integral[(y0 - 1) * n1 + x1 - 1])
                - (integral[(y1 - 1) * n1 + x0 - 1] - integral[(y0 - 1) * n1 + x0 - 1]))
    y0 = y0 - 1 if y0 - 1 > 0 else 0
    x0 = x0 - 1 if x0 - 1 > 0 else 0
    y1 = y1 - 1 if y1 - 1 < n0 else <int>n0 - 1
    x1 = x1 - 1 if x1 - 1 < n1 else <int>n1 - 1
    cdef double A = integral[flat_index(y0, x0, n1, total)]
    cdef double B = integral[flat_index(y0, x1, n1, total)]
    cdef double C = integral[flat_index(y1, x0, n1, total)]
    cdef double D = integral[flat_index(y1, x1, n1, total)]
    return (D - B) - (C - A)


def sum_rect_double(const double[:, ::1] integral, int y0, int x0, int y1, int x1):
    """mahotas's sum_rect on a float64 integral image (callers check it is not empty)."""
    return sum_rect(&integral[0, 0], integral.shape[0], integral.shape[1], y0, x0, y1, x1)


cdef inline double haar_x(const double* integral, Py_ssize_t n0, Py_ssize_t n1,
                          int y, int x, int w, bint inside) noexcept nogil:
    cdef int half = w // 2
    cdef double left = sum_rect(integral, n0, n1, y - half, x - half, (y - half) + w, x, inside)
    cdef double right = sum_rect(integral, n0, n1, y - half, x, (y - half) + w, (x - half) + w,
                                 inside)
    return left - right


cdef inline double haar_y(const double* integral, Py_ssize_t n0, Py_ssize_t n1,
                          int y, int x, int w, bint inside) noexcept nogil:
    cdef int half = w // 2
    cdef double top = sum_rect(integral, n0, n1, y - half, x - half, y, (x - half) + w, inside)
    cdef double bottom = sum_rect(integral, n0, n1, y, x - half, (y - half) + w, (x - half) + w,
                                  inside)
    return top - bottom


# ---------------------------------------------------------------- the sort
# std::sort is not stable: points of equal score come out in the order that
# libstdc++'s introsort leaves them. To return mahotas's order, the sort below
# performs the same comparisons and moves (introsort, median-of-three pivot,
# heapsort past the depth limit, final insertion sort with threshold 16).

cdef struct Sample:
    double angle
    double y
    double x


ctypedef fused sort_key_t:
    double
    Sample


cdef inline bint key_less(const sort_key_t* keys, Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    if sort_key_t is double:
        return keys[a] < keys[b]
    else:
        # std::pair<angle, vector> order: angle, then the vector's y, then x
        if keys[a].angle < keys[b].angle:
            return True
        if keys[b].angle < keys[a].angle:
            return False
        if keys[a].y == keys[b].y:
            return keys[a].x < keys[b].x
        return keys[a].y < keys[b].y


cdef inline void swap_items(Py_ssize_t* items, Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    cdef Py_ssize_t held = items[a]
    items[a] = items[b]
    items[b] = held


cdef void push_heap(Py_ssize_t* items, Py_ssize_t first, Py_ssize_t hole, Py_ssize_t top,
                    Py_ssize_t value, const sort_key_t* keys) noexcept nogil:
    cdef Py_ssize_t parent = (hole - 1) // 2
    while hole > top and key_less(keys, items[first + parent], value):
        items[first + hole] = items[first + parent]
        hole = parent
        parent = (hole - 1) // 2
    items[first + hole] = value


cdef void adjust_heap(Py_ssize_t* items, Py_ssize_t first, Py_ssize_t hole, Py_ssize_t length,
                      Py_ssize_t value, const sort_key_t* keys) noexcept nogil:
    cdef Py_ssize_t top = hole, child = hole
    while child < (length - 1) // 2:
        child = 2 * (child + 1)
        if key_less(keys, items[first + child], items[first + child - 1]):
            child -= 1
        items[first + hole] = items[first + child]
        hole = child
    if (length & 1) == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        items[first + hole] = items[first + child - 1]
        hole = child - 1
    push_heap(items, first, hole, top, value, keys)


cdef void heap_sort(Py_ssize_t* items, Py_ssize_t first, Py_ssize_t last,
                    const sort_key_t* keys) noexcept nogil:
    # std::partial_sort(first, last, last): make_heap, then sort_heap
    cdef Py_ssize_t length = last - first, parent, value
    if length >= 2:
        parent = (length - 2) // 2
        while True:
            adjust_heap(items, first, parent, length, items[first + parent], keys)
            if parent == 0:
                break
            parent -= 1
    while last - first > 1:
        last -= 1
        value = items[last]
        items[last] = items[first]
        adjust_heap(items, first, 0, last - first, value, keys)


cdef void move_median_to_first(Py_ssize_t* items, Py_ssize_t result, Py_ssize_t a,
                               Py_ssize_t b, Py_ssize_t c, const sort_key_t* keys) noexcept nogil:
    if key_less(keys, items[a], items[b]):
        if key_less(keys, items[b], items[c]):
            swap_items(items, result, b)
        elif key_less(keys, items[a], items[c]):
            swap_items(items, result, c)
        else:
            swap_items(items, result, a)
    elif key_less(keys, items[a], items[c]):
        swap_items(items, result, a)
    elif key_less(keys, items[b], items[c]):
        swap_items(items, result, c)
    else:
        swap_items(items, result, b)


cdef Py_ssize_t unguarded_partition(Py_ssize_t* items, Py_ssize_t first, Py_ssize_t last,
                                    Py_ssize_t pivot, const sort_key_t* keys) noexcept nogil:
    while True:
        while key_less(keys, items[first], items[pivot]):
            first += 1
        last -= 1
        while key_less(keys, items[pivot], items[last]):
            last -= 1
        if not (first < last):
            return first
        swap_items(items, first, last)
        first += 1


cdef void introsort_loop(Py_ssize_t* items, Py_ssize_t first, Py_ssize_t last,
                         Py_ssize_t depth_limit, const sort_key_t* keys) noexcept nogil:
    cdef Py_ssize_t cut
    while last - first > 16:
        if depth_limit == 0:
            heap_sort(items, first, last, keys)
            return
        depth_limit -= 1
        move_median_to_first(items, first, first + 1, first + (last - first) // 2, last - 1, keys)
        cut = unguarded_partition(items, first + 1, last, first, keys)
        introsort_loop(items, cut, last, depth_limit, keys)
        last = cut


cdef void linear_insert(Py_ssize_t* items, Py_ssize_t last,
                        const sort_key_t* keys) noexcept nogil:
    cdef Py_ssize_t value = items[last]
    cdef Py_ssize_t before = last - 1
    while key_less(keys, value, items[before]):
        items[last] = items[before]
        last = before
        before -= 1
    items[last] = value


cdef void insertion_sort(Py_ssize_t* items, Py_ssize_t first, Py_ssize_t last,
                         const sort_key_t* keys) noexcept nogil:
    cdef Py_ssize_t i, k, value
    if first == last:
        return
    for i in range(first + 1, last):
        if key_less(keys, items[i], items[first]):
            value = items[i]
            k = i
            while k > first:
                items[k] = items[k - 1]
                k -= 1
            items[first] = value
        else:
            linear_insert(items, i, keys)


cdef void libstdcxx_sort(Py_ssize_t* items, Py_ssize_t n, const sort_key_t* keys) noexcept nogil:
    """Sort `items` (indices into `keys`) as std::sort would, ascending by key_less."""
    cdef Py_ssize_t i, log2n = 0
    if n == 0:
        return
    while (n >> (log2n + 1)) > 0:
        log2n += 1
    introsort_loop(items, 0, n, 2 * log2n, keys)
    if n > 16:
        insertion_sort(items, 0, 16, keys)
        for i in range(16, n):
            linear_insert(items, i, keys)
    else:
        insertion_sort(items, 0, n, keys)


def sort_like_libstdcxx(const double[::1] keys):
    """The permutation std::sort applies to `keys` (ascending): exposed for tests."""
    cdef Py_ssize_t i, n = keys.shape[0]
    order = np.arange(n, dtype=np.intp)
    cdef Py_ssize_t[::1] items = order
    if n:
        with nogil:
            libstdcxx_sort(&items[0], n, &keys[0])
    return order


# ---------------------------------------------------------------- detector

cdef int border_size(int octave, int nr_intervals) noexcept nogil:
    cdef double lobe = pow(2.0, octave + 1.0) * (nr_intervals + 1) + 1
    return <int>ceil(3 * lobe / 2.0)


cdef int step_size(int initial_step_size, int octave) noexcept nogil:
    return initial_step_size * <int>(pow(2.0, <double>octave) + 0.5)


cdef void fill_octave(const double* integral, Py_ssize_t n0, Py_ssize_t n1, double* pyramid,
                      Py_ssize_t rows, Py_ssize_t cols, int octave, int nr_intervals,
                      int step) noexcept nogil:
    """Signed determinant of the Hessian (sign = the Laplacian's) at each sample."""
    cdef int border = border_size(octave, nr_intervals) * step
    cdef int i, k, lobe, offset, y, x, row_lo, row_hi, col_lo, col_hi, y_last, x_last
    cdef int heights[8]
    cdef int widths[8]
    cdef int dys[8]
    cdef int dxs[8]
    cdef int tops[8]
    cdef int bottoms[8]
    cdef int lefts[8]
    cdef int rights[8]
    cdef const double* top_rows[8]
    cdef const double* bottom_rows[8]
    cdef double area_inv, dxx, dyy, dxy, determinant, sign
    cdef double boxes[8]
    cdef double* out
    cdef bint fast
    if border >= n0 - border or border >= n1 - border:
        return
    y_last = border + ((<int>n0 - border - 1 - border) // step) * step
    x_last = border + ((<int>n1 - border - 1 - border) // step) * step
    for i in range(nr_intervals):
        lobe = <int>(pow(2.0, octave + 1.0) + 0.5) * (i + 1) + 1
        area_inv = 1.0 / pow(3.0 * lobe, 2.0)
        offset = lobe // 2 + 1
        # the eight boxes: Dxx (two), Dyy (two), Dxy (four), as (dy, dx, h, w)
        dys[0] = 0; dxs[0] = 0; heights[0] = 2 * lobe - 1; widths[0] = 3 * lobe
        dys[1] = 0; dxs[1] = 0; heights[1] = 2 * lobe - 1; widths[1] = lobe
        dys[2] = 0; dxs[2] = 0; heights[2] = 3 * lobe; widths[2] = 2 * lobe - 1
        dys[3] = 0; dxs[3] = 0; heights[3] = lobe; widths[3] = 2 * lobe - 1
        dys[4] = -offset; dxs[4] = offset
        dys[5] = offset; dxs[5] = -offset
        dys[6] = offset; dxs[6] = offset
        dys[7] = -offset; dxs[7] = -offset
        for k in range(4, 8):
            heights[k] = lobe
            widths[k] = lobe
        # corner offsets relative to (y, x), as mahotas's sum_rect reads them
        fast = True
        for k in range(8):
            tops[k] = dys[k] - heights[k] // 2 - 1
            bottoms[k] = tops[k] + heights[k]
            lefts[k] = dxs[k] - widths[k] // 2 - 1
            rights[k] = lefts[k] + widths[k]
            # mahotas clamps each corner; the fast loop needs none to apply
            if (border + tops[k] < 0 or y_last + bottoms[k] >= n0
                    or border + lefts[k] < 0 or x_last + rights[k] >= n1):
                fast = False
        y = border
        while y < n0 - border:
            out = pyramid + (i * rows + y // step) * cols
            if fast:
                for k in range(8):
                    top_rows[k] = integral + (y + tops[k]) * n1
                    bottom_rows[k] = integral + (y + bottoms[k]) * n1
            x = border
            while x < n1 - border:
                if fast:
                    for k in range(8):
                        boxes[k] = ((bottom_rows[k][x + rights[k]] - top_rows[k][x + rights[k]])
                                    - (bottom_rows[k][x + lefts[k]] - top_rows[k][x + lefts[k]]))
                else:
                    for k in range(8):
                        boxes[k] = sum_rect(integral, n0, n1, y + tops[k] + 1, x + lefts[k] + 1,
                                            y + bottoms[k] + 1, x + rights[k] + 1)
                dxx = boxes[0] - 3. * boxes[1]
                dyy = boxes[2] - 3. * boxes[3]
                dxy = boxes[4] + boxes[5] - boxes[6] - boxes[7]
                dxx *= area_inv
                dyy *= area_inv
                dxy *= area_inv
                sign = -1 if dxx + dyy < 0 else +1
                # mahotas weights Dxy by 0.36 (0.6**2), not SURF's 0.81
                determinant = dxx * dyy - 0.36 * dxy * dxy
                if determinant < 0:
                    determinant = 0
                out[x // step] = sign * determinant
                x += step
            y += step


cdef inline double value_at(const double* pyramid, Py_ssize_t rows, Py_ssize_t cols,
                            int i, int r, int c) noexcept nogil:
    return fabs(pyramid[(i * rows + r) * cols + c])


cdef bint is_maximum_in_region(const double* pyramid, int nr_intervals, Py_ssize_t rows,
                               Py_ssize_t cols, int i, int r, int c) noexcept nogil:
    cdef int ii, rr, cc
    cdef double value
    if i <= 0 or i + 1 >= nr_intervals:
        return False
    value = value_at(pyramid, rows, cols, i, r, c)
    for ii in range(i - 1, i + 2):
        for rr in range(r - 1, r + 2):
            for cc in range(c - 1, c + 2):
                if value_at(pyramid, rows, cols, ii, rr, cc) > value:
                    return False
    return True


cdef void interpolate_point(const double* pyramid, Py_ssize_t rows, Py_ssize_t cols,
                            int o, int i, int r, int c, int initial_step_size,
                            double* point) noexcept nogil:
    """Fit a quadric in (x, y, scale) around a maximum; mahotas's 3x3 solve.

    `point` gets (y, x, scale, score, laplacian); as in mahotas, a point whose
    offset reaches half a sample keeps score 0 and a degenerate one -DBL_MAX.
    """
    cdef double val = value_at(pyramid, rows, cols, i, r, c)
    cdef double Dxx = (value_at(pyramid, rows, cols, i, r, c + 1)
                       + value_at(pyramid, rows, cols, i, r, c - 1)) - 2 * val
    cdef double Dyy = (value_at(pyramid, rows, cols, i, r + 1, c)
                       + value_at(pyramid, rows, cols, i, r - 1, c)) - 2 * val
    cdef double Dss = (value_at(pyramid, rows, cols, i + 1, r, c)
                       + value_at(pyramid, rows, cols, i - 1, r, c)) - 2 * val
    cdef double Dxy = (value_at(pyramid, rows, cols, i, r + 1, c + 1)
                       + value_at(pyramid, rows, cols, i, r - 1, c - 1)
                       - value_at(pyramid, rows, cols, i, r - 1, c + 1)
                       - value_at(pyramid, rows, cols, i, r + 1, c - 1)) / 4.0
    cdef double Dxs = (value_at(pyramid, rows, cols, i + 1, r, c + 1)
                       + value_at(pyramid, rows, cols, i - 1, r, c - 1)
                       - value_at(pyramid, rows, cols, i - 1, r, c + 1)
                       - value_at(pyramid, rows, cols, i + 1, r, c - 1)) / 4.0
    cdef double Dys = (value_at(pyramid, rows, cols, i + 1, r + 1, c)
                       + value_at(pyramid, rows, cols, i - 1, r - 1, c)
                       - value_at(pyramid, rows, cols, i - 1, r + 1, c)
                       - value_at(pyramid, rows, cols, i + 1, r - 1, c)) / 4.0
    cdef double g0 = (value_at(pyramid, rows, cols, i, r + 1, c)
                      - value_at(pyramid, rows, cols, i, r - 1, c)) / 2.0
    cdef double g1 = (value_at(pyramid, rows, cols, i, r, c + 1)
                      - value_at(pyramid, rows, cols, i, r, c - 1)) / 2.0
    cdef double g2 = (value_at(pyramid, rows, cols, i + 1, r, c)
                      - value_at(pyramid, rows, cols, i - 1, r, c)) / 2.0
    # the inverse of the symmetric Hessian [[a d e] [d b f] [e f c]] by cofactors
    cdef double a = Dxx, b = Dyy, cc = Dss, d = Dxy, e = Dxs, f = Dys
    cdef double A = b * cc - f * f
    cdef double B = a * cc - e * e
    cdef double C = a * b - d * d
    cdef double D = e * f - d * cc
    cdef double E = d * f - e * b
    cdef double F = d * e - f * a
    cdef double L = a * A - d * D + e * E
    cdef double inter0, inter1, inter2, largest, lobe
    cdef int step
    point[0] = 0
    point[1] = 0
    point[2] = 0
    point[3] = 0
    point[4] = 0
    if L == 0:
        point[3] = -1.7976931348623157e308
        return
    inter0 = A / L * g0 + D / L * g1 + E / L * g2
    inter1 = D / L * g0 + B / L * g1 + F / L * g2
    inter2 = E / L * g0 + F / L * g1 + C / L * g2
    largest = fabs(inter1) if fabs(inter1) > fabs(inter2) else fabs(inter2)
    if fabs(inter0) > largest:
        largest = fabs(inter0)
    if largest < .5:
        step = step_size(initial_step_size, o)
        lobe = pow(2.0, o + 1.0) * (i + inter2 + 1) + 1
        point[0] = (r + inter0) * step
        point[1] = (c + inter1) * step
        point[2] = 1.2 / 9.0 * (3 * lobe)
        point[3] = val
        point[4] = -1. if pyramid[(i * rows + r) * cols + c] < 0 else +1.


cdef struct PointBuffer:
    double* data
    Py_ssize_t size
    Py_ssize_t capacity


cdef int push_point(PointBuffer* buffer, const double* point) noexcept nogil:
    cdef double* grown
    if buffer.size == buffer.capacity:
        grown = <double*>realloc(buffer.data, 2 * buffer.capacity * NPOINT * sizeof(double))
        if grown == NULL:
            return -1
        buffer.data = grown
        buffer.capacity *= 2
    memcpy(buffer.data + buffer.size * NPOINT, point, NPOINT * sizeof(double))
    buffer.size += 1
    return 0


cdef int detect_in_octave(const double* pyramid, Py_ssize_t rows, Py_ssize_t cols, int o,
                          int nr_intervals, int initial_step_size, double threshold,
                          PointBuffer* found) noexcept nogil:
    """Non-maximum suppression over 3x3x3 blocks of one octave (mahotas's scan order)."""
    cdef int border = border_size(o, nr_intervals)
    cdef int i, r, c, ii, rr, cc, best_i, best_r, best_c, i_end, r_end, c_end
    cdef double best, candidate
    cdef double point[NPOINT]
    i = 1
    while i < nr_intervals - 1:
        r = border + 1
        while r < rows - border - 1:
            c = border + 1
            while c < cols - border - 1:
                best = value_at(pyramid, rows, cols, i, r, c)
                best_i = i
                best_r = r
                best_c = c
                i_end = min(i + 3, nr_intervals - 1)
                r_end = min(r + 3, <int>rows - border - 1)
                c_end = min(c + 3, <int>cols - border - 1)
                for ii in range(i, i_end):
                    for rr in range(r, r_end):
                        for cc in range(c, c_end):
                            candidate = value_at(pyramid, rows, cols, ii, rr, cc)
                            if candidate > best:
                                best = candidate
                                best_i = ii
                                best_r = rr
                                best_c = cc
                if best > threshold and is_maximum_in_region(pyramid, nr_intervals, rows, cols,
                                                             best_i, best_r, best_c):
                    interpolate_point(pyramid, rows, cols, o, best_i, best_r, best_c,
                                      initial_step_size, point)
                    if point[3] > threshold:
                        if push_point(found, point) != 0:
                            return -1
                c += 3
            r += 3
        i += 3
    return 0


def interest_points(const double[:, ::1] integral, int nr_octaves, int nr_intervals,
                    int initial_step_size, double threshold):
    """(N, 5) rows (y, x, scale, score, laplacian), strongest first, in mahotas's order.

    The caller passes only octaves with room for a point (each octave's
    pyramid is allocated, filled and scanned in turn).
    """
    cdef Py_ssize_t n0 = integral.shape[0], n1 = integral.shape[1], rows, cols, k, n
    cdef int o, step, status = 0
    cdef double[:, :, ::1] octave
    cdef PointBuffer found
    cdef const double* pixels = &integral[0, 0] if n0 > 0 and n1 > 0 else NULL
    cdef Py_ssize_t[::1] order_view
    cdef double[:, ::1] result_view
    cdef double* scores
    found.capacity = 64
    found.size = 0
    found.data = <double*>malloc(found.capacity * NPOINT * sizeof(double))
    if found.data == NULL:
        raise MemoryError()
    try:
        for o in range(nr_octaves):
            step = step_size(initial_step_size, o)
            rows = n0 // step
            cols = n1 // step
            octave = np.zeros((nr_intervals, rows, cols), np.float64)
            with nogil:
                fill_octave(pixels, n0, n1, &octave[0, 0, 0], rows, cols, o, nr_intervals, step)
                status = detect_in_octave(&octave[0, 0, 0], rows, cols, o, nr_intervals,
                                          initial_step_size, threshold, &found)
            if status != 0:
                raise MemoryError()
        n = found.size
        # std::sort(rbegin, rend) sorts the reversed sequence ascending
        scores_array = np.empty(n, np.float64)
        for k in range(n):
            scores_array[k] = found.data[(n - 1 - k) * NPOINT + 3]
        order = sort_like_libstdcxx(scores_array)
        order_view = order
        result = np.empty((n, NPOINT), np.float64)
        result_view = result
        for k in range(n):
            # position k of the sorted reversed sequence is position n-1-k of the result
            memcpy(&result_view[n - 1 - k, 0],
                   found.data + (n - 1 - order_view[k]) * NPOINT, NPOINT * sizeof(double))
    finally:
        free(found.data)
    return result


# ---------------------------------------------------------------- descriptor

cdef inline double gaussian(double x, double y, double sigma) noexcept nogil:
    return 1.0 / (sigma * sigma * 2 * PI) * exp(-(x * x + y * y) / (2 * sigma * sigma))


# The Gaussian weights depend only on the sample's grid position: computed
# once (the same expression, so the same values) instead of once per point.
cdef double ORIENTATION_WEIGHTS[13][13]
cdef double DESCRIPTOR_WEIGHTS[20][20]


cdef void fill_weights() noexcept nogil:
    cdef int r, c
    for r in range(-6, 7):
        for c in range(-6, 7):
            ORIENTATION_WEIGHTS[r + 6][c + 6] = gaussian(c, r, 2.5)
    for r in range(-10, 10):
        for c in range(-10, 10):
            DESCRIPTOR_WEIGHTS[r + 10][c + 10] = gaussian(c, r, 3.3)


fill_weights()


cdef inline bint reaches_inside(double cy, double cx, double reach, Py_ssize_t n0,
                                Py_ssize_t n1) noexcept nogil:
    """Whether every pixel within `reach` of (cy, cx), plus a margin, is in the image."""
    return (cy - reach - 3 >= 0 and cy + reach + 3 <= n0 - 1
            and cx - reach - 3 >= 0 and cx + reach + 3 <= n1 - 1)


cdef inline int round_half_away(double value) noexcept nogil:
    if value > 0:
        return <int>(value + .5)
    return <int>(value - .5)


cdef inline bint between_angles(double start, double angle) noexcept nogil:
    cdef double two_pi = 2 * PI
    cdef double end = start + PI / 3
    if start <= angle and angle < end:
        return True
    angle += two_pi
    return start <= angle and angle < end


cdef double dominant_angle(const double* integral, Py_ssize_t n0, Py_ssize_t n1,
                           double cy, double cx, double scale) noexcept nogil:
    """Orientation: the largest sum of Gaussian-weighted Haar responses in a pi/3 window."""
    cdef Sample samples[121]
    cdef Py_ssize_t order[121]
    cdef int r, c, n = 0, i, j, width, y, x
    cdef double gauss, vy, vx, best_length, best_angle, length
    width = (~1) & <int>(4 * scale + 0.5)
    # samples lie within 6 scales (radius sqrt(35)), each box within width/2
    cdef bint inside = reaches_inside(cy, cx, 6 * fabs(scale) + width, n0, n1)
    for r in range(-6, 7):
        for c in range(-6, 7):
            if r * r + c * c < 36:
                gauss = ORIENTATION_WEIGHTS[r + 6][c + 6]
                y = round_half_away(scale * r + cy)
                x = round_half_away(scale * c + cx)
                samples[n].y = gauss * haar_y(integral, n0, n1, y, x, width, inside)
                samples[n].x = gauss * haar_x(integral, n0, n1, y, x, width, inside)
                samples[n].angle = atan2(samples[n].x, samples[n].y)
                order[n] = n
                n += 1
    libstdcxx_sort(order, n, samples)
    # mahotas's sliding window, quirks included (it removes sample i, not i-1)
    vy = samples[order[0]].y
    vx = samples[order[0]].x
    j = 1
    while j != n and between_angles(samples[order[0]].angle, samples[order[j]].angle):
        vy += samples[order[j]].y
        vx += samples[order[j]].x
        j += 1
    if j == n:
        return atan2(vx, vy)
    best_length = vy * vy + vx * vx
    best_angle = atan2(vx, vy)
    for i in range(1, n):
        vy -= samples[order[i]].y
        vx -= samples[order[i]].x
        while j != i and between_angles(samples[order[i]].angle, samples[order[j]].angle):
            vy += samples[order[j]].y
            vx += samples[order[j]].x
            j += 1
            if j == n:
                j = 0
        length = vy * vy + vx * vx
        if length > best_length:
            best_length = length
            best_angle = atan2(vx, vy)
    return best_angle


cdef void surf_descriptor(const double* integral, Py_ssize_t n0, Py_ssize_t n1, double cy,
                          double cx, double scale, double angle, double* des) noexcept nogil:
    """The 64 values: (sum dy, sum dx, sum |dy|, sum |dx|) over a rotated 4x4 grid."""
    cdef double sin_angle = sin(angle)
    cdef double cos_angle = cos(angle)
    cdef double minus_sin = -sin_angle
    cdef int r, c, y, x, count = 0, width = <int>(2 * scale + 0.5), i
    cdef double sy, sx, py, px, gauss, hy, hx, ty, tx, vy, vx, ay, ax, length
    # samples lie within sqrt(200) < 15 scales of the centre, each box within width/2
    cdef bint inside = reaches_inside(cy, cx, 15 * fabs(scale) + width, n0, n1)
    for r in range(-10, 10, 5):
        for c in range(-10, 10, 5):
            vy = 0.
            vx = 0.
            ay = 0.
            ax = 0.
            for y in range(r, r + 5):
                for x in range(c, c + 5):
                    # mahotas's point is (y=x*scale, x=y*scale), then rotated
                    sy = x * scale
                    sx = y * scale
                    py = cos_angle * sx - sin_angle * sy
                    px = sin_angle * sx + cos_angle * sy
                    py += cy
                    px += cx
                    gauss = DESCRIPTOR_WEIGHTS[y + 10][x + 10]
                    hy = gauss * haar_x(integral, n0, n1, <int>py, <int>px, width, inside)
                    hx = gauss * haar_y(integral, n0, n1, <int>py, <int>px, width, inside)
                    # back into the descriptor's frame (rotation by -angle)
                    ty = cos_angle * hx - minus_sin * hy
                    tx = minus_sin * hx + cos_angle * hy
                    vy += ty
                    vx += tx
                    ay += fabs(ty)
                    ax += fabs(tx)
            des[count] = vy
            des[count + 1] = vx
            des[count + 2] = ay
            des[count + 3] = ax
            count += 4
    length = 1e-7
    for i in range(64):
        length += des[i] * des[i]
    length = sqrt(length)
    for i in range(64):
        des[i] /= length


def descriptors(const double[:, ::1] integral, const double[:, ::1] points,
                Py_ssize_t max_points):
    """(M, 70) rows: the first `max_points` points (skipping those near the border),
    each followed by its orientation and 64-value descriptor."""
    cdef Py_ssize_t n0 = integral.shape[0], n1 = integral.shape[1]
    cdef Py_ssize_t n = min(max_points, points.shape[0]), k, kept = 0
    cdef double border, reach, py, px, scale
    cdef const double* pixels = &integral[0, 0] if n0 > 0 and n1 > 0 else NULL
    result = np.empty((n, NSURF), np.float64)
    cdef double[:, ::1] out = result
    if n == 0 or pixels == NULL:
        return result[:0]
    with nogil:
        for k in range(n):
            py = points[k, 0]
            px = points[k, 1]
            scale = points[k, 2]
            # mahotas's margin, (unsigned long)(31 * scale) / 2; a scale for
            # which that cast is undefined (NaN, <= -1, huge) skips the point
            reach = 31 * scale
            if not (reach > -1.0 and reach < 9.0e18):
                continue
            border = <double>(<long long>reach // 2)
            if not (border <= py and (py + border) < n0 and border <= px and (px + border) < n1):
                continue
            memcpy(&out[kept, 0], &points[k, 0], NPOINT * sizeof(double))
            out[kept, 5] = dominant_angle(pixels, n0, n1, py, px, scale)
            surf_descriptor(pixels, n0, n1, py, px, scale, out[kept, 5], &out[kept, 6])
            kept += 1
    return result[:kept]
