"""Kernels behind karyo.morph (private: the caller validates every argument).

Every kernel takes C-contiguous flat arrays plus the image shape, and walks
the image row by row (a row is a run along the last axis): for one
structuring-element offset, a whole output row meets a whole (shifted) input
row, so the inner loops are contiguous and gcc vectorises them. Borders
follow mahotas: coordinates outside the image are clamped to the nearest
pixel ("nearest" extension).
"""

from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport malloc, realloc, free
from libc.string cimport memcpy, memset

from karyo._neighbours cimport flat_offsets, is_interior, neighbour_at
from karyo._types cimport number_t as pixel_t


cdef inline Py_ssize_t clamp(Py_ssize_t value, Py_ssize_t length) noexcept nogil:
    if value < 0:
        return 0
    if value >= length:
        return length - 1
    return value


cdef inline pixel_t saturating_add(pixel_t value, pixel_t weight, pixel_t lowest,
                                   pixel_t highest) noexcept nogil:
    # The dtype's lowest value stands for -infinity, so it stays there.
    if value == lowest:
        return lowest
    if weight > 0:
        return highest if value > highest - weight else <pixel_t>(value + weight)
    return lowest if value < lowest - weight else <pixel_t>(value + weight)


cdef inline pixel_t saturating_sub(pixel_t value, pixel_t weight, pixel_t lowest,
                                   pixel_t highest) noexcept nogil:
    if weight > 0:
        return lowest if value < lowest + weight else <pixel_t>(value - weight)
    return highest if value > highest + weight else <pixel_t>(value - weight)


cdef inline Py_ssize_t source_row(const Py_ssize_t* coords, const Py_ssize_t* shape,
                                  const Py_ssize_t* offset, Py_ssize_t ndim) noexcept nogil:
    """Index of the row at `coords + offset` (all axes but the last), clamped."""
    cdef Py_ssize_t row = 0, d
    for d in range(ndim - 1):
        row = row * shape[d] + clamp(coords[d] + offset[d], shape[d])
    return row


cdef inline void next_row(Py_ssize_t* coords, const Py_ssize_t* shape,
                          Py_ssize_t ndim) noexcept nogil:
    cdef Py_ssize_t d = ndim - 2
    while d >= 0:
        coords[d] += 1
        if coords[d] < shape[d]:
            return
        coords[d] = 0
        d -= 1


cdef void erode_row(pixel_t* out, const pixel_t* src, Py_ssize_t length, Py_ssize_t dx,
                    pixel_t weight, pixel_t lowest, pixel_t highest) noexcept nogil:
    """out[x] = min(out[x], src[clamp(x + dx)] - weight)."""
    cdef Py_ssize_t x
    cdef Py_ssize_t start = -dx if dx < 0 else 0
    cdef Py_ssize_t stop = length - dx if dx > 0 else length
    cdef Py_ssize_t head = start if start < length else length
    cdef Py_ssize_t tail = stop if stop > start else start
    cdef pixel_t value
    if head > 0:
        value = saturating_sub(src[0], weight, lowest, highest)
        for x in range(head):
            if value < out[x]:
                out[x] = value
    if weight == 0:
        for x in range(start, stop):
            value = src[x + dx]
            out[x] = value if value < out[x] else out[x]
    else:
        for x in range(start, stop):
            value = saturating_sub(src[x + dx], weight, lowest, highest)
            out[x] = value if value < out[x] else out[x]
    if tail < length:
        value = saturating_sub(src[length - 1], weight, lowest, highest)
        for x in range(tail, length):
            if value < out[x]:
                out[x] = value


cdef void dilate_row(pixel_t* out, const pixel_t* src, Py_ssize_t length, Py_ssize_t dx,
                     pixel_t weight, pixel_t lowest, pixel_t highest) noexcept nogil:
    """out[clamp(x + dx)] = max(out[clamp(x + dx)], src[x] + weight) (a scatter, as mahotas)."""
    cdef Py_ssize_t x
    cdef Py_ssize_t start = -dx if dx < 0 else 0
    cdef Py_ssize_t stop = length - dx if dx > 0 else length
    cdef Py_ssize_t head = start if start < length else length
    cdef Py_ssize_t tail = stop if stop > start else start
    cdef pixel_t value
    for x in range(head):
        value = saturating_add(src[x], weight, lowest, highest)
        if value > out[0]:
            out[0] = value
    if weight == 0:
        for x in range(start, stop):
            value = src[x]
            out[x + dx] = value if value > out[x + dx] else out[x + dx]
    else:
        for x in range(start, stop):
            value = saturating_add(src[x], weight, lowest, highest)
            out[x + dx] = value if value > out[x + dx] else out[x + dx]
    for x in range(tail, length):
        value = saturating_add(src[x], weight, lowest, highest)
        if value > out[length - 1]:
            out[length - 1] = value


def erode(const pixel_t[::1] image, pixel_t[::1] out, const Py_ssize_t[::1] shape,
          const Py_ssize_t[:, ::1] offsets, const pixel_t[::1] weights,
          pixel_t lowest, pixel_t highest):
    """Greyscale erosion: out[p] = min over j of image[clamp(p + offsets[j])] - weights[j]."""
    cdef Py_ssize_t ndim = shape.shape[0], n_offsets = offsets.shape[0]
    cdef Py_ssize_t length = shape[ndim - 1], size = image.shape[0]
    cdef Py_ssize_t row, n_rows, j, x
    cdef Py_ssize_t coords[32]
    if size == 0:
        return
    n_rows = size // length
    with nogil:
        for x in range(size):
            out[x] = highest
        memset(coords, 0, sizeof(coords))
        for row in range(n_rows):
            for j in range(n_offsets):
                erode_row(&out[row * length],
                          &image[source_row(coords, &shape[0], &offsets[j, 0], ndim) * length],
                          length, offsets[j, ndim - 1], weights[j], lowest, highest)
            next_row(coords, &shape[0], ndim)


def dilate(const pixel_t[::1] image, pixel_t[::1] out, const Py_ssize_t[::1] shape,
           const Py_ssize_t[:, ::1] offsets, const pixel_t[::1] weights,
           pixel_t lowest, pixel_t highest):
    """Greyscale dilation: image[p] + weights[j] is scattered to out[clamp(p + offsets[j])]."""
    cdef Py_ssize_t ndim = shape.shape[0], n_offsets = offsets.shape[0]
    cdef Py_ssize_t length = shape[ndim - 1], size = image.shape[0]
    cdef Py_ssize_t row, n_rows, j, x
    cdef Py_ssize_t coords[32]
    if size == 0:
        return
    n_rows = size // length
    with nogil:
        for x in range(size):
            out[x] = lowest
        memset(coords, 0, sizeof(coords))
        for row in range(n_rows):
            for j in range(n_offsets):
                dilate_row(&out[source_row(coords, &shape[0], &offsets[j, 0], ndim) * length],
                           &image[row * length],
                           length, offsets[j, ndim - 1], weights[j], lowest, highest)
            next_row(coords, &shape[0], ndim)


cdef void local_extremum_row(uint8_t* out, const pixel_t* centre, const pixel_t* src,
                             Py_ssize_t length, Py_ssize_t dx, bint is_min,
                             bint first) noexcept nogil:
    """out[x] (&)= src[clamp(x + dx)] does not beat centre[x] (NaN never beats anything)."""
    cdef Py_ssize_t x
    cdef Py_ssize_t start = -dx if dx < 0 else 0
    cdef Py_ssize_t stop = length - dx if dx > 0 else length
    cdef Py_ssize_t head = start if start < length else length
    cdef Py_ssize_t tail = stop if stop > start else start
    if first:
        memset(out, 1, length)
    for x in range(head):
        out[x] &= not (src[0] < centre[x] if is_min else src[0] > centre[x])
    for x in range(tail, length):
        out[x] &= not (src[length - 1] < centre[x] if is_min else src[length - 1] > centre[x])
    # The long middle run is written without &= on the first pass so that it
    # vectorises as a plain compare-and-store.
    if is_min:
        if first:
            for x in range(start, stop):
                out[x] = not (src[x + dx] < centre[x])
        else:
            for x in range(start, stop):
                out[x] &= not (src[x + dx] < centre[x])
    else:
        if first:
            for x in range(start, stop):
                out[x] = not (src[x + dx] > centre[x])
        else:
            for x in range(start, stop):
                out[x] &= not (src[x + dx] > centre[x])


cdef int find_local_extrema(const pixel_t* image, uint8_t* out, const Py_ssize_t* shape,
                            Py_ssize_t ndim, Py_ssize_t size, const Py_ssize_t* offsets,
                            Py_ssize_t n_offsets, bint is_min) noexcept nogil:
    """Local extrema with clamped borders (mahotas's locmin_max); -1 if out of memory.

    Offsets within the row are applied as whole-row vectorised passes; the
    others (rows above and below) are only checked for the few survivors.
    """
    cdef Py_ssize_t length = shape[ndim - 1]
    cdef Py_ssize_t n_rows = size // length
    cdef Py_ssize_t row, j, d, x, n_in_row = 0, n_across = 0, dx
    cdef const pixel_t* centre
    cdef pixel_t value
    cdef bint same_row
    cdef Py_ssize_t coords[32]
    cdef Py_ssize_t* in_row = <Py_ssize_t*>malloc((n_offsets + 1) * sizeof(Py_ssize_t))
    cdef Py_ssize_t* across = <Py_ssize_t*>malloc((n_offsets + 1) * sizeof(Py_ssize_t))
    cdef const pixel_t** across_rows = <const pixel_t**>malloc((n_offsets + 1) * sizeof(void*))
    if in_row == NULL or across == NULL or across_rows == NULL:
        free(in_row); free(across); free(across_rows)
        return -1
    for j in range(n_offsets):
        same_row = True
        for d in range(ndim - 1):
            if offsets[j * ndim + d] != 0:
                same_row = False
        if same_row:
            in_row[n_in_row] = j
            n_in_row += 1
        else:
            across[n_across] = j
            n_across += 1
    memset(coords, 0, sizeof(coords))
    for row in range(n_rows):
        centre = &image[row * length]
        if n_in_row == 0:
            memset(&out[row * length], 1, length)
        for j in range(n_in_row):
            local_extremum_row(&out[row * length], centre, centre, length,
                               offsets[in_row[j] * ndim + ndim - 1], is_min, j == 0)
        if n_across:
            for j in range(n_across):
                across_rows[j] = &image[source_row(coords, shape, &offsets[across[j] * ndim],
                                                   ndim) * length]
            for x in range(length):
                if not out[row * length + x]:
                    continue
                value = centre[x]
                for j in range(n_across):
                    dx = offsets[across[j] * ndim + ndim - 1]
                    if ((is_min and across_rows[j][clamp(x + dx, length)] < value) or
                            (not is_min and across_rows[j][clamp(x + dx, length)] > value)):
                        out[row * length + x] = 0
                        break
        next_row(coords, shape, ndim)
    free(in_row); free(across); free(across_rows)
    return 0


def locmin_max(const pixel_t[::1] image, uint8_t[::1] out, const Py_ssize_t[::1] shape,
               const Py_ssize_t[:, ::1] offsets, bint is_min):
    """out[p] = no neighbour (clamped at the border) is strictly lower (is_min) / higher."""
    cdef Py_ssize_t size = image.shape[0]
    if size == 0:
        return
    cdef int status
    with nogil:
        if pixel_t is double:
            status = find_local_extrema_f64(&image[0], &out[0], &shape[0], shape.shape[0], size,
                                            &offsets[0, 0] if offsets.shape[0] else NULL,
                                            offsets.shape[0], is_min)
        else:
            status = find_local_extrema(&image[0], &out[0], &shape[0], shape.shape[0], size,
                                        &offsets[0, 0] if offsets.shape[0] else NULL,
                                        offsets.shape[0], is_min)
    if status < 0:
        raise MemoryError()


cdef extern from *:
    """
    #include <stddef.h>
    #include <stdint.h>
    #if defined(__SSE2__)
    #include <emmintrin.h>
    #endif

    /* out[x] = 1 when no rows[k][x + dx[k]] beats centre[x] (is strictly
       greater, or smaller when is_min; NaN beats nothing), for x in
       [start, stop), where every x + dx[k] lies inside the row.
       SSE2, part of every x86-64, compares two doubles at a time and packs
       eight verdicts into bytes: gcc does not vectorise a double compare
       that ends in a byte. */
    static inline void karyo_unbeaten_f64_impl(uint8_t *out, const double *centre,
                                               const double *const *rows,
                                               const ptrdiff_t *dx, ptrdiff_t n_rows,
                                               ptrdiff_t start, ptrdiff_t stop,
                                               int is_min) {
        ptrdiff_t x = start, k;
    #if defined(__SSE2__)
        const __m128i one = _mm_set1_epi8(1);
        for (; x + 8 <= stop; x += 8) {
            __m128d c0 = _mm_loadu_pd(centre + x), c1 = _mm_loadu_pd(centre + x + 2);
            __m128d c2 = _mm_loadu_pd(centre + x + 4), c3 = _mm_loadu_pd(centre + x + 6);
            __m128d b0 = _mm_setzero_pd(), b1 = b0, b2 = b0, b3 = b0;
            for (k = 0; k < n_rows; k++) {
                const double *s = rows[k] + (x + dx[k]);
                if (is_min) {
                    b0 = _mm_or_pd(b0, _mm_cmplt_pd(_mm_loadu_pd(s), c0));
                    b1 = _mm_or_pd(b1, _mm_cmplt_pd(_mm_loadu_pd(s + 2), c1));
                    b2 = _mm_or_pd(b2, _mm_cmplt_pd(_mm_loadu_pd(s + 4), c2));
                    b3 = _mm_or_pd(b3, _mm_cmplt_pd(_mm_loadu_pd(s + 6), c3));
                } else {
                    b0 = _mm_or_pd(b0, _mm_cmpgt_pd(_mm_loadu_pd(s), c0));
                    b1 = _mm_or_pd(b1, _mm_cmpgt_pd(_mm_loadu_pd(s + 2), c1));
                    b2 = _mm_or_pd(b2, _mm_cmpgt_pd(_mm_loadu_pd(s + 4), c2));
                    b3 = _mm_or_pd(b3, _mm_cmpgt_pd(_mm_loadu_pd(s + 6), c3));
                }
            }
            /* 64-bit all-ones masks -> 32 -> 16 -> 8-bit lanes, signed saturation */
            __m128i w0 = _mm_packs_epi32(_mm_castpd_si128(b0), _mm_castpd_si128(b1));
            __m128i w1 = _mm_packs_epi32(_mm_castpd_si128(b2), _mm_castpd_si128(b3));
            __m128i pairs = _mm_packs_epi16(w0, w1);
            __m128i bytes = _mm_packs_epi16(pairs, pairs);
            _mm_storel_epi64((__m128i *)(out + x), _mm_andnot_si128(bytes, one));
        }
    #endif
        for (; x < stop; x++) {
            double c = centre[x];
            int beaten = 0;
            for (k = 0; k < n_rows; k++) {
                double other = rows[k][x + dx[k]];
                beaten |= is_min ? other < c : other > c;
            }
            out[x] = !beaten;
        }
    }

    static void karyo_unbeaten_f64(uint8_t *out, const double *centre,
                                   const double *const *rows, const ptrdiff_t *dx,
                                   ptrdiff_t n_rows, ptrdiff_t start, ptrdiff_t stop,
                                   int is_min) {
        /* constant is_min: one loop each without a test inside */
        if (is_min)
            karyo_unbeaten_f64_impl(out, centre, rows, dx, n_rows, start, stop, 1);
        else
            karyo_unbeaten_f64_impl(out, centre, rows, dx, n_rows, start, stop, 0);
    }
    """
    void karyo_unbeaten_f64(uint8_t* out, const double* centre, const double** rows,
                            const Py_ssize_t* dx, Py_ssize_t n_rows, Py_ssize_t start,
                            Py_ssize_t stop, int is_min) noexcept nogil


cdef inline uint8_t unbeaten_clamped(const double* centre, const double** rows,
                                     const Py_ssize_t* dx, Py_ssize_t n_rows, Py_ssize_t x,
                                     Py_ssize_t length, bint is_min) noexcept nogil:
    """karyo_unbeaten_f64 at one column, where steps may leave the row (clamped)."""
    cdef double value = centre[x], other
    cdef Py_ssize_t j
    for j in range(n_rows):
        other = rows[j][clamp(x + dx[j], length)]
        if (other < value) if is_min else (other > value):
            return 0
    return 1


cdef int find_local_extrema_f64(const double* image, uint8_t* out, const Py_ssize_t* shape,
                                Py_ssize_t ndim, Py_ssize_t size, const Py_ssize_t* offsets,
                                Py_ssize_t n_offsets, bint is_min) noexcept nogil:
    """find_local_extrema for float64, with every offset compared in one pass per row.

    Each offset is its (clamped) source row and its step along the row, so
    that the inner loop compares whole vectors; only the few columns where a
    step leaves the row are clamped one by one. -1 if out of memory.
    """
    cdef Py_ssize_t length = shape[ndim - 1]
    cdef Py_ssize_t n_rows = size // length
    cdef Py_ssize_t row, j, x, head = 0, tail = length
    cdef const double* centre
    cdef Py_ssize_t coords[32]
    cdef const double** rows = <const double**>malloc((n_offsets + 1) * sizeof(void*))
    cdef Py_ssize_t* dx = <Py_ssize_t*>malloc((n_offsets + 1) * sizeof(Py_ssize_t))
    if rows == NULL or dx == NULL:
        free(rows); free(dx)
        return -1
    # in the columns [head, tail) every step stays inside the row
    for j in range(n_offsets):
        dx[j] = offsets[j * ndim + ndim - 1]
        head = max(head, -dx[j])
        tail = min(tail, length - dx[j])
    head = min(head, length)
    tail = max(tail, head)
    memset(coords, 0, sizeof(coords))
    for row in range(n_rows):
        centre = &image[row * length]
        for j in range(n_offsets):
            rows[j] = &image[source_row(coords, shape, &offsets[j * ndim], ndim) * length]
        karyo_unbeaten_f64(&out[row * length], centre, rows, dx, n_offsets, head, tail, is_min)
        for x in range(head):
            out[row * length + x] = unbeaten_clamped(centre, rows, dx, n_offsets, x, length,
                                                     is_min)
        for x in range(tail, length):
            out[row * length + x] = unbeaten_clamped(centre, rows, dx, n_offsets, x, length,
                                                     is_min)
        next_row(coords, shape, ndim)
    free(rows); free(dx)
    return 0


def regmin_max(const pixel_t[::1] image, uint8_t[::1] out, const Py_ssize_t[::1] shape,
               const Py_ssize_t[:, ::1] offsets, bint is_min):
    """Regional extrema: local extrema, then every candidate plateau that touches a
    non-candidate neighbour at least as extreme is erased with one flood (mahotas's order:
    candidates in raster order, neighbours outside the image ignored)."""
    cdef Py_ssize_t ndim = shape.shape[0], n_offsets = offsets.shape[0]
    cdef Py_ssize_t size = image.shape[0]
    cdef Py_ssize_t index, j, neighbour, current, stack_size = 0, capacity = 1024, reach
    cdef Py_ssize_t* stack
    cdef Py_ssize_t* grown
    cdef Py_ssize_t* flat
    cdef pixel_t value, other
    cdef bint fake, interior
    cdef int status
    cdef uint64_t word
    if size == 0:
        return
    stack = <Py_ssize_t*>malloc(capacity * sizeof(Py_ssize_t))
    flat = <Py_ssize_t*>malloc((n_offsets + 1) * sizeof(Py_ssize_t))
    if stack == NULL or flat == NULL:
        free(stack)
        free(flat)
        raise MemoryError()
    with nogil:
        # Away from the border a neighbour is a fixed step in the flat image
        # (plateaus are flooded pixel by pixel: no divisions there).
        reach = flat_offsets(&shape[0], ndim, &offsets[0, 0] if n_offsets else NULL,
                             n_offsets, flat)
        if pixel_t is double:
            status = find_local_extrema_f64(&image[0], &out[0], &shape[0], ndim, size,
                                            &offsets[0, 0] if n_offsets else NULL, n_offsets,
                                            is_min)
        else:
            status = find_local_extrema(&image[0], &out[0], &shape[0], ndim, size,
                                        &offsets[0, 0] if n_offsets else NULL, n_offsets, is_min)
        index = 0 if status == 0 else size
        while index < size:
            # Candidates are sparse: skip eight empty bytes at a time.
            if index + 8 <= size:
                memcpy(&word, &out[index], 8)
                if word == 0:
                    index += 8
                    continue
            if not out[index]:
                index += 1
                continue
            value = image[index]
            fake = False
            interior = is_interior(index, &shape[0], ndim, reach)
            for j in range(n_offsets):
                if interior:
                    neighbour = index + flat[j]
                if interior or neighbour_at(index, &shape[0], ndim, &offsets[j, 0], &neighbour):
                    other = image[neighbour]
                    if not out[neighbour] and ((is_min and other <= value) or
                                               (not is_min and other >= value)):
                        fake = True
                        break
            index += 1
            if not fake:
                continue
            out[index - 1] = 0
            stack[0] = index - 1
            stack_size = 1
            while stack_size:
                stack_size -= 1
                current = stack[stack_size]
                interior = is_interior(current, &shape[0], ndim, reach)
                for j in range(n_offsets):
                    if interior:
                        neighbour = current + flat[j]
                    if ((interior or neighbour_at(current, &shape[0], ndim, &offsets[j, 0],
                                                  &neighbour))
                            and out[neighbour]):
                        out[neighbour] = 0
                        if stack_size == capacity:
                            capacity *= 2
                            grown = <Py_ssize_t*>realloc(stack, capacity * sizeof(Py_ssize_t))
                            if grown == NULL:
                                # an unfinished flood would leave fake extrema: give up
                                status = -1
                                stack_size = 0
                                index = size
                                break
                            stack = grown
                        stack[stack_size] = neighbour
                        stack_size += 1
    free(stack)
    free(flat)
    if status < 0:
        raise MemoryError()
