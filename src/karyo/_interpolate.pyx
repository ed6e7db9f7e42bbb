# Kernels behind karyo.interpolate (private: callers validate).
#
# B-spline prefiltering and evaluation as scipy.ndimage computes them (the
# algorithms of M. Unser and P. J. Verveer): the same operations in the same
# order, so that float64 results equal scipy.ndimage's bit for bit and
# integer outputs round the same way.

from libc.math cimport floor, pow, powl
from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc

from karyo._types cimport integer_t

ctypedef fused real_t:
    double
    long double

# Boundary modes (karyo.interpolate maps mahotas's names onto these).
cdef enum:
    NEAREST = 0     # a a a | a b c d | d d d
    GRID_WRAP = 1   # b c d | a b c d | a b c: period n ('wrap')
    REFLECT = 2     # c b a | a b c d | d c b: half-sample symmetric
    MIRROR = 3      # d c b | a b c d | c b a: whole-sample symmetric
    CONSTANT = 4    # points beyond the edges take cval

# Sample positions are clamped to +-2**62 so that the integer arithmetic of
# the boundary mappings below cannot overflow (such shifts mean nothing).
cdef double _POSITION_LIMIT = 4611686018427387904.0


cdef int _poles(int order, double* pole) noexcept nogil:
    """Store the poles of the B-spline prefilter of `order` (2..5); return how many.

    The values are the closed forms' correctly rounded doubles (the ones
    scipy.ndimage uses), not the closed forms evaluated in floating point.
    """
    if order == 2:
        pole[0] = -0.171572875253809902396622551580603843  # sqrt(8) - 3
        return 1
    if order == 3:
        pole[0] = -0.267949192431122706472553658494127633  # sqrt(3) - 2
        return 1
    if order == 4:
        pole[0] = -0.361341225900220177092212841325675255
        pole[1] = -0.013725429297339121360331226939128204
        return 2
    pole[0] = -0.430575347099973791851434783493520110
    pole[1] = -0.043096288203264653822712376822550182
    return 2


cdef inline real_t _power(real_t base, Py_ssize_t exponent) noexcept nogil:
    if real_t is double:
        return pow(base, <double>exponent)
    else:
        return powl(base, <long double>exponent)


cdef inline real_t _mirrored_sums(const real_t* line, Py_ssize_t length, Py_ssize_t inner,
                                  real_t z, real_t zn, real_t* sums) noexcept nogil:
    # sums = c[0] + zn c[n-1] + sum over 0 < l < n-1 of z**l (c[l] + zn c[n-1-l]),
    # line by line: the causal initial value of the mirror and reflect modes
    # (zn = z**(n-1), resp. z**n). Returns z**(n-1).
    cdef Py_ssize_t i, ll
    cdef real_t zi = z
    cdef const real_t* row
    cdef const real_t* other
    cdef const real_t* last = &line[(length - 1) * inner]
    for i in range(inner):
        sums[i] = line[i] + zn * last[i]
    for ll in range(1, length - 1):
        row = &line[ll * inner]
        other = &line[(length - 1 - ll) * inner]
        for i in range(inner):
            sums[i] += zi * (row[i] + zn * other[i])
        zi *= z
    return zi


cdef void _filter_block(real_t* line, Py_ssize_t length, Py_ssize_t inner, int order,
                        int mode, real_t* sums) noexcept nogil:
    """Prefilter in place the `inner` interleaved lines of a (length, inner) C block.

    Per pole, a causal then an anti-causal first-order recursion (Unser et
    al.); their initial values are the exact sums for the boundary `mode`
    (MIRROR, REFLECT or GRID_WRAP). Each recursion step updates a whole row of
    `inner` contiguous values, so the innermost loops vectorise, and every
    value sees the operations of a one-line-at-a-time loop. `sums` holds
    `inner` values of scratch. Needs length >= 2.
    """
    cdef Py_ssize_t i, ll, n_poles, pi
    cdef double pole_values[2]
    cdef real_t z, zi, zn, gain
    cdef real_t* row
    cdef real_t* other
    cdef real_t* first = line
    cdef real_t* last = &line[(length - 1) * inner]
    n_poles = _poles(order, pole_values)
    gain = 1.0
    for pi in range(n_poles):
        z = <real_t>pole_values[pi]
        gain *= (1.0 - z) * (1.0 - 1.0 / z)
    for i in range(length * inner):
        line[i] *= gain
    for pi in range(n_poles):
        z = <real_t>pole_values[pi]
        # causal initial value
        if mode == GRID_WRAP:
            for i in range(inner):
                sums[i] = first[i]
            zi = z
            for ll in range(1, length):
                row = &line[(length - ll) * inner]
                for i in range(inner):
                    sums[i] += zi * row[i]
                zi *= z
            for i in range(inner):
                first[i] = sums[i] / (1.0 - zi)
        elif mode == REFLECT:
            zn = _power(z, length)
            zi = _mirrored_sums(line, length, inner, z, zn, sums)
            # the last term pairs c[n - 1] with c[0] itself: scipy 1.17 reads
            # its running sum there instead (scipy issue 24550, fixed in PR
            # 24615), an error of order z**(2n) that only short lines show
            for i in range(inner):
                sums[i] += zi * (last[i] + zn * first[i])
                first[i] = sums[i] * (z / (1.0 - zn * zn)) + first[i]
        else:
            zn = _power(z, length - 1)
            _mirrored_sums(line, length, inner, z, zn, sums)
            for i in range(inner):
                first[i] = sums[i] / (1.0 - zn * zn)
        # causal recursion
        for ll in range(1, length):
            row = &line[ll * inner]
            other = &line[(ll - 1) * inner]
            for i in range(inner):
                row[i] += z * other[i]
        # anti-causal initial value
        if mode == GRID_WRAP:
            for i in range(inner):
                sums[i] = last[i]
            zi = z
            for ll in range(length - 1):
                row = &line[ll * inner]
                for i in range(inner):
                    sums[i] += zi * row[i]
                zi *= z
            for i in range(inner):
                last[i] = sums[i] * (z / (zi - 1.0))
        elif mode == REFLECT:
            for i in range(inner):
                last[i] = last[i] * (z / (z - 1.0))
        else:
            other = &line[(length - 2) * inner]
            for i in range(inner):
                last[i] = (z * other[i] + last[i]) * z / (z * z - 1.0)
        # anti-causal recursion
        for ll in range(length - 2, -1, -1):
            row = &line[ll * inner]
            other = &line[(ll + 1) * inner]
            for i in range(inner):
                row[i] = z * (other[i] - row[i])


def spline_filter_axis(real_t[:, :, ::1] data, int order, int mode):
    """Prefilter `data` in place along its middle axis (data is outer x length x inner)."""
    cdef Py_ssize_t n_outer = data.shape[0], length = data.shape[1], inner = data.shape[2]
    cdef Py_ssize_t o
    cdef real_t* sums
    if length <= 1 or n_outer == 0 or inner == 0:
        return
    sums = <real_t*>malloc(inner * sizeof(real_t))
    if sums == NULL:
        raise MemoryError()
    with nogil:
        for o in range(n_outer):
            _filter_block(&data[o, 0, 0], length, inner, order, mode, sums)
    free(sums)


# Lines filtered side by side: enough independent recursions to hide the
# latency of each multiply-add chain, few enough to keep the block in cache.
cdef Py_ssize_t LINES_PER_BLOCK = 16


def spline_filter_lines(real_t[:, ::1] lines, int order, int mode):
    """Prefilter each contiguous row of `lines` in place (the last-axis case).

    A recursion along one line is a chain of dependent operations; blocks of
    LINES_PER_BLOCK lines are transposed into a scratch block and filtered
    side by side, which gives the same values several times faster.
    """
    cdef Py_ssize_t n_lines = lines.shape[0], length = lines.shape[1]
    cdef Py_ssize_t first, width, i, ll
    cdef real_t* block
    cdef real_t* sums
    if length <= 1 or n_lines == 0:
        return
    block = <real_t*>malloc(length * LINES_PER_BLOCK * sizeof(real_t))
    sums = <real_t*>malloc(LINES_PER_BLOCK * sizeof(real_t))
    if block == NULL or sums == NULL:
        free(block)
        free(sums)
        raise MemoryError()
    with nogil:
        first = 0
        while first < n_lines:
            width = min(LINES_PER_BLOCK, n_lines - first)
            for i in range(width):
                for ll in range(length):
                    block[ll * width + i] = lines[first + i, ll]
            _filter_block(block, length, width, order, mode, sums)
            for i in range(width):
                for ll in range(length):
                    lines[first + i, ll] = block[ll * width + i]
            first += width
    free(block)
    free(sums)


cdef double _map_position(double x, int64_t length, int mode) noexcept nogil:
    """Map position `x` outside [0, length - 1] back inside by `mode`; -1 means cval.

    NEAREST is not handled here (callers clamp); the arithmetic follows
    scipy.ndimage's, so mapped positions are the same doubles.
    """
    cdef int64_t period
    if x < 0:
        if mode == CONSTANT:
            return -1.0
        if length <= 1:
            return 0.0
        if mode == MIRROR:
            period = 2 * length - 2
            x = period * <int64_t>(-x / period) + x
            return x + period if x <= 1 - length else -x
        if mode == REFLECT:
            period = 2 * length
            if x < -period:
                x = period * <int64_t>(-x / period) + x
            if x < -length:
                return x + period
            # a tiny negative x must not map onto -1 (which would mean cval)
            return (1e-15 if x > -1e-15 else -x) - 1.0
        # GRID_WRAP
        return x + length * (<int64_t>((-1.0 - x) / length) + 1)
    if x > length - 1:
        if mode == CONSTANT:
            return -1.0
        if length <= 1:
            return 0.0
        if mode == MIRROR:
            period = 2 * length - 2
            x -= period * <int64_t>(x / period)
            return period - x if x >= length else x
        if mode == REFLECT:
            period = 2 * length
            x -= period * <int64_t>(x / period)
            return period - x - 1 if x >= length else x
        return x - length * <int64_t>(x / length)
    return x


cdef void _spline_weights(double x, int order, double* weights) noexcept nogil:
    """The order+1 B-spline weights of the taps around position `x` (order >= 1).

    Evaluated as scipy.ndimage does: each kernel piece at the offset from
    the nearest knot, and the last weight as one minus the others.
    """
    cdef double y, z, t
    cdef int h
    x -= floor(x if order & 1 else x + 0.5)
    y = x
    z = 1.0 - x
    if order == 2:
        weights[1] = 0.75 - x * x
        y = 0.5 - x
        weights[0] = 0.5 * y * y
    elif order == 3:
        weights[1] = (y * y * (y - 2.0) * 3.0 + 4.0) / 6.0
        weights[2] = (z * z * (z - 2.0) * 3.0 + 4.0) / 6.0
        weights[0] = z * z * z / 6.0
    elif order == 4:
        t = x * x
        weights[2] = t * (t * 0.25 - 0.625) + 115.0 / 192.0
        y = 1.0 + x
        weights[1] = y * (y * (y * (5.0 - y) / 6.0 - 1.25) + 5.0 / 24.0) + 55.0 / 96.0
        weights[3] = z * (z * (z * (5.0 - z) / 6.0 - 1.25) + 5.0 / 24.0) + 55.0 / 96.0
        y = 0.5 - x
        t = y * y
        weights[0] = t * t / 24.0
    elif order == 5:
        t = y * y
        weights[2] = t * (t * (0.25 - y / 12.0) - 0.5) + 0.55
        t = z * z
        weights[3] = t * (t * (0.25 - z / 12.0) - 0.5) + 0.55
        y += 1.0
        weights[1] = y * (y * (y * (y * (y / 24.0 - 0.375) + 1.25) - 1.75) + 0.625) + 0.425
        z += 1.0
        weights[4] = z * (z * (z * (z * (z / 24.0 - 0.375) + 1.25) - 1.75) + 0.625) + 0.425
        y = 1.0 - x
        t = y * y
        weights[0] = y * t * t / 120.0
    else:
        weights[0] = 1.0 - x
    weights[order] = 1.0
    for h in range(order):
        weights[order] -= weights[h]


def axis_taps(int64_t[:, ::1] taps, double[:, ::1] weights, uint8_t[::1] outside,
              int64_t in_length, double zoom, double shift, bint use_zoom, bint use_shift,
              int64_t n_pad, int order, int mode):
    """Fill the interpolation tables of one axis.

    Output index k samples the input at ``(k + shift) * zoom + n_pad`` (each
    term only if used; n_pad is the width of the padding added before the
    prefilter in 'nearest' mode), mapped inside by `mode`. ``taps[k]`` are
    the input indices of its order+1 taps, ``weights[k]`` their spline
    weights (1 for order 0) and ``outside[k]`` is 1 when the point falls
    outside the input in CONSTANT mode (its other entries are then 0).
    """
    cdef Py_ssize_t k, h, n_out = taps.shape[0]
    cdef double x
    cdef int64_t start, index
    # taps beyond the edges read mirrored coefficients in CONSTANT mode: the
    # prefilter assumed a mirror-symmetric extension
    cdef int tap_mode = MIRROR if mode == CONSTANT else mode
    cdef bint at_edge
    with nogil:
        for k in range(n_out):
            x = <double>k
            if use_shift:
                x += shift
            if use_zoom:
                x *= zoom
            x += <double>n_pad
            if x != x:
                x = 0.0
            x = min(max(x, -_POSITION_LIMIT), _POSITION_LIMIT)
            if mode != NEAREST:
                x = _map_position(x, in_length, mode)
                if x <= -1.0:
                    outside[k] = 1
                    for h in range(order + 1):
                        taps[k, h] = 0
                        weights[k, h] = 0.0
                    continue
            outside[k] = 0
            if order & 1:
                start = <int64_t>floor(x) - order // 2
            else:
                start = <int64_t>floor(x + 0.5) - order // 2
            at_edge = start < 0 or start + order >= in_length
            for h in range(order + 1):
                index = start + h
                if at_edge:
                    if tap_mode == NEAREST:
                        index = min(max(index, 0), in_length - 1)
                    else:
                        index = <int64_t>_map_position(<double>index, in_length, tap_mode)
                taps[k, h] = index
            if order > 0:
                _spline_weights(x, order, &weights[k, 0])
            else:
                weights[k, 0] = 1.0


cdef inline double _point(const double* coefficients, const int64_t* combo_offset,
                          const double* combo_weight, Py_ssize_t n_combos, Py_ssize_t n_lead,
                          const int64_t* last_taps, const double* last_weights,
                          Py_ssize_t n_taps) noexcept nogil:
    """One output value: sum over tap combinations (C order) of coefficient x weights."""
    cdef double total = 0.0, value
    cdef Py_ssize_t k, h, r
    cdef int64_t base
    for k in range(n_combos):
        base = combo_offset[k]
        for h in range(n_taps):
            value = coefficients[base + last_taps[h]]
            for r in range(n_lead):
                value = value * combo_weight[k * n_lead + r]
            value = value * last_weights[h]
            total += value
    return total


cdef inline void _pair_2d(const double* coefficients, const int64_t* combo_offset,
                          const double* combo_weight, Py_ssize_t n_combos,
                          const int64_t* last_taps, const double* last_weights,
                          Py_ssize_t n_taps, double* target) noexcept nogil:
    """_point for two neighbouring points of a 2-D output (tables of j and j + 1)."""
    cdef double first = 0.0, second = 0.0, w
    cdef const double* row
    cdef const int64_t* next_taps = last_taps + n_taps
    cdef const double* next_weights = last_weights + n_taps
    cdef Py_ssize_t k, h
    for k in range(n_combos):
        row = coefficients + combo_offset[k]
        w = combo_weight[k]
        for h in range(n_taps):
            first += (row[last_taps[h]] * w) * last_weights[h]
            second += (row[next_taps[h]] * w) * next_weights[h]
    target[0] = first
    target[1] = second


def sample(const double[::1] coefficients, double[::1] out, const Py_ssize_t[::1] out_shape,
           const int64_t[::1] taps, const double[::1] weights, const uint8_t[::1] outside,
           const Py_ssize_t[::1] axis_start, Py_ssize_t n_taps, double cval):
    """Evaluate the spline at every output point (C order), scipy.ndimage's way.

    Axis r, output index k, tap h: flat input offset ``taps[(axis_start[r] + k)
    * n_taps + h]`` (index times stride) and weight ``weights[same]``;
    ``outside[axis_start[r] + k]`` marks points that take `cval`. Each output
    value is the sum, over the tap grid in C order, of the coefficient times
    each axis's weight in axis order: scipy.ndimage's order of operations, so
    the result is bit-identical.
    """
    cdef Py_ssize_t rank = out_shape.shape[0], last = rank - 1
    cdef Py_ssize_t n_last = out_shape[last], n_rows = 1, n_combos = 1
    cdef Py_ssize_t row, r, j, k, slot
    cdef bint row_outside
    cdef double* target
    cdef const int64_t* last_taps
    cdef const double* last_weights
    cdef Py_ssize_t* position
    cdef Py_ssize_t* tap
    cdef int64_t* combo_offset
    cdef double* combo_weight
    for r in range(last):
        n_rows *= out_shape[r]
        n_combos *= n_taps
    if n_rows == 0 or n_last == 0:
        return
    position = <Py_ssize_t*>malloc((rank + 1) * sizeof(Py_ssize_t))
    tap = <Py_ssize_t*>malloc((rank + 1) * sizeof(Py_ssize_t))
    combo_offset = <int64_t*>malloc(n_combos * sizeof(int64_t))
    combo_weight = <double*>malloc((n_combos * last + 1) * sizeof(double))
    if position == NULL or tap == NULL or combo_offset == NULL or combo_weight == NULL:
        free(position)
        free(tap)
        free(combo_offset)
        free(combo_weight)
        raise MemoryError()
    with nogil:
        for r in range(rank):
            position[r] = 0
        for row in range(n_rows):
            target = &out[row * n_last]
            row_outside = False
            for r in range(last):
                if outside[axis_start[r] + position[r]]:
                    row_outside = True
            if row_outside:
                for j in range(n_last):
                    target[j] = cval
            else:
                # the tap combinations of the leading axes, in C order
                for r in range(last):
                    tap[r] = 0
                for k in range(n_combos):
                    combo_offset[k] = 0
                    for r in range(last):
                        slot = (axis_start[r] + position[r]) * n_taps + tap[r]
                        combo_offset[k] += taps[slot]
                        combo_weight[k * last + r] = weights[slot]
                    r = last - 1
                    while r >= 0:
                        tap[r] += 1
                        if tap[r] < n_taps:
                            break
                        tap[r] = 0
                        r -= 1
                j = 0
                while j < n_last:
                    if outside[axis_start[last] + j]:
                        target[j] = cval
                        j += 1
                        continue
                    last_taps = &taps[(axis_start[last] + j) * n_taps]
                    last_weights = &weights[(axis_start[last] + j) * n_taps]
                    if last != 1:
                        target[j] = _point(&coefficients[0], combo_offset, combo_weight,
                                           n_combos, last, last_taps, last_weights, n_taps)
                        j += 1
                    elif j + 1 < n_last and not outside[axis_start[last] + j + 1]:
                        # two points at once: their independent sums overlap
                        _pair_2d(&coefficients[0], combo_offset, combo_weight, n_combos,
                                 last_taps, last_weights, n_taps, &target[j])
                        j += 2
                    else:
                        target[j] = _point(&coefficients[0], combo_offset, combo_weight,
                                           n_combos, 1, last_taps, last_weights, n_taps)
                        j += 1
            # next row: odometer over the leading axes
            r = last - 1
            while r >= 0:
                position[r] += 1
                if position[r] < out_shape[r]:
                    break
                position[r] = 0
                r -= 1
    free(position)
    free(tap)
    free(combo_offset)
    free(combo_weight)


def round_into(const double[::1] values, integer_t[::1] out, double low, double high):
    """Store `values` rounded half away from zero and clipped to [low, high] in `out`.

    scipy.ndimage's rule for integer outputs (with low = 0, a negative value
    gives 0); NaN gives 0. `low` and `high` must be doubles the type holds.
    """
    cdef Py_ssize_t i, n = values.shape[0]
    cdef double t
    cdef bint signed = low < 0
    with nogil:
        for i in range(n):
            t = values[i]
            if t > 0:
                t = t + 0.5
            elif signed:
                t = t - 0.5
            else:
                t = 0.0
            if t > high:
                t = high
            elif t < low:
                t = low
            elif t != t:
                t = 0.0
            out[i] = <integer_t>t
