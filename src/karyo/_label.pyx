"""Kernels behind karyo.labeled (private: the caller validates every argument).

Connected-component labelling is two raster passes with a union-find table
(Wu, Otoo & Suzuki 2009) over runs of foreground along the last axis (He,
Chao & Suzuki 2008): the first pass gives each run a provisional label from
the runs it touches in already-visited lines, merging their classes; the
table is then flattened to consecutive labels and the second pass writes the
output once, run by run. A merge always keeps the smaller label as root, so
the final labels follow the raster order of each component's first pixel.
"""

import numpy as np

from libc.string cimport memcpy
from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t

from karyo._types cimport number_t as value_t

ctypedef fused pixel_t:
    uint8_t
    uint16_t
    uint32_t
    uint64_t
    float
    double

ctypedef fused label_t:
    int32_t
    int64_t


cdef inline int32_t find_root(int32_t* parent, int32_t label) noexcept nogil:
    # Path halving: every visited node skips to its grandparent.
    while parent[label] != label:
        parent[label] = parent[parent[label]]
        label = parent[label]
    return label


cdef inline int32_t merge(int32_t* parent, int32_t first, int32_t second) noexcept nogil:
    """Join the classes of two labels; the smaller root stays root (keeps parent[i] <= i)."""
    first = find_root(parent, first)
    second = find_root(parent, second)
    if first < second:
        parent[second] = first
        return first
    parent[first] = second
    return second


cdef inline int32_t flatten(int32_t* parent, int32_t count) noexcept nogil:
    """Turn the union-find table into a map provisional -> final label (1..n)."""
    cdef int32_t label, final_count = 0
    parent[0] = 0
    for label in range(1, count + 1):
        if parent[label] == label:
            final_count += 1
            parent[label] = final_count
        else:
            # parent[label] < label, so it already holds a final label
            parent[label] = parent[parent[label]]
    return final_count


def label_2d(const pixel_t[:, :] image, int32_t[:, ::1] out, int32_t[::1] parent,
             bint full_connectivity):
    """Label foreground (nonzero) pixels of `image` into `out`; return the count.

    4-connectivity if not `full_connectivity`, else 8. `parent` (the
    union-find table) needs rows * ceil(cols / 2) + 1 entries, the most runs
    an image can hold; returns -1 if it has fewer.
    """
    cdef Py_ssize_t rows = image.shape[0], cols = image.shape[1]
    cdef Py_ssize_t capacity = parent.shape[0] - 1
    cdef Py_ssize_t[::1] run_start = np.empty(capacity, np.intp)
    cdef Py_ssize_t[::1] run_stop = np.empty(capacity, np.intp)
    cdef int32_t[::1] run_label = np.empty(capacity, np.int32)
    cdef Py_ssize_t[::1] row_runs = np.empty(rows + 1, np.intp)
    cdef int32_t count
    with nogil:
        count = scan_runs_2d(image, parent, run_start, run_stop, run_label, row_runs,
                             full_connectivity)
        if count >= 0:
            write_runs_2d(out, parent, run_start, run_stop, run_label, row_runs)
    return count


cdef inline bint is_zero_word(const char* pixels) noexcept nogil:
    cdef uint64_t word
    memcpy(&word, pixels, 8)
    return word == 0


cdef inline bint has_no_zero_byte(const char* pixels) noexcept nogil:
    # the classic "has a zero byte" bit trick, negated
    cdef uint64_t word
    memcpy(&word, pixels, 8)
    return ((word - 0x0101010101010101ULL) & ~word & 0x8080808080808080ULL) == 0


cdef int32_t scan_runs_2d(const pixel_t[:, :] image, int32_t[::1] parent,
                          Py_ssize_t[::1] run_start, Py_ssize_t[::1] run_stop,
                          int32_t[::1] run_label, Py_ssize_t[::1] row_runs,
                          bint full_connectivity) noexcept nogil:
    """First pass over runs of foreground: give each a provisional label.

    A run takes the label of the first run it touches in the row above and
    merges the classes of the others (He, Chao & Suzuki 2008); 8-connected
    runs touch if they overlap or meet at a corner.
    """
    cdef Py_ssize_t rows = image.shape[0], cols = image.shape[1]
    cdef Py_ssize_t byte_step = image.strides[1]
    cdef bint byte_rows = byte_step == 1 and sizeof(pixel_t) == 1
    cdef Py_ssize_t reach = 1 if full_connectivity else 0
    cdef Py_ssize_t capacity = parent.shape[0] - 1
    cdef Py_ssize_t y, x, start, n_runs = 0, first_above, last_above, k
    cdef const char* pixels
    cdef int32_t* table = &parent[0]
    cdef int32_t count = 0, current, other
    for y in range(rows):
        row_runs[y] = n_runs
        if capacity - n_runs < (cols + 1) // 2:
            return -1
        pixels = <const char*>&image[y, 0]
        first_above = row_runs[y - 1] if y > 0 else 0
        last_above = n_runs if y > 0 else 0
        x = 0
        while x < cols:
            if byte_rows:
                while x + 8 <= cols and is_zero_word(pixels + x):
                    x += 8
            while x < cols and (<const pixel_t*>(pixels + x * byte_step))[0] == 0:
                x += 1
            if x == cols:
                break
            start = x
            if byte_rows:
                while x + 8 <= cols and has_no_zero_byte(pixels + x):
                    x += 8
            while x < cols and (<const pixel_t*>(pixels + x * byte_step))[0] != 0:
                x += 1
            # runs above that end before this one can touch it never touch a later one
            while first_above < last_above and run_stop[first_above] + reach <= start:
                first_above += 1
            current = 0
            k = first_above
            while k < last_above and run_start[k] < x + reach:
                other = run_label[k]
                if current == 0:
                    current = other
                elif other != current:
                    current = merge(table, current, other)
                k += 1
            if current == 0:
                count += 1
                table[count] = count
                current = count
            run_start[n_runs] = start
            run_stop[n_runs] = x
            run_label[n_runs] = current
            n_runs += 1
    row_runs[rows] = n_runs
    return flatten(table, count)


cdef void write_runs_2d(int32_t[:, ::1] out, int32_t[::1] parent, Py_ssize_t[::1] run_start,
                        Py_ssize_t[::1] run_stop, int32_t[::1] run_label,
                        Py_ssize_t[::1] row_runs) noexcept nogil:
    """Second pass: write each row once, zeros between runs and final labels on them."""
    cdef Py_ssize_t rows = out.shape[0], cols = out.shape[1]
    cdef Py_ssize_t y, x, k, start, stop, done
    cdef int32_t final_label
    cdef int32_t* row
    for y in range(rows):
        row = &out[y, 0]
        done = 0
        for k in range(row_runs[y], row_runs[y + 1]):
            # local bounds, so that the fill loops are plain (vectorised) stores
            start = run_start[k]
            stop = run_stop[k]
            final_label = parent[run_label[k]]
            for x in range(done, start):
                row[x] = 0
            for x in range(start, stop):
                row[x] = final_label
            done = stop
        for x in range(done, cols):
            row[x] = 0


def label_nd(const pixel_t[:, :] image, int32_t[:, ::1] out, Py_ssize_t[::1] shape,
             Py_ssize_t[:, ::1] offsets, int32_t[::1] parent, bint runs_connected):
    """Label an n-D image seen as (lines, last axis) with any neighbourhood.

    `shape` is the full n-D shape; `offsets` the coordinate offsets of the
    neighbours that come before a pixel in raster order (half of a
    symmetric structuring element). `runs_connected` says whether the
    offset (0, ..., 0, -1) is among them; if not, every pixel is its own
    run. `parent` needs one entry per possible run plus one. Returns the
    number of components, or -1 if `parent` is too small.
    """
    cdef Py_ssize_t lines = image.shape[0], n_offsets = offsets.shape[0]
    cdef Py_ssize_t capacity = parent.shape[0] - 1
    cdef Py_ssize_t[::1] run_start = np.empty(capacity, np.intp)
    cdef Py_ssize_t[::1] run_stop = np.empty(capacity, np.intp)
    cdef int32_t[::1] run_label = np.empty(capacity, np.int32)
    cdef Py_ssize_t[::1] line_runs = np.empty(lines + 1, np.intp)
    cdef Py_ssize_t[::1] scratch = np.empty(5 * n_offsets + shape.shape[0] + 1, np.intp)
    cdef int32_t count
    with nogil:
        count = scan_runs_nd(image, shape, offsets, parent, run_start, run_stop, run_label,
                             line_runs, scratch, runs_connected)
        if count >= 0:
            write_runs_2d(out, parent, run_start, run_stop, run_label, line_runs)
    return count


cdef int32_t scan_runs_nd(const pixel_t[:, :] image, Py_ssize_t[::1] shape,
                          Py_ssize_t[:, ::1] offsets, int32_t[::1] parent,
                          Py_ssize_t[::1] run_start, Py_ssize_t[::1] run_stop,
                          int32_t[::1] run_label, Py_ssize_t[::1] line_runs,
                          Py_ssize_t[::1] scratch, bint runs_connected) noexcept nogil:
    """First pass over runs along the last axis, for any set of backward offsets.

    A run [s, e) touches a run [s2, e2) of the line at offset (lead, dx) if
    some x in [s, e) has x + dx in [s2, e2), i.e. s + dx < e2 and s2 < e + dx.
    The runs of each neighbour line are walked with a cursor that only moves
    forward as the runs of the current line do.
    """
    cdef Py_ssize_t ndim = shape.shape[0], n_offsets = offsets.shape[0]
    cdef Py_ssize_t lines = image.shape[0], cols = image.shape[1]
    cdef Py_ssize_t byte_step = image.strides[1]
    cdef Py_ssize_t capacity = parent.shape[0] - 1
    cdef Py_ssize_t line, x, start, d, k, j, v, n_valid, n_runs = 0, stride, end, shift
    cdef Py_ssize_t coordinate
    cdef Py_ssize_t most_runs = (cols + 1) // 2 if runs_connected else cols
    cdef const char* pixels
    cdef int32_t* table = &parent[0]
    cdef int32_t count = 0, current, other
    cdef bint inside
    # scratch: per offset the line distance; per valid offset of the current
    # line its dx, cursor, end of runs (-1: the current line) and line; the
    # multi-index of the current line
    cdef Py_ssize_t* line_delta = &scratch[0]
    cdef Py_ssize_t* valid_dx = line_delta + n_offsets
    cdef Py_ssize_t* cursor = valid_dx + n_offsets
    cdef Py_ssize_t* cursor_end = cursor + n_offsets
    cdef Py_ssize_t* line_index = cursor_end + n_offsets
    for k in range(n_offsets):
        line_delta[k] = 0
        stride = 1
        for d in range(ndim - 2, -1, -1):
            line_delta[k] += offsets[k, d] * stride
            stride *= shape[d]
    for d in range(ndim):
        line_index[d] = 0
    for line in range(lines):
        line_runs[line] = n_runs
        if capacity - n_runs < most_runs:
            return -1
        n_valid = 0
        for k in range(n_offsets):
            inside = True
            for d in range(ndim - 1):
                coordinate = line_index[d] + offsets[k, d]
                if coordinate < 0 or coordinate >= shape[d]:
                    inside = False
                    break
            if inside:
                valid_dx[n_valid] = offsets[k, ndim - 1]
                cursor[n_valid] = line_runs[line + line_delta[k]]
                cursor_end[n_valid] = line_runs[line + line_delta[k] + 1] if line_delta[k] else -1
                n_valid += 1
        pixels = <const char*>&image[line, 0]
        x = 0
        while x < cols:
            while x < cols and (<const pixel_t*>(pixels + x * byte_step))[0] == 0:
                x += 1
            if x == cols:
                break
            start = x
            x += 1
            while runs_connected and x < cols and (<const pixel_t*>(pixels + x * byte_step))[0]:
                x += 1
            current = 0
            for v in range(n_valid):
                end = n_runs if cursor_end[v] < 0 else cursor_end[v]
                shift = valid_dx[v]
                j = cursor[v]
                while j < end and run_stop[j] <= start + shift:
                    j += 1
                cursor[v] = j
                while j < end and run_start[j] < x + shift:
                    other = run_label[j]
                    if current == 0:
                        current = other
                    elif other != current:
                        current = merge(table, current, other)
                    j += 1
            if current == 0:
                count += 1
                table[count] = count
                current = count
            run_start[n_runs] = start
            run_stop[n_runs] = x
            run_label[n_runs] = current
            n_runs += 1
        for d in range(ndim - 2, -1, -1):
            line_index[d] += 1
            if line_index[d] < shape[d]:
                break
            line_index[d] = 0
    line_runs[lines] = n_runs
    return flatten(table, count)


def relabel_dense(int32_t[::1] labels, int32_t[::1] table):
    """Renumber nonnegative `labels` in place to 1..n by order of first appearance.

    `table` has max(labels) + 1 entries, filled with -1. Returns n.
    """
    cdef Py_ssize_t i, total = labels.shape[0]
    cdef int32_t value, next_label = 0
    with nogil:
        table[0] = 0
        for i in range(total):
            value = labels[i]
            if table[value] < 0:
                next_label += 1
                table[value] = next_label
            labels[i] = table[value]
    return next_label


# The per-label reductions below walk each row in runs of equal labels and
# keep a run's accumulator in a register: a pixel-by-pixel read-modify-write
# of the table would stall on the store of the previous (same-label) pixel.
# Each run continues from the table's value and folds its pixels in order,
# so results (float rounding, NaN handling) equal a plain sequential fold.

def labeled_count(const label_t[:, :] labels, uint32_t[::1] counts):
    """counts[l] += number of pixels labelled l, for 0 <= l < len(counts)."""
    cdef Py_ssize_t y, x, run_begin, n = counts.shape[0], cols = labels.shape[1]
    cdef label_t current
    with nogil:
        for y in range(labels.shape[0]):
            run_begin = 0
            current = labels[y, 0]
            for x in range(1, cols + 1):
                if x < cols and labels[y, x] == current:
                    continue
                if current >= 0 and current < n:
                    counts[current] += <uint32_t>(x - run_begin)
                if x < cols:
                    current = labels[y, x]
                    run_begin = x


def labeled_sum(const value_t[:, :] values, const label_t[:, :] labels, value_t[::1] sums):
    """sums[l] = sum of values labelled l, in the arithmetic of value_t (wrapping)."""
    cdef Py_ssize_t y, x, n = sums.shape[0], cols = labels.shape[1]
    cdef label_t current, label
    cdef value_t total = 0
    cdef bint valid
    with nogil:
        for x in range(n):
            sums[x] = 0
        for y in range(labels.shape[0]):
            current = labels[y, 0]
            valid = current >= 0 and current < n
            if valid:
                total = sums[current]
            for x in range(cols):
                label = labels[y, x]
                if label != current:
                    if valid:
                        sums[current] = total
                    current = label
                    valid = current >= 0 and current < n
                    if valid:
                        total = sums[current]
                if valid:
                    total = <value_t>(total + values[y, x])
            if valid:
                sums[current] = total


def labeled_max(const value_t[:, :] values, const label_t[:, :] labels, value_t[::1] maxima,
                value_t lowest):
    """maxima[l] = max of values labelled l (`lowest` where l has no pixel)."""
    cdef Py_ssize_t y, x, n = maxima.shape[0], cols = labels.shape[1]
    cdef label_t current, label
    cdef value_t best = lowest, value
    cdef bint valid
    with nogil:
        for x in range(n):
            maxima[x] = lowest
        for y in range(labels.shape[0]):
            current = labels[y, 0]
            valid = current >= 0 and current < n
            if valid:
                best = maxima[current]
            for x in range(cols):
                label = labels[y, x]
                if label != current:
                    if valid:
                        maxima[current] = best
                    current = label
                    valid = current >= 0 and current < n
                    if valid:
                        best = maxima[current]
                if valid:
                    value = values[y, x]
                    # std::max's comparison, so NaN propagates as in mahotas
                    if not (value < best):
                        best = value
            if valid:
                maxima[current] = best


def labeled_min(const value_t[:, :] values, const label_t[:, :] labels, value_t[::1] minima,
                value_t highest):
    """minima[l] = min of values labelled l (`highest` where l has no pixel)."""
    cdef Py_ssize_t y, x, n = minima.shape[0], cols = labels.shape[1]
    cdef label_t current, label
    cdef value_t best = highest, value
    cdef bint valid
    with nogil:
        for x in range(n):
            minima[x] = highest
        for y in range(labels.shape[0]):
            current = labels[y, 0]
            valid = current >= 0 and current < n
            if valid:
                best = minima[current]
            for x in range(cols):
                label = labels[y, x]
                if label != current:
                    if valid:
                        minima[current] = best
                    current = label
                    valid = current >= 0 and current < n
                    if valid:
                        best = minima[current]
                if valid:
                    value = values[y, x]
                    if not (best < value):
                        best = value
            if valid:
                minima[current] = best


def labeled_bbox(const label_t[:, :] labels, const Py_ssize_t[:, ::1] row_coordinates,
                 Py_ssize_t[:, ::1] boxes):
    """Per label l < len(boxes): interleaved (min, max + 1) per axis, zeros if absent.

    `labels` is the image reshaped to (lines, last axis); `row_coordinates`
    gives the leading coordinates of each line. `boxes` starts zeroed.
    """
    cdef Py_ssize_t y, x, d, run_begin, n = boxes.shape[0], cols = labels.shape[1]
    cdef Py_ssize_t lead = row_coordinates.shape[1], last = 2 * lead
    cdef Py_ssize_t coordinate
    cdef label_t current
    cdef uint8_t[::1] seen = bytearray(n)
    with nogil:
        for y in range(labels.shape[0]):
            run_begin = 0
            current = labels[y, 0]
            for x in range(1, cols + 1):
                if x < cols and labels[y, x] == current:
                    continue
                if current >= 0 and current < n:
                    if not seen[current]:
                        seen[current] = 1
                        for d in range(lead):
                            boxes[current, 2 * d] = row_coordinates[y, d]
                            boxes[current, 2 * d + 1] = row_coordinates[y, d] + 1
                        boxes[current, last] = run_begin
                        boxes[current, last + 1] = x
                    else:
                        for d in range(lead):
                            coordinate = row_coordinates[y, d]
                            if coordinate < boxes[current, 2 * d]:
                                boxes[current, 2 * d] = coordinate
                            if coordinate + 1 > boxes[current, 2 * d + 1]:
                                boxes[current, 2 * d + 1] = coordinate + 1
                        if run_begin < boxes[current, last]:
                            boxes[current, last] = run_begin
                        if x > boxes[current, last + 1]:
                            boxes[current, last + 1] = x
                if x < cols:
                    current = labels[y, x]
                    run_begin = x


def nonzero_bbox(const pixel_t[:, :] image, const Py_ssize_t[:, ::1] row_coordinates,
                 Py_ssize_t[::1] box):
    """Interleaved (min, max + 1) per axis of the nonzero pixels; False if none.

    Lines are scanned from both ends, so only the pixels outside the box are
    read (plus the all-zero lines).
    """
    cdef Py_ssize_t y, first, last_nonzero, d, cols = image.shape[1]
    cdef Py_ssize_t lead = row_coordinates.shape[1], last = 2 * lead
    cdef bint found = False
    with nogil:
        for y in range(image.shape[0]):
            first = 0
            while first < cols and image[y, first] == 0:
                first += 1
            if first == cols:
                continue
            last_nonzero = cols - 1
            while image[y, last_nonzero] == 0:
                last_nonzero -= 1
            if not found:
                found = True
                for d in range(lead):
                    box[2 * d] = row_coordinates[y, d]
                    box[2 * d + 1] = row_coordinates[y, d] + 1
                box[last] = first
                box[last + 1] = last_nonzero + 1
                continue
            for d in range(lead):
                if row_coordinates[y, d] < box[2 * d]:
                    box[2 * d] = row_coordinates[y, d]
                if row_coordinates[y, d] + 1 > box[2 * d + 1]:
                    box[2 * d + 1] = row_coordinates[y, d] + 1
            if first < box[last]:
                box[last] = first
            if last_nonzero + 1 > box[last + 1]:
                box[last + 1] = last_nonzero + 1
    return found


def same_labeling(const label_t[::1] first, const label_t[::1] second,
                  int64_t[::1] forward, int64_t[::1] backward):
    """Whether label maps first -> second and back are both functions (mahotas's test).

    Labels are dense, nonnegative and index `forward` / `backward`, which
    start at -1 except entry 0, which is 0 (background maps to background).
    """
    cdef Py_ssize_t i
    cdef label_t a, b
    cdef bint same = True
    with nogil:
        for i in range(first.shape[0]):
            a = first[i]
            b = second[i]
            if forward[a] != b:
                if forward[a] != -1:
                    same = False
                    break
                forward[a] = b
            if backward[b] != a:
                if backward[b] != -1:
                    same = False
                    break
                backward[b] = a
    return same


def zero_labels(const label_t[::1] labels, label_t[::1] out, const uint8_t[::1] remove):
    """out = labels, with 0 where the label l (0 <= l < len(remove)) has remove[l].

    `out` may be `labels` itself; copying and zeroing in one pass saves a pass.
    """
    cdef Py_ssize_t i, n = remove.shape[0]
    cdef label_t label
    with nogil:
        for i in range(labels.shape[0]):
            label = labels[i]
            out[i] = 0 if (label >= 0 and label < n and remove[label]) else label
