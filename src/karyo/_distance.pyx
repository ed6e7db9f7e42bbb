# Kernels behind karyo.distance and karyo.segmentation.gvoronoi (private).
#
# Exact Euclidean distance transform by separable passes (Felzenszwalb &
# Huttenlocher 2012): the first pass, along axis 0 of a binary image, is a pair
# of linear sweeps; every later pass takes the lower envelope of the parabolas
# q -> f[v] + (q - v)**2 along one axis. Squared distances are whole numbers
# held in float64, so every sum and product is exact; the envelope's
# intersections are divided in float64, which cannot round across a whole
# number while numerators stay below 2**52 (any image that fits in memory).
#
# Ties go to the lower index in every pass, as in mahotas: among equally near
# features the winner has the smallest coordinate along the last axis, then
# the one before it, and so on.
#
# The kernels trust their caller: flat C-contiguous buffers, `shape` with at
# least one axis and no zero-length axis.

from libc.math cimport INFINITY, sqrt
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc

cdef extern from *:
    """
    /* int32 that may alias any other type: gvoronoi keeps the rows of its
       first pass in the output buffer before writing labels there */
    typedef int32_t __attribute__((__may_alias__)) karyo_scratch_int32;
    """
    ctypedef int32_t scratch_int32 "karyo_scratch_int32"

ctypedef fused label_bits:
    uint8_t
    uint16_t
    uint32_t
    uint64_t


cdef void _column_pass(const uint8_t* foreground, Py_ssize_t n0, Py_ssize_t m,
                       double* sqdist, double* carry) noexcept nogil:
    # Distance along axis 0 to the nearest background pixel, as two sweeps
    # over whole rows so that the inner loops run along contiguous memory.
    cdef Py_ssize_t i, j
    cdef double* row
    cdef const double* previous
    cdef const uint8_t* mask
    cdef double d
    for j in range(m):
        sqdist[j] = INFINITY if foreground[j] else 0.0
    for i in range(1, n0):
        row = sqdist + i * m
        previous = row - m
        mask = foreground + i * m
        for j in range(m):
            row[j] = previous[j] + 1.0 if mask[j] else 0.0
    row = sqdist + (n0 - 1) * m
    for j in range(m):
        carry[j] = row[j]
        row[j] = row[j] * row[j]
    for i in range(n0 - 2, -1, -1):
        row = sqdist + i * m
        for j in range(m):
            d = carry[j] + 1.0
            d = row[j] if row[j] < d else d
            carry[j] = d
            row[j] = d * d


cdef void _column_pass_nearest(const uint8_t* foreground, Py_ssize_t n0, Py_ssize_t m,
                               double* sqdist, int64_t* nearest,
                               int64_t* below) noexcept nogil:
    # As _column_pass, also recording the flat index of the nearest background
    # pixel; a tie between the one above and the one below goes to the one above.
    cdef Py_ssize_t i, j
    cdef int64_t* row
    cdef const int64_t* previous
    cdef const uint8_t* mask
    cdef int64_t up, down
    cdef double d
    # forward: row of the last background pixel at or above (-1: none)
    for j in range(m):
        nearest[j] = -1 if foreground[j] else 0
    for i in range(1, n0):
        row = nearest + i * m
        previous = row - m
        mask = foreground + i * m
        for j in range(m):
            row[j] = previous[j] if mask[j] else i
    # backward: the row of the next one at or below, then the nearer of the
    # two, stored as a flat index
    for j in range(m):
        below[j] = -1
    for i in range(n0 - 1, -1, -1):
        row = nearest + i * m
        mask = foreground + i * m
        for j in range(m):
            if not mask[j]:
                below[j] = i
                sqdist[i * m + j] = 0.0
                row[j] = i * m + j
                continue
            up = row[j]
            down = below[j]
            if down < 0 and up < 0:
                sqdist[i * m + j] = INFINITY
                row[j] = i * m + j
            elif down < 0 or (up >= 0 and i - up <= down - i):
                d = <double>(i - up)
                sqdist[i * m + j] = d * d
                row[j] = up * m + j
            else:
                d = <double>(down - i)
                sqdist[i * m + j] = d * d
                row[j] = down * m + j


cdef Py_ssize_t _lower_envelope(const double* f, Py_ssize_t n, Py_ssize_t* vertex,
                                double* boundary) noexcept nogil:
    # Parabolas with a finite apex form the envelope; returns how many (0: none).
    # vertex[k] is the apex of the k-th and boundary[k] where it starts to win.
    cdef Py_ssize_t q, k = -1, v
    cdef double fq, s = 0.0
    for q in range(n):
        fq = f[q]
        if fq == INFINITY:
            continue
        if k < 0:
            k = 0
            vertex[0] = q
            boundary[0] = -INFINITY
            continue
        while True:
            v = vertex[k]
            s = ((fq + <double>(q * q)) - (f[v] + <double>(v * v))) / (2.0 * <double>(q - v))
            if s > boundary[k]:
                break
            # on a tie at s the earlier parabola keeps s: drop the later one
            k -= 1
        k += 1
        vertex[k] = q
        boundary[k] = s
    boundary[k + 1] = INFINITY
    return k + 1


cdef inline Py_ssize_t _run_end(const double* f, Py_ssize_t q, Py_ssize_t n) noexcept nogil:
    while q < n and f[q] != 0.0:
        q += 1
    return q


cdef void _envelope_line(const double* f, Py_ssize_t n, double* out, Py_ssize_t stride,
                         Py_ssize_t* vertex, double* boundary) noexcept nogil:
    # out[q * stride] = min over v of f[v] + (q - v)**2. A zero of f is a
    # background pixel; the nearest candidate of any pixel between two zeros
    # lies between them (inclusive), so each run of nonzero f is solved on
    # its own and the zeros cost nothing.
    cdef Py_ssize_t q = 0, start, end, low, high, p, k, v
    while q < n:
        if f[q] == 0.0:
            out[q * stride] = 0.0
            q += 1
            continue
        start = q
        end = _run_end(f, q, n)
        low = start - 1 if start > 0 else start
        high = end if end < n else n - 1
        if _lower_envelope(f + low, high - low + 1, vertex, boundary) == 0:
            for p in range(start, end):
                out[p * stride] = INFINITY
        else:
            k = 0
            for p in range(start - low, end - low):
                # `<` keeps the earlier parabola at an exact tie
                while boundary[k + 1] < p:
                    k += 1
                v = vertex[k]
                out[(p + low) * stride] = <double>((p - v) * (p - v)) + f[low + v]
        q = end


cdef void _envelope_line_nearest(const double* f, const int64_t* f_nearest, Py_ssize_t n,
                                 double* out, int64_t* out_nearest, Py_ssize_t stride,
                                 Py_ssize_t* vertex, double* boundary) noexcept nogil:
    # As _envelope_line, also carrying the index of each winning parabola's
    # nearest background pixel.
    cdef Py_ssize_t q = 0, start, end, low, high, p, k, v
    while q < n:
        if f[q] == 0.0:
            out[q * stride] = 0.0
            out_nearest[q * stride] = f_nearest[q]
            q += 1
            continue
        start = q
        end = _run_end(f, q, n)
        low = start - 1 if start > 0 else start
        high = end if end < n else n - 1
        if _lower_envelope(f + low, high - low + 1, vertex, boundary) == 0:
            for p in range(start, end):
                out[p * stride] = INFINITY
                out_nearest[p * stride] = f_nearest[p]
        else:
            k = 0
            for p in range(start - low, end - low):
                while boundary[k + 1] < p:
                    k += 1
                v = vertex[k]
                out[(p + low) * stride] = <double>((p - v) * (p - v)) + f[low + v]
                out_nearest[(p + low) * stride] = f_nearest[low + v]
        q = end


cdef void _envelope_pass(double* sqdist, const int64_t* shape, int ndim, int axis,
                         double* f, Py_ssize_t* vertex, double* boundary) noexcept nogil:
    # Replace sqdist, along `axis`, by its lower envelope of parabolas.
    cdef Py_ssize_t outer = 1, inner = 1, n = shape[axis], o, i, q, k
    cdef double* line
    for k in range(axis):
        outer *= shape[k]
    for k in range(axis + 1, ndim):
        inner *= shape[k]
    for o in range(outer):
        for i in range(inner):
            line = sqdist + o * n * inner + i
            for q in range(n):
                f[q] = line[q * inner]
            _envelope_line(f, n, line, inner, vertex, boundary)


cdef void _envelope_pass_nearest(double* sqdist, int64_t* nearest, const int64_t* shape,
                                 int ndim, int axis, double* f, int64_t* f_nearest,
                                 Py_ssize_t* vertex, double* boundary) noexcept nogil:
    cdef Py_ssize_t outer = 1, inner = 1, n = shape[axis], o, i, q, k, base
    for k in range(axis):
        outer *= shape[k]
    for k in range(axis + 1, ndim):
        inner *= shape[k]
    for o in range(outer):
        for i in range(inner):
            base = o * n * inner + i
            for q in range(n):
                f[q] = sqdist[base + q * inner]
                f_nearest[q] = nearest[base + q * inner]
            _envelope_line_nearest(f, f_nearest, n, sqdist + base, nearest + base, inner,
                                   vertex, boundary)


# 2-D specialisation: the column pass runs as a forward sweep into an int32
# buffer and a backward sweep that hands each finished row, still in cache,
# to the row pass; the output is written once. Needs rows < _NONE.
cdef enum:
    _NONE = 1 << 30


cdef void _column_distances(const uint8_t* foreground, Py_ssize_t rows, Py_ssize_t cols,
                            Py_ssize_t col_start, Py_ssize_t col_stop, int32_t* dist,
                            int32_t* carry) noexcept nogil:
    # dist[i, j] for col_start <= j < col_stop: rows to the nearest background
    # pixel in column j (_NONE or more: none). A sweep down, then one up; the
    # selects are branch-free so that gcc vectorises them.
    cdef Py_ssize_t i, j, width = col_stop - col_start
    cdef int32_t* row
    cdef const int32_t* previous
    cdef const uint8_t* mask
    cdef int32_t d
    for j in range(col_start, col_stop):
        dist[j] = _NONE if foreground[j] != 0 else 0
    for i in range(1, rows):
        row = dist + i * cols
        previous = row - cols
        mask = foreground + i * cols
        for j in range(col_start, col_stop):
            row[j] = (previous[j] + 1) & -<int32_t>(mask[j] != 0)
    for j in range(width):
        carry[j] = _NONE
    for i in range(rows - 1, -1, -1):
        row = dist + i * cols + col_start
        mask = foreground + i * cols + col_start
        for j in range(width):
            d = (carry[j] + 1) & -<int32_t>(mask[j] != 0)
            d = row[j] if row[j] < d else d
            carry[j] = d
            row[j] = d


cdef void _edt_rows(const int32_t* dist, Py_ssize_t cols, Py_ssize_t row_start,
                    Py_ssize_t row_stop, double* sqdist, bint take_root, double* f,
                    Py_ssize_t* vertex, double* boundary) noexcept nogil:
    # The envelope pass along each row over the column distances.
    cdef Py_ssize_t i, j
    cdef const int32_t* column_dist
    cdef double* out_row
    cdef int32_t farthest
    for i in range(row_start, row_stop):
        column_dist = dist + i * cols
        farthest = 0
        for j in range(cols):
            f[j] = <double>column_dist[j] * <double>column_dist[j]
            farthest = column_dist[j] if column_dist[j] > farthest else farthest
        if farthest >= _NONE:
            # columns without background (rare): no parabola there
            for j in range(cols):
                if column_dist[j] >= _NONE:
                    f[j] = INFINITY
        out_row = sqdist + i * cols
        _envelope_line(f, cols, out_row, 1, vertex, boundary)
        if take_root:
            # while the row is in cache, rather than another pass over the image
            for j in range(cols):
                out_row[j] = sqrt(out_row[j])


cdef void _nearest_labelled_rows(const label_bits* labels, Py_ssize_t rows, Py_ssize_t cols,
                                 Py_ssize_t col_start, Py_ssize_t col_stop,
                                 scratch_int32* nearest, Py_ssize_t nearest_stride,
                                 int32_t* carry) noexcept nogil:
    # nearest[i, j] for col_start <= j < col_stop: the row of the nearest
    # labelled pixel in column j, the upper one at a tie as in mahotas (-1:
    # none). Row i of `nearest` starts at nearest + i * nearest_stride. A sweep
    # down leaves the distance to the nearest labelled pixel at or above; the
    # sweep up picks the nearer of that and the one below, branch-free so that
    # gcc vectorises both.
    cdef Py_ssize_t i, j, width = col_stop - col_start
    cdef scratch_int32* row
    cdef const scratch_int32* previous
    cdef const label_bits* labels_row
    cdef int32_t up, down, i32, take_up, found
    for j in range(col_start, col_stop):
        nearest[j] = _NONE if labels[j] == 0 else 0
    for i in range(1, rows):
        row = nearest + i * nearest_stride
        previous = row - nearest_stride
        labels_row = labels + i * cols
        if label_bits is uint64_t:
            # two 32-bit halves: gcc vectorises no 64-bit equality without SSE4.1
            for j in range(col_start, col_stop):
                row[j] = (previous[j] + 1) & -<int32_t>(
                    (<uint32_t>labels_row[j] | <uint32_t>(labels_row[j] >> 32)) == 0)
        else:
            for j in range(col_start, col_stop):
                row[j] = (previous[j] + 1) & -<int32_t>(labels_row[j] == 0)
    for j in range(width):
        carry[j] = _NONE
    for i in range(rows - 1, -1, -1):
        i32 = <int32_t>i
        row = nearest + i * nearest_stride + col_start
        for j in range(width):
            up = row[j]
            # up is 0 exactly at labelled pixels
            down = (carry[j] + 1) & -<int32_t>(up != 0)
            carry[j] = down
            take_up = -<int32_t>(up <= down)
            found = -<int32_t>((up < _NONE) | (down < _NONE))
            row[j] = ((((i32 - up) & take_up) | ((i32 + down) & ~take_up)) & found) | ~found


cdef void _voronoi_row(const int32_t* height, const int32_t* source_row, Py_ssize_t cols,
                       const label_bits* labels, label_bits* out, Py_ssize_t* apex,
                       int64_t* apex_height, int64_t* numerator,
                       int64_t* denominator) noexcept nogil:
    # Lower envelope of the parabolas p -> height[v]**2 + (p - v)**2 over the
    # columns 0 .. cols - 1. Parabola k takes over from parabola k - 1 beyond
    # numerator[k] / denominator[k], a fraction kept exact so that no division
    # is needed while the envelope is built (64-bit products: the caller
    # bounds the sides). At an exact tie the lower column wins, as in mahotas.
    # Each owner's label is then read once and written over its whole span.
    cdef Py_ssize_t k = -1, u, v, p
    cdef int64_t f, n, d
    cdef label_bits label
    for u in range(cols):
        if height[u] >= _NONE:
            continue
        f = <int64_t>height[u] * height[u]
        while k >= 0:
            v = apex[k]
            # u is strictly lower than v beyond n / d
            n = (u - v) * (u + v) + f - apex_height[k]
            d = 2 * (u - v)
            if k == 0:
                if n >= 0:
                    break
            elif n * denominator[k] > numerator[k] * d:
                break
            # v is nowhere the lowest in 0 .. cols - 1
            k -= 1
        if k < 0:
            k = 0
            apex[0] = u
            apex_height[0] = f
        elif n < (cols - 1) * d:
            k += 1
            apex[k] = u
            apex_height[k] = f
            numerator[k] = n
            denominator[k] = d
    if k < 0:
        # nothing labelled in the image
        for p in range(cols):
            out[p] = 0
        return
    # right to left: parabola k owns the columns beyond numerator[k] / denominator[k]
    # (never negative for k >= 1), parabola 0 those left over
    p = cols - 1
    while k >= 0:
        v = apex[k]
        label = labels[source_row[v] * cols + v]
        if k == 0:
            while p >= 0:
                out[p] = label
                p -= 1
        else:
            while p >= 0 and p * denominator[k] > numerator[k]:
                out[p] = label
                p -= 1
        k -= 1


cdef void _voronoi_rows(const label_bits* labels, Py_ssize_t cols, Py_ssize_t row_start,
                        Py_ssize_t row_stop, const scratch_int32* nearest,
                        Py_ssize_t nearest_stride, label_bits* out, int32_t* height,
                        int32_t* source_row, Py_ssize_t* apex, int64_t* apex_height,
                        int64_t* numerator, int64_t* denominator) noexcept nogil:
    # `nearest` may be `out` itself (labels of 4 or 8 bytes): row i of it is
    # copied out before row i of labels is written, and no other row is read.
    cdef Py_ssize_t i, j
    cdef const scratch_int32* nearest_row
    cdef int32_t source, i32, found
    for i in range(row_start, row_stop):
        i32 = <int32_t>i
        nearest_row = nearest + i * nearest_stride
        for j in range(cols):
            source = nearest_row[j]
            found = -<int32_t>(source >= 0)
            source_row[j] = source
            height[j] = ((source - i32 if source > i32 else i32 - source) & found) | (
                _NONE & ~found)
        _voronoi_row(height, source_row, cols, labels, out + i * cols, apex, apex_height,
                     numerator, denominator)


cdef int _buffers(const int64_t[::1] shape, Py_ssize_t** vertex, double** boundary,
                  double** f, int64_t** f_nearest) noexcept nogil:
    cdef Py_ssize_t longest = 1, k
    for k in range(shape.shape[0]):
        if shape[k] > longest:
            longest = shape[k]
    vertex[0] = <Py_ssize_t*>malloc(longest * sizeof(Py_ssize_t))
    boundary[0] = <double*>malloc((longest + 1) * sizeof(double))
    f[0] = <double*>malloc(longest * sizeof(double))
    f_nearest[0] = <int64_t*>malloc(longest * sizeof(int64_t))
    return (vertex[0] != NULL and boundary[0] != NULL and f[0] != NULL
            and f_nearest[0] != NULL)


def squared_edt(const uint8_t[::1] foreground, const int64_t[::1] shape,
                double[::1] sqdist):
    """Squared distance of each foreground pixel to the nearest background one.

    Writes inf everywhere when there is no background pixel.
    """
    cdef int ndim = shape.shape[0], axis, ok
    cdef Py_ssize_t n0 = shape[0], m = foreground.shape[0] // shape[0]
    cdef Py_ssize_t* vertex = NULL
    cdef double* boundary = NULL
    cdef double* f = NULL
    cdef int64_t* f_nearest = NULL
    cdef double* carry = <double*>malloc(m * sizeof(double))
    ok = _buffers(shape, &vertex, &boundary, &f, &f_nearest)
    if carry == NULL or not ok:
        free(carry); free(vertex); free(boundary); free(f); free(f_nearest)
        raise MemoryError()
    with nogil:
        _column_pass(&foreground[0], n0, m, &sqdist[0], carry)
        for axis in range(1, ndim):
            _envelope_pass(&sqdist[0], &shape[0], ndim, axis, f, vertex, boundary)
    free(carry); free(vertex); free(boundary); free(f); free(f_nearest)


def nearest_background(const uint8_t[::1] foreground, const int64_t[::1] shape,
                       double[::1] sqdist, int64_t[::1] nearest):
    """Squared distance and flat index of the nearest background pixel.

    Ties go to the smallest index along the last axis, then the previous
    axes. Without any background pixel, sqdist is inf and nearest undefined.
    """
    cdef int ndim = shape.shape[0], axis, ok
    cdef Py_ssize_t n0 = shape[0], m = foreground.shape[0] // shape[0]
    cdef Py_ssize_t* vertex = NULL
    cdef double* boundary = NULL
    cdef double* f = NULL
    cdef int64_t* f_nearest = NULL
    cdef int64_t* below = <int64_t*>malloc(m * sizeof(int64_t))
    ok = _buffers(shape, &vertex, &boundary, &f, &f_nearest)
    if below == NULL or not ok:
        free(below); free(vertex); free(boundary); free(f); free(f_nearest)
        raise MemoryError()
    with nogil:
        _column_pass_nearest(&foreground[0], n0, m, &sqdist[0], &nearest[0], below)
        for axis in range(1, ndim):
            _envelope_pass_nearest(&sqdist[0], &nearest[0], &shape[0], ndim, axis, f,
                                   f_nearest, vertex, boundary)
    free(below); free(vertex); free(boundary); free(f); free(f_nearest)


def take_labels(const label_bits[::1] labels, const int64_t[::1] nearest,
                label_bits[::1] out):
    """out[p] = labels[nearest[p]], on label bits of any 1, 2, 4 or 8-byte type."""
    cdef Py_ssize_t p
    with nogil:
        for p in range(out.shape[0]):
            out[p] = labels[nearest[p]]


def edt_2d_columns(const uint8_t[:, ::1] foreground, int32_t[:, ::1] dist,
                   Py_ssize_t col_start, Py_ssize_t col_stop):
    """The first pass of squared_edt for a 2-D image with fewer than 2**30 rows.

    dist[i, j], for columns [col_start, col_stop): rows to the nearest
    background pixel in column j (2**30 or more: none).
    """
    cdef Py_ssize_t rows = foreground.shape[0], cols = foreground.shape[1]
    cdef int32_t* carry
    if rows == 0 or col_start >= col_stop:
        return
    carry = <int32_t*>malloc((col_stop - col_start) * sizeof(int32_t))
    if carry == NULL:
        raise MemoryError()
    with nogil:
        _column_distances(&foreground[0, 0], rows, cols, col_start, col_stop, &dist[0, 0], carry)
    free(carry)


def edt_2d_rows(const int32_t[:, ::1] dist, double[:, ::1] sqdist, bint take_root,
                Py_ssize_t row_start, Py_ssize_t row_stop):
    """The second pass: rows [row_start, row_stop) of the squared (or, with
    take_root, plain) distance from edt_2d_columns's column distances."""
    cdef Py_ssize_t cols = dist.shape[1]
    cdef double* f
    cdef Py_ssize_t* vertex
    cdef double* boundary
    if cols == 0 or row_start >= row_stop:
        return
    f = <double*>malloc(cols * sizeof(double))
    vertex = <Py_ssize_t*>malloc(cols * sizeof(Py_ssize_t))
    boundary = <double*>malloc((cols + 1) * sizeof(double))
    if f == NULL or vertex == NULL or boundary == NULL:
        free(f); free(vertex); free(boundary)
        raise MemoryError()
    with nogil:
        _edt_rows(&dist[0, 0], cols, row_start, row_stop, &sqdist[0, 0], take_root, f, vertex,
                  boundary)
    free(f); free(vertex); free(boundary)


def voronoi_2d_columns(const label_bits[:, ::1] labels, int32_t[:, ::1] nearest,
                       Py_ssize_t col_start, Py_ssize_t col_stop):
    """The first pass of gvoronoi in 2-D: for columns [col_start, col_stop), the
    row of the nearest pixel with nonzero label bits in the same column (-1:
    none; the upper at a tie).

    2-D, with fewer than 2**29 rows (row numbers plus 2**30, "none", stay
    within int32). `nearest` may share memory with voronoi_2d_rows's `out`.
    """
    cdef Py_ssize_t rows = labels.shape[0], cols = labels.shape[1]
    cdef int32_t* carry
    if rows == 0 or col_start >= col_stop:
        return
    carry = <int32_t*>malloc((col_stop - col_start) * sizeof(int32_t))
    if carry == NULL:
        raise MemoryError()
    with nogil:
        _nearest_labelled_rows(&labels[0, 0], rows, cols, col_start, col_stop,
                               <scratch_int32*>&nearest[0, 0], nearest.strides[0] // 4, carry)
    free(carry)


def voronoi_2d_rows(const label_bits[:, ::1] labels, const int32_t[:, ::1] nearest,
                    label_bits[:, ::1] out, Py_ssize_t row_start, Py_ssize_t row_stop):
    """The second pass: rows [row_start, row_stop) of out = labels of the
    nearest pixel with nonzero label bits (0 everywhere when there is none).

    `nearest` is voronoi_2d_columns's, and may be `out`'s own memory.
    (rows**2 + cols**2) * 2 * cols must stay below 2**62 (64-bit products).
    """
    cdef Py_ssize_t cols = labels.shape[1]
    cdef int32_t* height
    cdef int32_t* source_row
    cdef Py_ssize_t* apex
    cdef int64_t* apex_height
    cdef int64_t* numerator
    cdef int64_t* denominator
    if cols == 0 or row_start >= row_stop:
        return
    height = <int32_t*>malloc(cols * sizeof(int32_t))
    source_row = <int32_t*>malloc(cols * sizeof(int32_t))
    apex = <Py_ssize_t*>malloc(cols * sizeof(Py_ssize_t))
    apex_height = <int64_t*>malloc(cols * sizeof(int64_t))
    numerator = <int64_t*>malloc(cols * sizeof(int64_t))
    denominator = <int64_t*>malloc(cols * sizeof(int64_t))
    if (height == NULL or source_row == NULL or apex == NULL or apex_height == NULL
            or numerator == NULL or denominator == NULL):
        free(height); free(source_row); free(apex); free(apex_height); free(numerator)
        free(denominator)
        raise MemoryError()
    with nogil:
        _voronoi_rows(&labels[0, 0], cols, row_start, row_stop,
                      <const scratch_int32*>&nearest[0, 0], nearest.strides[0] // 4,
                      &out[0, 0], height, source_row, apex, apex_height, numerator,
                      denominator)
    free(height); free(source_row); free(apex); free(apex_height); free(numerator)
    free(denominator)
