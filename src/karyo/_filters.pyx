# Kernels behind karyo.convolve's neighbourhood filters (private: callers validate).
#
# Every array arrives as 3-D (leading axes of length 1 added by the caller).
# A filter is a list of `elements`, the (z, y, x) coordinates within the
# filter's box of the points that take part, in raster order; border handling
# is reduced to one table per axis: `table[i + c]` is the input index read
# for output index i and filter coordinate c (-1: outside the image), so the
# kernels know nothing about modes and never read outside the input. Along x
# the table is the identity in the interior, which the kernels use directly.
#
# Sums go pixel by pixel in the order of `elements`, as mahotas's do, so
# floating-point results are bit for bit mahotas's (no FMA: no -march flags).

from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, INT32_MIN, INT64_MIN
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free, malloc

from karyo._types cimport number_t as src_t

# Results are stored as a C++ `T(double)` cast compiles on x86-64, which is
# what mahotas returns: truncation toward zero, then the low bits (8- and
# 16-bit types through int32, uint32 through int64); a value outside the
# int32 (int32 results) or int64 range becomes the "integer indefinite"
# INT_MIN. Spelled out here because C leaves out-of-range casts undefined.

cdef inline int32_t as_int32(double value) noexcept nogil:
    if value > -2147483649.0 and value < 2147483648.0:
        return <int32_t> value
    return INT32_MIN


cdef inline int64_t as_int64(double value) noexcept nogil:
    if value >= -9223372036854775808.0 and value < 9223372036854775808.0:
        return <int64_t> value
    return INT64_MIN


cdef inline uint64_t as_uint64(double value) noexcept nogil:
    # NaN takes the first branch's "integer indefinite", 2^63, as on x86-64.
    if value >= 9223372036854775808.0:
        return (<uint64_t> as_int64(value - 9223372036854775808.0)) ^ (<uint64_t> 1 << 63)
    return <uint64_t> as_int64(value)


cdef inline void store_row(src_t* out, const double* acc, Py_ssize_t n,
                           bint boolean) noexcept nogil:
    cdef Py_ssize_t x
    if boolean:
        for x in range(n):
            out[x] = 1 if acc[x] != 0.0 else 0
    elif src_t is float or src_t is double:
        for x in range(n):
            out[x] = <src_t> acc[x]
    elif src_t is uint8_t or src_t is uint16_t or src_t is int8_t or src_t is int16_t:
        for x in range(n):
            out[x] = <src_t> as_int32(acc[x])
    elif src_t is int32_t:
        for x in range(n):
            out[x] = as_int32(acc[x])
    elif src_t is uint64_t:
        for x in range(n):
            out[x] = as_uint64(acc[x])
    else:
        for x in range(n):
            out[x] = <src_t> as_int64(acc[x])


cdef inline Py_ssize_t interior_start(Py_ssize_t c, Py_ssize_t ox, Py_ssize_t n) noexcept nogil:
    # First x with x + c - ox >= 0 (the identity part of the x table starts there).
    return min(max(0, ox - c), n)


cdef inline Py_ssize_t interior_stop(Py_ssize_t c, Py_ssize_t ox, Py_ssize_t n,
                                     Py_ssize_t start) noexcept nogil:
    return max(min(n, n + ox - c), start)


cdef void weighted_row_sum(const src_t[:, :, :] src, Py_ssize_t z, Py_ssize_t y,
                           const int64_t[:, ::1] elements, const double* weights,
                           const int64_t[::1] tz, const int64_t[::1] ty,
                           const int64_t[::1] tx, Py_ssize_t ox, double cval, bint use_cval,
                           double* acc, int32_t* counts) noexcept nogil:
    """acc[x] = sum over elements of weight * value at (z, y, x) + element.

    Points outside add `weight * cval` when `use_cval`, nothing otherwise;
    `counts` (if not NULL) receives the number of points inside.
    """
    cdef Py_ssize_t n = src.shape[2], stride = src.strides[2] // <Py_ssize_t> sizeof(src_t)
    cdef Py_ssize_t e, x, c, iz, iy, ix, start, stop
    cdef double weight, outside
    cdef const src_t* row
    cdef const src_t* shifted
    for x in range(n):
        acc[x] = 0.0
    if counts != NULL:
        for x in range(n):
            counts[x] = 0
    for e in range(elements.shape[0]):
        weight = weights[e]
        outside = weight * cval
        iz = tz[z + elements[e, 0]]
        iy = ty[y + elements[e, 1]]
        if iz < 0 or iy < 0:
            if use_cval:
                for x in range(n):
                    acc[x] += outside
            continue
        row = &src[iz, iy, 0]
        c = elements[e, 2]
        start = interior_start(c, ox, n)
        stop = interior_stop(c, ox, n, start)
        for x in range(start):
            ix = tx[x + c]
            if ix >= 0:
                acc[x] += weight * <double> row[ix * stride]
            elif use_cval:
                acc[x] += outside
        shifted = row + (c - ox) * stride
        if stride == 1:
            for x in range(start, stop):
                acc[x] += weight * <double> shifted[x]
        else:
            for x in range(start, stop):
                acc[x] += weight * <double> shifted[x * stride]
        for x in range(stop, n):
            ix = tx[x + c]
            if ix >= 0:
                acc[x] += weight * <double> row[ix * stride]
            elif use_cval:
                acc[x] += outside
        if counts != NULL:
            for x in range(start, stop):
                counts[x] += 1
            for x in range(start):
                counts[x] += tx[x + c] >= 0
            for x in range(stop, n):
                counts[x] += tx[x + c] >= 0


def correlate(const src_t[:, :, :] src, src_t[:, :, ::1] out, const int64_t[:, ::1] elements,
              const double[::1] weights, const int64_t[::1] tz, const int64_t[::1] ty,
              const int64_t[::1] tx, Py_ssize_t ox, double cval, bint use_cval,
              bint boolean):
    """out = sum of weights * neighbours, in double, stored as mahotas stores it.

    `boolean`: the values are bools viewed as uint8 (any nonzero sum is True).
    """
    cdef Py_ssize_t z, y, n = src.shape[2]
    cdef double* acc
    cdef const double* weight_values = &weights[0] if weights.shape[0] > 0 else NULL
    if src.shape[0] == 0 or src.shape[1] == 0 or n == 0:
        return
    acc = <double*> malloc(n * sizeof(double))
    if acc == NULL:
        raise MemoryError()
    with nogil:
        for z in range(src.shape[0]):
            for y in range(src.shape[1]):
                weighted_row_sum(src, z, y, elements, weight_values, tz, ty, tx, ox, cval,
                                 use_cval, acc, NULL)
                store_row(&out[z, y, 0], acc, n, boolean)
    free(acc)


def mean(const src_t[:, :, :] src, double[:, :, ::1] out, const int64_t[:, ::1] elements,
         const int64_t[::1] tz, const int64_t[::1] ty, const int64_t[::1] tx, Py_ssize_t ox,
         double cval, bint use_cval, bint ignore):
    """out = mean of the neighbours (`ignore`: of those inside the image only)."""
    cdef Py_ssize_t z, y, x, n = src.shape[2], n_elements = elements.shape[0]
    cdef double* acc
    cdef int32_t* counts
    cdef double* ones
    cdef double* row_out
    if src.shape[0] == 0 or src.shape[1] == 0 or n == 0:
        return
    acc = <double*> malloc(n * sizeof(double))
    counts = <int32_t*> malloc(n * sizeof(int32_t))
    ones = <double*> malloc(max(1, n_elements) * sizeof(double))
    if acc == NULL or counts == NULL or ones == NULL:
        free(acc)
        free(counts)
        free(ones)
        raise MemoryError()
    for x in range(n_elements):
        ones[x] = 1.0
    with nogil:
        for z in range(src.shape[0]):
            for y in range(src.shape[1]):
                weighted_row_sum(src, z, y, elements, ones, tz, ty, tx,
                                 ox, cval, use_cval, acc, counts if ignore else NULL)
                row_out = &out[z, y, 0]
                if ignore:
                    for x in range(n):
                        row_out[x] = acc[x] / counts[x]
                else:
                    for x in range(n):
                        row_out[x] = acc[x] / n_elements
    free(acc)
    free(counts)
    free(ones)


cdef inline Py_ssize_t rank_among(Py_ssize_t present, Py_ssize_t rank,
                                  Py_ssize_t n_elements) noexcept nogil:
    """The rank to take among the `present` neighbours inside the image ('ignore' mode
    scales it as mahotas does: int(present * rank / n_elements))."""
    if present == n_elements:
        return rank
    return <Py_ssize_t> (<double> (present * rank) / <double> n_elements)


cdef inline void swap(src_t* values, Py_ssize_t i, Py_ssize_t j) noexcept nogil:
    cdef src_t held = values[i]
    values[i] = values[j]
    values[j] = held


cdef src_t select(src_t* values, Py_ssize_t n, Py_ssize_t k) noexcept nogil:
    """The k-th smallest of values[0..n) (0-based); reorders `values`.

    Quickselect (Hoare, CACM 4, 1961) with a median-of-three pivot and
    insertion sort for short ranges.
    """
    cdef Py_ssize_t lo = 0, hi = n - 1, i, j, middle
    cdef src_t pivot, held
    while hi - lo > 8:
        middle = lo + (hi - lo) // 2
        if values[middle] < values[lo]:
            swap(values, middle, lo)
        if values[hi] < values[lo]:
            swap(values, hi, lo)
        if values[hi] < values[middle]:
            swap(values, hi, middle)
        pivot = values[middle]
        i = lo
        j = hi
        while i <= j:
            while values[i] < pivot:
                i += 1
            while pivot < values[j]:
                j -= 1
            if i <= j:
                swap(values, i, j)
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            return values[k]
    for i in range(lo + 1, hi + 1):
        held = values[i]
        j = i - 1
        while j >= lo and held < values[j]:
            values[j + 1] = values[j]
            j -= 1
        values[j + 1] = held
    return values[k]


def rank(const src_t[:, :, :] src, src_t[:, :, ::1] out, const int64_t[:, ::1] elements,
         const int64_t[::1] tz, const int64_t[::1] ty, const int64_t[::1] tx,
         Py_ssize_t oz, Py_ssize_t oy, Py_ssize_t ox, Py_ssize_t rank, src_t cval,
         bint use_cval):
    """out = the rank-th smallest neighbour (0-based), as mahotas's nth_element.

    The neighbours of each pixel are gathered (straight from byte offsets
    away from the border, through the border tables near it) and selected.
    Without `use_cval` (mode 'ignore'), a pixel with only n of the N
    neighbours inside takes rank int(n * rank / N).
    """
    cdef Py_ssize_t n_elements = elements.shape[0]
    cdef Py_ssize_t nz = src.shape[0], ny = src.shape[1], nx = src.shape[2]
    cdef Py_ssize_t z, y, x, e, iz, iy, ix, n, current, x_start, x_stop
    cdef Py_ssize_t axis
    cdef Py_ssize_t origin[3]
    cdef Py_ssize_t low[3]
    cdef Py_ssize_t high[3]
    cdef bint inner_row
    cdef src_t* values
    cdef Py_ssize_t* offsets
    cdef const char* base
    if nz == 0 or ny == 0 or nx == 0:
        return
    values = <src_t*> malloc(max(1, n_elements) * sizeof(src_t))
    offsets = <Py_ssize_t*> malloc(max(1, n_elements) * sizeof(Py_ssize_t))
    if values == NULL or offsets == NULL:
        free(values)
        free(offsets)
        raise MemoryError()
    origin[0] = oz
    origin[1] = oy
    origin[2] = ox
    for axis in range(3):
        low[axis] = elements[0, axis] - origin[axis] if n_elements else 0
        high[axis] = low[axis]
    for e in range(n_elements):
        offsets[e] = 0
        for axis in range(3):
            offsets[e] += (elements[e, axis] - origin[axis]) * src.strides[axis]
            low[axis] = min(low[axis], elements[e, axis] - origin[axis])
            high[axis] = max(high[axis], elements[e, axis] - origin[axis])
    # Pixels x_start <= x < x_stop of a row whose neighbouring rows are all
    # inside have all their neighbours inside: no table, no test.
    x_start = min(max(0, -low[2]), nx)
    x_stop = max(min(nx, nx - high[2]), x_start)
    with nogil:
        for z in range(nz):
            for y in range(ny):
                inner_row = (z + low[0] >= 0 and z + high[0] < nz and y + low[1] >= 0
                             and y + high[1] < ny)
                for x in range(nx):
                    if inner_row and x_start <= x < x_stop:
                        base = <const char*> &src[z, y, x]
                        for e in range(n_elements):
                            values[e] = (<const src_t*> (base + offsets[e]))[0]
                        out[z, y, x] = select(values, n_elements, rank)
                        continue
                    n = 0
                    for e in range(n_elements):
                        iz = tz[z + elements[e, 0]]
                        iy = ty[y + elements[e, 1]]
                        ix = tx[x + elements[e, 2]]
                        if iz >= 0 and iy >= 0 and ix >= 0:
                            values[n] = src[iz, iy, ix]
                            n += 1
                        elif use_cval:
                            values[n] = cval
                            n += 1
                    if n == 0:
                        # Only possible in mode 'ignore' with a footprint that
                        # misses the centre: nothing to rank.
                        out[z, y, x] = 0
                        continue
                    current = rank_among(n, rank, n_elements)
                    out[z, y, x] = select(values, n, current)
    free(values)
    free(offsets)


cdef inline void add_squared_difference(src_t* float_acc, uint64_t* integer_acc, Py_ssize_t x,
                                        src_t value, src_t expected) noexcept nogil:
    cdef src_t difference
    cdef uint64_t wide
    if src_t is float or src_t is double:
        difference = value - expected
        float_acc[x] += difference * difference
    elif src_t is int8_t or src_t is int16_t or src_t is int32_t or src_t is int64_t:
        wide = <uint64_t> <int64_t> value - <uint64_t> <int64_t> expected
        integer_acc[x] += wide * wide
    else:
        wide = <uint64_t> value - <uint64_t> expected
        integer_acc[x] += wide * wide


def squared_difference(const src_t[:, :, :] src, src_t[:, :, ::1] out,
                       const int64_t[:, ::1] elements, const src_t[::1] template_values,
                       const int64_t[::1] tz, const int64_t[::1] ty, const int64_t[::1] tx,
                       Py_ssize_t ox, bint boolean):
    """out = sum of (value - template)^2 over the template points inside the image.

    Computed in the image's type as mahotas does: floats in their own
    precision, integers modulo 2^bits (here in uint64, then the low bits);
    `boolean`: bools viewed as uint8, the result is whether any point differs.
    """
    cdef Py_ssize_t n = src.shape[2], stride = src.strides[2] // <Py_ssize_t> sizeof(src_t)
    cdef Py_ssize_t z, y, x, e, c, iz, iy, ix, start, stop
    cdef src_t expected
    cdef const src_t* row
    cdef src_t* row_out
    cdef src_t* float_acc
    cdef uint64_t* integer_acc
    if src.shape[0] == 0 or src.shape[1] == 0 or n == 0:
        return
    float_acc = <src_t*> malloc(n * sizeof(src_t))
    integer_acc = <uint64_t*> malloc(n * sizeof(uint64_t))
    if float_acc == NULL or integer_acc == NULL:
        free(float_acc)
        free(integer_acc)
        raise MemoryError()
    with nogil:
        for z in range(src.shape[0]):
            for y in range(src.shape[1]):
                for x in range(n):
                    float_acc[x] = 0
                    integer_acc[x] = 0
                for e in range(elements.shape[0]):
                    iz = tz[z + elements[e, 0]]
                    iy = ty[y + elements[e, 1]]
                    if iz < 0 or iy < 0:
                        continue
                    row = &src[iz, iy, 0]
                    c = elements[e, 2]
                    expected = template_values[e]
                    start = interior_start(c, ox, n)
                    stop = interior_stop(c, ox, n, start)
                    for x in range(start):
                        ix = tx[x + c]
                        if ix >= 0:
                            add_squared_difference(float_acc, integer_acc, x, row[ix * stride],
                                                   expected)
                    for x in range(stop, n):
                        ix = tx[x + c]
                        if ix >= 0:
                            add_squared_difference(float_acc, integer_acc, x, row[ix * stride],
                                                   expected)
                    row = row + (c - ox) * stride
                    if stride == 1:
                        for x in range(start, stop):
                            add_squared_difference(float_acc, integer_acc, x, row[x], expected)
                    else:
                        for x in range(start, stop):
                            add_squared_difference(float_acc, integer_acc, x, row[x * stride],
                                                   expected)
                row_out = &out[z, y, 0]
                for x in range(n):
                    if src_t is float or src_t is double:
                        row_out[x] = float_acc[x]
                    elif boolean:
                        row_out[x] = integer_acc[x] != 0
                    else:
                        row_out[x] = <src_t> integer_acc[x]
    free(float_acc)
    free(integer_acc)


def find2d(const src_t[:, :] src, const src_t[:, ::1] target, uint8_t[:, ::1] out):
    """out[y, x] = 1 where the window of `target`'s shape at (y, x) equals `target`."""
    cdef Py_ssize_t n0 = src.shape[0], n1 = src.shape[1]
    cdef Py_ssize_t t0 = target.shape[0], t1 = target.shape[1]
    cdef Py_ssize_t y, x, sy, sx
    cdef bint same
    with nogil:
        for y in range(n0):
            for x in range(n1):
                out[y, x] = 0
        for y in range(n0 - t0 + 1):
            for x in range(n1 - t1 + 1):
                same = True
                for sy in range(t0):
                    for sx in range(t1):
                        if src[y + sy, x + sx] != target[sy, sx]:
                            same = False
                            break
                    if not same:
                        break
                out[y, x] = same


cdef inline int bin_at(const uint8_t* row, const int64_t* tx, Py_ssize_t position,
                       Py_ssize_t stride, uint8_t flip, int cval_bin) noexcept nogil:
    # The histogram bin of the value at x-table position `position`; -1: absent.
    cdef Py_ssize_t ix = tx[position]
    if ix >= 0:
        return row[ix * stride] ^ flip
    return cval_bin


def rank_histogram(const uint8_t[:, :, :] src, uint8_t[:, :, ::1] out,
                   const int64_t[:, ::1] segments, const int64_t[::1] points_start,
                   const int64_t[::1] points, const int64_t[::1] leaving_start,
                   const int64_t[::1] leaving, const int64_t[::1] entering_start,
                   const int64_t[::1] entering, const int64_t[::1] tz, const int64_t[::1] ty,
                   const int64_t[::1] tx, Py_ssize_t rank, Py_ssize_t n_elements,
                   int cval_bin, uint8_t flip):
    """`rank` for 8-bit values: a 256-bin histogram of the window slides along each row.

    The footprint is given by `segments`, its (z, y) rows, each with the x
    coordinates of its `points` and, for the move from x - 1 to x, the ones
    `leaving` (c - 1 not in the row: position x - 1 + c goes) and `entering`
    (c + 1 not in the row: position x + c comes), in CSR form. Values are
    stored XOR `flip` (0x80 maps int8 to an ordered uint8); `cval_bin` is the
    bin of points outside the image, -1 when they are left out ('ignore').
    The rank-th value is tracked as in Huang, Yang and Tang (IEEE TASSP 27,
    1979): a current bin and the count below it, moved by the few updates.
    """
    cdef Py_ssize_t n = src.shape[2], stride = src.strides[2]
    cdef Py_ssize_t n_segments = segments.shape[0]
    cdef Py_ssize_t z, y, x, s, j, iz, iy, present, below, target
    cdef int value, current
    cdef int32_t histogram[256]
    cdef const int64_t* x_table = &tx[0]
    cdef const uint8_t** rows
    cdef uint8_t* row_out
    if src.shape[0] == 0 or src.shape[1] == 0 or n == 0:
        return
    rows = <const uint8_t**> malloc(max(1, n_segments) * sizeof(uint8_t*))
    if rows == NULL:
        raise MemoryError()
    with nogil:
        for z in range(src.shape[0]):
            for y in range(src.shape[1]):
                for j in range(256):
                    histogram[j] = 0
                present = 0
                for s in range(n_segments):
                    iz = tz[z + segments[s, 0]]
                    iy = ty[y + segments[s, 1]]
                    if iz < 0 or iy < 0:
                        rows[s] = NULL
                        if cval_bin >= 0:
                            histogram[cval_bin] += points_start[s + 1] - points_start[s]
                            present += points_start[s + 1] - points_start[s]
                        continue
                    rows[s] = &src[iz, iy, 0]
                    for j in range(points_start[s], points_start[s + 1]):
                        value = bin_at(rows[s], x_table, points[j], stride, flip, cval_bin)
                        if value >= 0:
                            histogram[value] += 1
                            present += 1
                current = 0
                below = 0
                row_out = &out[z, y, 0]
                for x in range(n):
                    if x > 0:
                        for s in range(n_segments):
                            if rows[s] == NULL:
                                continue
                            for j in range(leaving_start[s], leaving_start[s + 1]):
                                value = bin_at(rows[s], x_table, x - 1 + leaving[j], stride, flip,
                                               cval_bin)
                                if value >= 0:
                                    histogram[value] -= 1
                                    present -= 1
                                    below -= value < current
                            for j in range(entering_start[s], entering_start[s + 1]):
                                value = bin_at(rows[s], x_table, x + entering[j], stride, flip,
                                               cval_bin)
                                if value >= 0:
                                    histogram[value] += 1
                                    present += 1
                                    below += value < current
                    if present == 0:
                        row_out[x] = 0
                        continue
                    target = rank_among(present, rank, n_elements)
                    while below > target:
                        current -= 1
                        below -= histogram[current]
                    while below + histogram[current] <= target:
                        below += histogram[current]
                        current += 1
                    row_out[x] = <uint8_t> current ^ flip
    free(rows)


cdef inline int bin16_at(const uint16_t* row, const int64_t* tx, Py_ssize_t position,
                         Py_ssize_t stride, uint16_t flip, int cval_bin) noexcept nogil:
    cdef Py_ssize_t ix = tx[position]
    if ix >= 0:
        return row[ix * stride] ^ flip
    return cval_bin


cdef inline void count16(int32_t* histogram, int32_t* blocks, int value, int change,
                         Py_ssize_t* present, Py_ssize_t* below, int block) noexcept nogil:
    histogram[value] += change
    blocks[value >> 8] += change
    present[0] += change
    if (value >> 8) < block:
        below[0] += change


def rank_histogram16(const uint16_t[:, :, :] src, uint16_t[:, :, ::1] out,
                     const int64_t[:, ::1] segments, const int64_t[::1] points_start,
                     const int64_t[::1] points, const int64_t[::1] leaving_start,
                     const int64_t[::1] leaving, const int64_t[::1] entering_start,
                     const int64_t[::1] entering, const int64_t[::1] tz, const int64_t[::1] ty,
                     const int64_t[::1] tx, Py_ssize_t rank, Py_ssize_t n_elements,
                     int cval_bin, uint16_t flip):
    """`rank` for 16-bit values: as `rank_histogram`, with a two-level histogram.

    65536 fine bins and 256 blocks of 256 (Perreault and Hebert, IEEE TIP 16,
    2007): the pointer of Huang et al. moves over blocks, then the block
    that holds the rank-th value is scanned. The histogram is emptied at the
    end of each row by removing that row's last window, not by clearing it.
    """
    cdef Py_ssize_t n = src.shape[2], stride = src.strides[2] // 2
    cdef Py_ssize_t n_segments = segments.shape[0]
    cdef Py_ssize_t z, y, x, s, j, iz, iy, present, below, target, within
    cdef int value, block
    cdef int32_t* histogram
    cdef int32_t blocks[256]
    cdef const int64_t* x_table = &tx[0]
    cdef const uint16_t** rows
    cdef uint16_t* row_out
    if src.shape[0] == 0 or src.shape[1] == 0 or n == 0:
        return
    histogram = <int32_t*> calloc(65536, sizeof(int32_t))
    rows = <const uint16_t**> malloc(max(1, n_segments) * sizeof(uint16_t*))
    if histogram == NULL or rows == NULL:
        free(histogram)
        free(rows)
        raise MemoryError()
    for j in range(256):
        blocks[j] = 0
    with nogil:
        for z in range(src.shape[0]):
            for y in range(src.shape[1]):
                present = 0
                below = 0
                block = 0
                for s in range(n_segments):
                    iz = tz[z + segments[s, 0]]
                    iy = ty[y + segments[s, 1]]
                    rows[s] = NULL if iz < 0 or iy < 0 else &src[iz, iy, 0]
                    for j in range(points_start[s], points_start[s + 1]):
                        value = (cval_bin if rows[s] == NULL else
                                 bin16_at(rows[s], x_table, points[j], stride, flip, cval_bin))
                        if value >= 0:
                            count16(histogram, blocks, value, 1, &present, &below, block)
                row_out = &out[z, y, 0]
                for x in range(n):
                    if x > 0:
                        for s in range(n_segments):
                            if rows[s] == NULL:
                                continue
                            for j in range(leaving_start[s], leaving_start[s + 1]):
                                value = bin16_at(rows[s], x_table, x - 1 + leaving[j], stride,
                                                 flip, cval_bin)
                                if value >= 0:
                                    count16(histogram, blocks, value, -1, &present, &below,
                                            block)
                            for j in range(entering_start[s], entering_start[s + 1]):
                                value = bin16_at(rows[s], x_table, x + entering[j], stride,
                                                 flip, cval_bin)
                                if value >= 0:
                                    count16(histogram, blocks, value, 1, &present, &below,
                                            block)
                    if present == 0:
                        row_out[x] = 0
                        continue
                    target = rank_among(present, rank, n_elements)
                    while below > target:
                        block -= 1
                        below -= blocks[block]
                    while below + blocks[block] <= target:
                        below += blocks[block]
                        block += 1
                    within = below
                    value = block << 8
                    while within + histogram[value] <= target:
                        within += histogram[value]
                        value += 1
                    row_out[x] = <uint16_t> value ^ flip
                # Empty the histogram: remove the last window of the row.
                for s in range(n_segments):
                    for j in range(points_start[s], points_start[s + 1]):
                        value = (cval_bin if rows[s] == NULL else
                                 bin16_at(rows[s], x_table, n - 1 + points[j], stride, flip,
                                          cval_bin))
                        if value >= 0:
                            histogram[value] -= 1
                            blocks[value >> 8] -= 1
    free(histogram)
    free(rows)
