# Kernels behind karyo.histogram and karyo.thresholding (private: callers validate).

from libc.stdint cimport int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free

ctypedef fused pixel_t:
    uint8_t
    uint16_t
    uint32_t
    uint64_t

# Consecutive pixels often share a value (flat background): counting them into
# the same bin makes each increment wait for the previous store. Rotating over
# independent sub-histograms breaks that dependency chain.
DEF N_SUB = 4


def histogram(const pixel_t[::1] pixels, uint32_t[::1] counts):
    """Add the count of every value of `pixels` into `counts` (len > max value)."""
    cdef Py_ssize_t n = pixels.shape[0]
    cdef Py_ssize_t n_bins = counts.shape[0]
    cdef Py_ssize_t i, b, s
    cdef Py_ssize_t n_main = n - n % N_SUB
    cdef uint32_t* sub
    if n == 0:
        return
    if n_bins > (1 << 20):
        # Sparse wide histograms: sub-histograms would only thrash the cache.
        with nogil:
            for i in range(n):
                counts[pixels[i]] += 1
        return
    sub = <uint32_t*> calloc(N_SUB * n_bins, sizeof(uint32_t))
    if sub == NULL:
        raise MemoryError()
    with nogil:
        for i in range(0, n_main, N_SUB):
            sub[pixels[i]] += 1
            sub[n_bins + pixels[i + 1]] += 1
            sub[2 * n_bins + pixels[i + 2]] += 1
            sub[3 * n_bins + pixels[i + 3]] += 1
        for i in range(n_main, n):
            sub[pixels[i]] += 1
        for s in range(N_SUB):
            for b in range(n_bins):
                counts[b] += sub[s * n_bins + b]
    free(sub)


def otsu(const double[::1] hist):
    """Otsu's threshold of a histogram: the T maximising the between-class variance.

    The running class means are updated with the same recurrence and in the
    same order as mahotas, so ties resolve to the same T.
    """
    cdef Py_ssize_t n = hist.shape[0]
    cdef Py_ssize_t i, t
    cdef double total_above_zero = 0.0, moment_above_zero = 0.0
    cdef double total, count_below, count_above, previous_below, previous_above
    cdef double mean_below = 0.0, mean_above, between, best
    cdef Py_ssize_t best_t = 0
    if n <= 1:
        return 0
    with nogil:
        for i in range(1, n):
            total_above_zero += hist[i]
    if total_above_zero == 0:
        return 0
    with nogil:
        # count_below(T) = sum hist[0..T]; count_above(T) = total - count_below(T)
        total = hist[0]
        for i in range(1, n):
            total += hist[i]
        for i in range(1, n):
            moment_above_zero += i * hist[i]
        mean_above = moment_above_zero / total_above_zero
        count_below = hist[0]
        count_above = total - count_below
        best = count_below * count_above * (mean_below - mean_above) * (mean_below - mean_above)
        for t in range(1, n):
            previous_below = count_below
            previous_above = count_above
            count_below = count_below + hist[t]
            count_above = total - count_below
            if count_below == 0:
                continue
            if count_above == 0:
                break
            mean_below = (mean_below * previous_below + t * hist[t]) / count_below
            mean_above = (mean_above * previous_above - t * hist[t]) / count_above
            between = (count_below * count_above * (mean_below - mean_above)
                       * (mean_below - mean_above))
            if between > best:
                best = between
                best_t = t
    return best_t


def riddler_calvard(const uint32_t[::1] hist):
    """Riddler-Calvard threshold, following mahotas's iteration exactly.

    Returns (threshold, assigned): `assigned` is False when the loop never ran
    (mahotas then returns the integer maximum value).
    """
    cdef Py_ssize_t n = hist.shape[0]
    cdef Py_ssize_t t, max_value = n - 1
    cdef int64_t[::1] below_count, below_moment, above_count, above_moment
    cdef double result
    cdef bint assigned = False
    import numpy as np
    below_count = np.empty(n + 1, np.int64)
    below_moment = np.empty(n + 1, np.int64)
    above_count = np.zeros(n + 1, np.int64)
    above_moment = np.zeros(n + 1, np.int64)
    with nogil:
        while max_value > 0 and hist[max_value] == 0:
            max_value -= 1
        below_count[0] = hist[0]
        below_moment[0] = 0
        for t in range(1, n):
            below_count[t] = below_count[t - 1] + hist[t]
            below_moment[t] = below_moment[t - 1] + t * <int64_t> hist[t]
        for t in range(n - 1, -1, -1):
            above_count[t] = above_count[t + 1] + hist[t]
            above_moment[t] = above_moment[t + 1] + t * <int64_t> hist[t]
        result = max_value
        t = 0
        # mahotas's stopping rule: stop once t reaches the current estimate.
        while t < max_value and t < result:
            if below_count[t] != 0 and above_count[t + 1] != 0:
                result = (<double> below_moment[t] / <double> below_count[t]
                          + <double> above_moment[t + 1] / <double> above_count[t + 1]) / 2
                assigned = True
            t += 1
    return result, assigned
