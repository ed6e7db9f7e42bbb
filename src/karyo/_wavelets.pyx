# Kernels behind karyo's wavelets (private: callers validate).
#
# Each transform is one sweep over the image, mahotas's row and column passes
# fused. The arithmetic is mahotas's, in mahotas's order, so results are
# bit-identical: sums start at +0 and add the terms in increasing tap order,
# each term being coefficient * sample in the image's own float type. mahotas
# adds 0 for a sample past the end of a line; the kernels skip that term or
# add an explicit 0, which gives the same sum (a sum that starts at +0 is
# never -0, and s + (+-0) == s for every other s). Along columns, several
# lines are done at a time, a whole image row per step, so that the inner
# loops are contiguous and vectorise. Single-threaded: a 1024 x 1344 image
# takes a few milliseconds, and two threads measured slower. `out` must not
# overlap `image`.

from libc.stdlib cimport free, malloc
from libc.string cimport memcpy, memset

from karyo._types cimport real_t

# D20, mahotas's longest filter
cdef enum:
    MAX_TAPS = 20
    MAX_TAPS_PER_PARITY = 10


cdef int check_arguments(const Py_ssize_t* image_shape, const Py_ssize_t* out_shape,
                         Py_ssize_t ntaps) except -1:
    """The kernels' bounds rest on these: `out` has the image's shape; 2, 4, ... 20 taps."""
    if image_shape[0] != out_shape[0] or image_shape[1] != out_shape[1]:
        raise ValueError(f"out has shape ({out_shape[0]}, {out_shape[1]}); expected the "
                         f"image's ({image_shape[0]}, {image_shape[1]})")
    if ntaps < 2 or ntaps > MAX_TAPS or ntaps % 2:
        raise ValueError(f"expected an even number of taps, 2 to {MAX_TAPS}; got {ntaps}")
    return 0


cdef inline void accumulate(real_t* sums, const real_t** samples, const real_t* taps,
                            Py_ssize_t nterms, Py_ssize_t length) noexcept nogil:
    """sums[x] += taps[t] * samples[t][x] for t = 0, 1, ... in this order, for x < length.

    Four terms per sweep: the partial sum stays in a register between them
    (the additions keep their order, so the rounding is unchanged).
    """
    cdef Py_ssize_t t = 0, x
    cdef const real_t* s0
    cdef const real_t* s1
    cdef const real_t* s2
    cdef const real_t* s3
    cdef real_t c0, c1, c2, c3
    while t + 4 <= nterms:
        s0, s1, s2, s3 = samples[t], samples[t + 1], samples[t + 2], samples[t + 3]
        c0, c1, c2, c3 = taps[t], taps[t + 1], taps[t + 2], taps[t + 3]
        for x in range(length):
            sums[x] = (((sums[x] + c0 * s0[x]) + c1 * s1[x]) + c2 * s2[x]) + c3 * s3[x]
        t += 4
    if t + 2 <= nterms:
        s0, s1 = samples[t], samples[t + 1]
        c0, c1 = taps[t], taps[t + 1]
        for x in range(length):
            sums[x] = (sums[x] + c0 * s0[x]) + c1 * s1[x]
        t += 2
    if t < nterms:
        s0, c0 = samples[t], taps[t]
        for x in range(length):
            sums[x] = sums[x] + c0 * s0[x]


def haar_forward(const real_t[:, ::1] image, real_t[:, ::1] out, bint preserve_energy):
    """mahotas's Haar row pass, then its column pass, fused: one sweep over the image.

    Input rows 2i and 2i + 1 hold the pixels a b / c d of each 2x2 cell; the
    row pass gives a + b, b - a, c + d, d - c and the column pass combines
    those into output rows i and half + i. An unpaired last row or column is
    0, as in mahotas.
    """
    cdef Py_ssize_t n_rows = image.shape[0], n_columns = image.shape[1]
    cdef Py_ssize_t rows = n_rows // 2, columns = n_columns // 2
    cdef Py_ssize_t i, x
    cdef const real_t* top
    cdef const real_t* bottom
    cdef real_t* low
    cdef real_t* high
    cdef real_t a, b, c, d, top_low, top_high, bottom_low, bottom_high
    cdef real_t two = 2  # not Cython's literal 2.0: float32 must not compute in double
    check_arguments(image.shape, out.shape, 2)
    with nogil:
        for i in range(rows):
            top = &image[2 * i, 0]
            bottom = &image[2 * i + 1, 0]
            low = &out[i, 0]
            high = &out[rows + i, 0]
            for x in range(columns):
                a = top[2 * x]
                b = top[2 * x + 1]
                c = bottom[2 * x]
                d = bottom[2 * x + 1]
                top_low = a + b
                top_high = b - a
                bottom_low = c + d
                bottom_high = d - c
                if preserve_energy:
                    low[x] = (top_low + bottom_low) / two
                    low[columns + x] = (top_high + bottom_high) / two
                    high[x] = (bottom_low - top_low) / two
                    high[columns + x] = (bottom_high - top_high) / two
                else:
                    low[x] = top_low + bottom_low
                    low[columns + x] = top_high + bottom_high
                    high[x] = bottom_low - top_low
                    high[columns + x] = bottom_high - top_high
            if n_columns % 2:
                low[n_columns - 1] = 0
                high[n_columns - 1] = 0
        if n_rows % 2:
            memset(&out[n_rows - 1, 0], 0, n_columns * sizeof(real_t))


def haar_inverse(const real_t[:, ::1] image, real_t[:, ::1] out, bint preserve_energy):
    """mahotas's inverse Haar row pass, then its column pass, fused: one sweep.

    Each line's halves l and h give back (l - h) / 2 and (l + h) / 2; the
    column pass takes its halves from rows i and half + i (the second half
    of the column also for an odd number of rows, unlike mahotas). With
    `preserve_energy`, the result is then multiplied by 2, as in mahotas.
    """
    cdef Py_ssize_t n_rows = image.shape[0], n_columns = image.shape[1]
    cdef Py_ssize_t rows = n_rows // 2, columns = n_columns // 2
    cdef Py_ssize_t i, x
    cdef const real_t* top
    cdef const real_t* bottom
    cdef real_t* even
    cdef real_t* odd
    cdef real_t top_even, top_odd, bottom_even, bottom_odd
    cdef real_t scale = 2 if preserve_energy else 1
    cdef real_t two = 2  # not Cython's literal 2.0: float32 must not compute in double
    check_arguments(image.shape, out.shape, 2)
    with nogil:
        for i in range(rows):
            top = &image[i, 0]
            bottom = &image[rows + i, 0]
            even = &out[2 * i, 0]
            odd = &out[2 * i + 1, 0]
            for x in range(columns):
                top_even = (top[x] - top[columns + x]) / two
                top_odd = (top[x] + top[columns + x]) / two
                bottom_even = (bottom[x] - bottom[columns + x]) / two
                bottom_odd = (bottom[x] + bottom[columns + x]) / two
                # (v / 2) * 2 is not always v (subnormals): mahotas does both steps
                even[2 * x] = (top_even - bottom_even) / two * scale
                odd[2 * x] = (top_even + bottom_even) / two * scale
                even[2 * x + 1] = (top_odd - bottom_odd) / two * scale
                odd[2 * x + 1] = (top_odd + bottom_odd) / two * scale
            if n_columns % 2:
                even[n_columns - 1] = 0
                odd[n_columns - 1] = 0
        if n_rows % 2:
            memset(&out[n_rows - 1, 0], 0, n_columns * sizeof(real_t))


cdef void set_analysis_taps(const real_t[::1] taps, real_t* low_taps,
                            real_t* high_taps) noexcept nogil:
    """Tap k of the analysis: taps[K-1-k] for the low band, (-1)^(k+1) taps[k] for the high band."""
    cdef Py_ssize_t k, ntaps = taps.shape[0]
    for k in range(ntaps):
        low_taps[k] = taps[ntaps - 1 - k]
        high_taps[k] = taps[k] if k % 2 else -taps[k]


cdef void analyse_line(const real_t* line, real_t* bands, Py_ssize_t n, real_t* phases,
                       Py_ssize_t phase_width, const real_t** samples, const real_t* low_taps,
                       const real_t* high_taps, Py_ssize_t ntaps) noexcept nogil:
    """Analysis of a contiguous line of n samples: low band, then high band, into `bands`.

    ``low[x] = sum_k low_taps[k] line[2x+k]``, k increasing, likewise high.
    The even and odd samples go to the two rows of `phases` (zero past the
    end; `samples` points into them at k // 2), so that each tap is one
    contiguous multiply-add over all outputs.
    """
    cdef Py_ssize_t half = n // 2, x
    for x in range((n + 1) // 2):
        phases[x] = line[2 * x]
    for x in range(half):
        phases[phase_width + x] = line[2 * x + 1]
    memset(bands, 0, 2 * half * sizeof(real_t))
    accumulate(bands, samples, low_taps, ntaps, half)
    accumulate(bands + half, samples, high_taps, ntaps, half)
    if n % 2:
        bands[n - 1] = 0


def daubechies_forward(const real_t[:, ::1] image, real_t[:, ::1] out, const real_t[::1] taps):
    """mahotas's Daubechies analysis of the rows, then of the columns, in one sweep.

    Output rows x and half + x (low and high band of every column) sum the
    analysed image rows 2x .. 2x+K-1, whole rows at a time; each image row
    is analysed once, into a ring of K rows that stays in cache.
    """
    cdef Py_ssize_t n = image.shape[0], width = image.shape[1], half = n // 2
    cdef Py_ssize_t ntaps = taps.shape[0], phase_width = width // 2 + ntaps // 2 + 1
    cdef Py_ssize_t x, k, nterms, analysed = 0
    cdef real_t* ring
    cdef real_t* phases
    cdef const real_t* phase_samples[MAX_TAPS]
    cdef const real_t* row_samples[MAX_TAPS]
    cdef real_t low_taps[MAX_TAPS]
    cdef real_t high_taps[MAX_TAPS]
    check_arguments(image.shape, out.shape, ntaps)
    if n == 0 or width == 0:
        return
    ring = <real_t*>malloc((ntaps * width + 2 * phase_width) * sizeof(real_t))
    if ring == NULL:
        raise MemoryError()
    phases = ring + ntaps * width
    with nogil:
        set_analysis_taps(taps, low_taps, high_taps)
        memset(phases, 0, 2 * phase_width * sizeof(real_t))
        for k in range(ntaps):
            phase_samples[k] = phases + (k % 2) * phase_width + k // 2
        for x in range(half):
            nterms = min(ntaps, n - 2 * x)  # rows past the end add nothing
            while analysed < 2 * x + nterms:  # row r lives in ring row r % K
                analyse_line(&image[analysed, 0], ring + (analysed % ntaps) * width, width,
                             phases, phase_width, phase_samples, low_taps, high_taps, ntaps)
                analysed += 1
            for k in range(nterms):
                row_samples[k] = ring + ((2 * x + k) % ntaps) * width
            memset(&out[x, 0], 0, width * sizeof(real_t))
            memset(&out[half + x, 0], 0, width * sizeof(real_t))
            accumulate(&out[x, 0], row_samples, low_taps, nterms, width)
            accumulate(&out[half + x, 0], row_samples, high_taps, nterms, width)
        if n % 2:
            memset(&out[n - 1, 0], 0, width * sizeof(real_t))
    free(ring)


cdef void set_synthesis_terms(const real_t[::1] taps, Py_ssize_t x, Py_ssize_t half,
                              Py_ssize_t* shifts, real_t* low_taps, real_t* high_taps,
                              Py_ssize_t* nterms) noexcept nogil:
    """The terms of mahotas's synthesis for output x (or any output of x's parity).

    Output x sums ``taps[k] low[m]`` and ``(-1)^k taps[K-1-k] high[m]``
    over the k, increasing, for which ``x + k - K + 2`` is odd, with
    m = (x + k - K + 2) / 2 in C: -1 reads sample 0. Terms whose m is
    outside [0, half) add nothing and are left out. With `half` < 0, all
    terms are kept and m = -1 is left as is: the caller pads the bands,
    with sample 0 at -1 and zeros beyond. Gives each term's m - floor(x / 2),
    its two coefficients, and their number.
    """
    cdef Py_ssize_t k, m, ntaps = taps.shape[0]
    nterms[0] = 0
    for k in range(1 - x % 2, ntaps, 2):
        m = (x + k + 1 - ntaps) // 2  # exact: x + k + 1 - K is even
        if half >= 0:
            if m == -1:
                m = 0  # C's -1 / 2 == 0
            if m < 0 or m >= half:
                continue
        shifts[nterms[0]] = m - x // 2
        low_taps[nterms[0]] = taps[k]
        high_taps[nterms[0]] = taps[ntaps - 1 - k] if k % 2 == 0 else -taps[ntaps - 1 - k]
        nterms[0] += 1


def daubechies_inverse(const real_t[:, ::1] image, real_t[:, ::1] out, const real_t[::1] taps):
    """mahotas's Daubechies synthesis of the columns, then of the rows, in one sweep.

    Each output row is synthesised from the rows of the two bands of the
    columns (rows 0..half-1 the low band, half..2 half-1 the high band,
    whole rows at a time), then synthesised along its length, straight
    into `out`.
    """
    cdef Py_ssize_t n = image.shape[0], width = image.shape[1], half = n // 2
    cdef Py_ssize_t ntaps = taps.shape[0], left = ntaps // 2
    cdef Py_ssize_t line_half = width // 2, band_width = left + line_half + 1
    cdef Py_ssize_t x, j, t, parity, count, nterms
    cdef real_t* buffers
    cdef real_t* line
    cdef real_t* line_high
    cdef real_t* low_band
    cdef real_t* high_band
    cdef real_t* low
    cdef real_t* high
    cdef real_t* result
    cdef const real_t* low_samples[MAX_TAPS_PER_PARITY]
    cdef const real_t* high_samples[MAX_TAPS_PER_PARITY]
    cdef Py_ssize_t shifts[MAX_TAPS_PER_PARITY]
    cdef real_t low_taps[MAX_TAPS_PER_PARITY]
    cdef real_t high_taps[MAX_TAPS_PER_PARITY]
    cdef Py_ssize_t line_nterms[2]
    cdef const real_t* line_low_samples[2][MAX_TAPS_PER_PARITY]
    cdef const real_t* line_high_samples[2][MAX_TAPS_PER_PARITY]
    cdef real_t line_low_taps[2][MAX_TAPS_PER_PARITY]
    cdef real_t line_high_taps[2][MAX_TAPS_PER_PARITY]
    check_arguments(image.shape, out.shape, ntaps)
    if n == 0 or width == 0:
        return
    buffers = <real_t*>malloc((2 * width + 4 * band_width) * sizeof(real_t))
    if buffers == NULL:
        raise MemoryError()
    line, line_high = buffers, buffers + width
    low_band, high_band = buffers + 2 * width, buffers + 2 * width + band_width
    low, high = buffers + 2 * width + 2 * band_width, buffers + 2 * width + 3 * band_width
    with nogil:
        # along a row, the bands sit at `left` in buffers with sample 0 also
        # just before them (band index -1) and zeros around
        memset(low_band, 0, 2 * band_width * sizeof(real_t))
        for parity in range(2):
            set_synthesis_terms(taps, parity, -1, shifts, line_low_taps[parity],
                                line_high_taps[parity], &line_nterms[parity])
            for t in range(line_nterms[parity]):
                line_low_samples[parity][t] = low_band + left + shifts[t]
                line_high_samples[parity][t] = high_band + left + shifts[t]
        for x in range(n):
            # the columns: output row x from whole band rows
            set_synthesis_terms(taps, x, half, shifts, low_taps, high_taps, &nterms)
            for t in range(nterms):
                low_samples[t] = &image[x // 2 + shifts[t], 0]
                high_samples[t] = &image[half + x // 2 + shifts[t], 0]
            memset(line, 0, 2 * width * sizeof(real_t))
            accumulate(line, low_samples, low_taps, nterms, width)
            accumulate(line_high, high_samples, high_taps, nterms, width)
            for j in range(width):  # mahotas divides by 2.0, in double too
                line[j] = (line[j] + line_high[j]) / 2
            # then that row
            memcpy(low_band + left, line, line_half * sizeof(real_t))
            memcpy(high_band + left, line + line_half, line_half * sizeof(real_t))
            low_band[left - 1] = low_band[left]
            high_band[left - 1] = high_band[left]
            result = &out[x, 0]
            for parity in range(2):
                count = (width - parity + 1) // 2
                memset(low, 0, count * sizeof(real_t))
                memset(high, 0, count * sizeof(real_t))
                accumulate(low, line_low_samples[parity], line_low_taps[parity],
                           line_nterms[parity], count)
                accumulate(high, line_high_samples[parity], line_high_taps[parity],
                           line_nterms[parity], count)
                for j in range(count):  # mahotas divides by 2.0, in double too
                    result[2 * j + parity] = (low[j] + high[j]) / 2
    free(buffers)
