"""Kernels behind karyo.morph (private: the caller validates every argument).

Every kernel takes C-contiguous flat arrays plus the image shape, and walks
the image row by row (a row is a run along the last axis): for one
structuring-element offset, a whole output row meets a whole (shifted) input
row, so the inner loops are contiguous and gcc vectorises them. Borders
follow mahotas: coordinates outside the image are clamped to the nearest
pixel ("nearest" extension).
"""

from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport malloc, realloc, free, calloc
from libc.string cimport memcpy, memset

cdef extern from *:
    """
    static inline int karyo_ctz64(unsigned long long word) { return __builtin_ctzll(word); }
    """
    int karyo_ctz64(unsigned long long word) noexcept nogil

ctypedef fused pixel_t:
    uint8_t
    uint16_t
    uint32_t
    uint64_t
    int8_t
    int16_t
    int32_t
    int64_t
    float
    double

ctypedef fused key_t:
    uint8_t
    uint16_t


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
        status = find_local_extrema(&image[0], &out[0], &shape[0], shape.shape[0], size,
                                    &offsets[0, 0] if offsets.shape[0] else NULL,
                                    offsets.shape[0], is_min)
    if status < 0:
        raise MemoryError()


cdef inline bint neighbour_at(Py_ssize_t index, const Py_ssize_t* shape, Py_ssize_t ndim,
                              const Py_ssize_t* offset, Py_ssize_t* neighbour) noexcept nogil:
    """Flat index of `index + offset` in `neighbour`; False when it falls outside the image."""
    cdef Py_ssize_t d, coord, position = 0, stride = 1
    for d in range(ndim - 1, -1, -1):
        coord = index % shape[d] + offset[d]
        index = index // shape[d]
        if coord < 0 or coord >= shape[d]:
            return False
        position += coord * stride
        stride *= shape[d]
    neighbour[0] = position
    return True


def regmin_max(const pixel_t[::1] image, uint8_t[::1] out, const Py_ssize_t[::1] shape,
               const Py_ssize_t[:, ::1] offsets, bint is_min):
    """Regional extrema: local extrema, then every candidate plateau that touches a
    non-candidate neighbour at least as extreme is erased with one flood (mahotas's order:
    candidates in raster order, neighbours outside the image ignored)."""
    cdef Py_ssize_t ndim = shape.shape[0], n_offsets = offsets.shape[0]
    cdef Py_ssize_t size = image.shape[0]
    cdef Py_ssize_t index, j, neighbour, current, stack_size = 0, capacity = 1024
    cdef Py_ssize_t* stack
    cdef Py_ssize_t* grown
    cdef pixel_t value, other
    cdef bint fake
    cdef int status
    cdef uint64_t word
    if size == 0:
        return
    stack = <Py_ssize_t*>malloc(capacity * sizeof(Py_ssize_t))
    if stack == NULL:
        raise MemoryError()
    with nogil:
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
            for j in range(n_offsets):
                if neighbour_at(index, &shape[0], ndim, &offsets[j, 0], &neighbour):
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
                for j in range(n_offsets):
                    if (neighbour_at(current, &shape[0], ndim, &offsets[j, 0], &neighbour)
                            and out[neighbour]):
                        out[neighbour] = 0
                        if stack_size == capacity:
                            capacity *= 2
                            grown = <Py_ssize_t*>realloc(stack, capacity * sizeof(Py_ssize_t))
                            if grown == NULL:
                                break
                            stack = grown
                        stack[stack_size] = neighbour
                        stack_size += 1
    free(stack)
    if status < 0:
        raise MemoryError()


# ---------------------------------------------------------------- seeded watershed

ctypedef fused index_t:
    # Pixel indices and labels: int32 halves the memory traffic when it fits.
    int32_t
    int64_t


ctypedef fused label_t:
    # Labels of the bucket flood: the narrowest type that holds them keeps the
    # randomly accessed label array in cache.
    uint8_t
    uint16_t
    int32_t
    int64_t


cdef struct BucketState:
    # One FIFO per key: a chain of fixed-size blocks taken from a shared pool.
    Py_ssize_t head_block
    Py_ssize_t head_position
    Py_ssize_t tail_block
    Py_ssize_t tail_position


cdef struct Buckets:
    # A bucket queue whose FIFOs append to contiguous blocks, so pushing and
    # popping stream through memory instead of chasing a per-pixel linked list
    # (that list cost a cache miss per push and per pop). A two-level bitmap
    # of the non-empty buckets finds the lowest one with two
    # count-trailing-zeros.
    uint64_t* words
    uint64_t summary[16]
    Py_ssize_t n_summary
    BucketState* states
    void* entries
    Py_ssize_t* block_next
    Py_ssize_t n_blocks
    Py_ssize_t block_capacity
    Py_ssize_t free_block
    Py_ssize_t block_shift
    bint failed


cdef int buckets_init(Buckets* queue, Py_ssize_t n_buckets, Py_ssize_t block_shift,
                      Py_ssize_t initial_blocks, Py_ssize_t entry_size) noexcept nogil:
    cdef Py_ssize_t key
    memset(queue, 0, sizeof(Buckets))
    queue.n_summary = (n_buckets // 64 + 63) // 64
    queue.block_shift = block_shift
    queue.block_capacity = initial_blocks
    queue.free_block = -1
    queue.words = <uint64_t*>calloc(n_buckets // 64, sizeof(uint64_t))
    queue.states = <BucketState*>malloc(n_buckets * sizeof(BucketState))
    queue.entries = malloc((initial_blocks << block_shift) * entry_size)
    queue.block_next = <Py_ssize_t*>malloc(initial_blocks * sizeof(Py_ssize_t))
    if (queue.words == NULL or queue.states == NULL or queue.entries == NULL
            or queue.block_next == NULL):
        return -1
    for key in range(n_buckets):
        queue.states[key].head_block = -1
        queue.states[key].tail_block = -1
    return 0


cdef void buckets_free(Buckets* queue) noexcept nogil:
    free(queue.words); free(queue.states); free(queue.entries); free(queue.block_next)


cdef Py_ssize_t new_block(Buckets* queue, Py_ssize_t entry_size) noexcept nogil:
    """Index of a free block (grows the pool when needed); -1 if out of memory."""
    cdef Py_ssize_t block = queue.free_block, capacity
    cdef void* entries
    cdef Py_ssize_t* block_next
    if block >= 0:
        queue.free_block = queue.block_next[block]
        return block
    if queue.n_blocks == queue.block_capacity:
        capacity = 2 * queue.block_capacity
        entries = realloc(queue.entries, (capacity << queue.block_shift) * entry_size)
        if entries == NULL:
            return -1
        queue.entries = entries
        block_next = <Py_ssize_t*>realloc(queue.block_next, capacity * sizeof(Py_ssize_t))
        if block_next == NULL:
            return -1
        queue.block_next = block_next
        queue.block_capacity = capacity
    queue.n_blocks += 1
    return queue.n_blocks - 1


cdef inline void bucket_push(Buckets* queue, index_t* unused, Py_ssize_t index,
                             Py_ssize_t key) noexcept nogil:
    # `unused` only selects the entry type.
    cdef BucketState* state = &queue.states[key]
    cdef Py_ssize_t block = state.tail_block, grown
    if block < 0:
        block = new_block(queue, sizeof(index_t))
        if block < 0:
            queue.failed = True
            return
        state.head_block = block
        state.tail_block = block
        state.head_position = 0
        state.tail_position = 0
    elif state.tail_position >> queue.block_shift:
        grown = new_block(queue, sizeof(index_t))
        if grown < 0:
            queue.failed = True
            return
        queue.block_next[block] = grown
        state.tail_block = grown
        state.tail_position = 0
        block = grown
    (<index_t*>queue.entries)[(block << queue.block_shift) + state.tail_position] = <index_t>index
    state.tail_position += 1
    queue.words[key >> 6] |= 1ULL << (key & 63)
    queue.summary[key >> 12] |= 1ULL << ((key >> 6) & 63)


cdef inline Py_ssize_t bucket_pop(Buckets* queue, index_t* unused) noexcept nogil:
    """Remove and return the first pixel of the lowest bucket; -1 when empty."""
    cdef Py_ssize_t word = 0, key, index, block, position
    cdef BucketState* state
    while word < queue.n_summary and queue.summary[word] == 0:
        word += 1
    if word == queue.n_summary:
        return -1
    word = word * 64 + karyo_ctz64(queue.summary[word])
    key = word * 64 + karyo_ctz64(queue.words[word])
    state = &queue.states[key]
    block = state.head_block
    position = state.head_position
    index = (<index_t*>queue.entries)[(block << queue.block_shift) + position]
    position += 1
    if block == state.tail_block and position == state.tail_position:
        # Empty: keep the block for the next push to this key.
        state.head_position = 0
        state.tail_position = 0
        queue.words[word] &= ~(1ULL << (key & 63))
        if queue.words[word] == 0:
            queue.summary[word >> 6] &= ~(1ULL << (word & 63))
    elif position >> queue.block_shift:
        state.head_block = queue.block_next[block]
        state.head_position = 0
        queue.block_next[block] = queue.free_block
        queue.free_block = block
    else:
        state.head_position = position
    return index


def watershed_buckets(const key_t[::1] keys, label_t[::1] labels, index_t[::1] entry_type,
                      uint8_t[::1] lines,
                      const uint8_t[::1] border, const Py_ssize_t[::1] shape,
                      const Py_ssize_t[:, ::1] offsets, const Py_ssize_t[::1] deltas):
    """Seeded watershed for 8/16-bit keys: a bucket queue, FIFO within a bucket.

    `labels` holds the markers on entry (0 = unlabelled) and the regions on exit.
    `entry_type` (empty) selects the queue's index type. `lines` is empty unless separating lines are wanted. `border` flags pixels
    whose neighbourhood may leave the image. labels == 0 means "never queued";
    `status` (kept only for lines) tells queued (1) from done (2).
    """
    cdef Py_ssize_t size = keys.shape[0], ndim = shape.shape[0], n_offsets = offsets.shape[0]
    cdef Py_ssize_t n_buckets = 256 if key_t is uint8_t else 65536
    # Few keys: long blocks; 65536 keys: short ones, as each live key holds one.
    cdef Py_ssize_t block_shift = 10 if key_t is uint8_t else 6
    cdef Py_ssize_t index, j, neighbour
    cdef label_t label
    cdef bint want_lines = lines.shape[0] != 0
    cdef uint8_t* status = NULL
    cdef label_t* label_data
    cdef const key_t* key_data
    cdef const uint8_t* border_data
    cdef const Py_ssize_t* delta_data
    cdef Buckets queue
    cdef int prepared
    if size == 0:
        return
    label_data = &labels[0]
    key_data = &keys[0]
    border_data = &border[0]
    delta_data = &deltas[0] if n_offsets else NULL
    prepared = buckets_init(&queue, n_buckets, block_shift,
                            (size >> block_shift) // 4 + 16, sizeof(index_t))
    if want_lines:
        status = <uint8_t*>calloc(size, 1)
    if prepared < 0 or (want_lines and status == NULL):
        buckets_free(&queue); free(status)
        raise MemoryError()
    with nogil:
        # Marker pixels enter the queue in raster order.
        for index in range(size):
            if label_data[index] != 0:
                bucket_push(&queue, <index_t*>NULL, index, key_data[index])
                if want_lines:
                    status[index] = 1
        while not queue.failed:
            index = bucket_pop(&queue, <index_t*>NULL)
            if index < 0:
                break
            label = label_data[index]
            if want_lines:
                status[index] = 2
            if not want_lines and not border_data[index]:
                # The common case, kept branch-light.
                for j in range(n_offsets):
                    neighbour = index + delta_data[j]
                    if label_data[neighbour] == 0:
                        label_data[neighbour] = label
                        bucket_push(&queue, <index_t*>NULL, neighbour, key_data[neighbour])
                continue
            for j in range(n_offsets):
                if border_data[index]:
                    if not neighbour_at(index, &shape[0], ndim, &offsets[j, 0], &neighbour):
                        continue
                else:
                    neighbour = index + delta_data[j]
                if label_data[neighbour] == 0:
                    label_data[neighbour] = label
                    bucket_push(&queue, <index_t*>NULL, neighbour, key_data[neighbour])
                    if want_lines:
                        status[neighbour] = 1
                elif want_lines and status[neighbour] == 1 and label_data[neighbour] != label:
                    lines[neighbour] = 1
    failed = queue.failed
    buckets_free(&queue); free(status)
    if failed:
        raise MemoryError()


cdef inline bint heap_less(pixel_t value, int64_t order, pixel_t other_value,
                           int64_t other_order) noexcept nogil:
    # Lower value first, then earlier entry; NaN sorts after every number.
    if pixel_t is float or pixel_t is double:
        if value != value:
            return other_value != other_value and order < other_order
        if other_value != other_value:
            return True
    if value < other_value:
        return True
    if other_value < value:
        return False
    return order < other_order


cdef inline void heap_push(pixel_t* heap_values, int64_t* heap_orders, Py_ssize_t* heap_size,
                           pixel_t value, int64_t order) noexcept nogil:
    cdef Py_ssize_t slot = heap_size[0], parent
    heap_size[0] += 1
    while slot > 0:
        parent = (slot - 1) >> 1
        if not heap_less(value, order, heap_values[parent], heap_orders[parent]):
            break
        heap_values[slot] = heap_values[parent]
        heap_orders[slot] = heap_orders[parent]
        slot = parent
    heap_values[slot] = value
    heap_orders[slot] = order


cdef inline int64_t heap_pop(pixel_t* heap_values, int64_t* heap_orders,
                             Py_ssize_t* heap_size) noexcept nogil:
    """Remove the root; return its entry order."""
    cdef int64_t popped = heap_orders[0], moving_order
    cdef Py_ssize_t slot = 0, child, size
    cdef pixel_t moving_value
    heap_size[0] -= 1
    size = heap_size[0]
    moving_value = heap_values[size]
    moving_order = heap_orders[size]
    while True:
        child = 2 * slot + 1
        if child >= size:
            break
        if child + 1 < size and heap_less(heap_values[child + 1], heap_orders[child + 1],
                                          heap_values[child], heap_orders[child]):
            child += 1
        if not heap_less(heap_values[child], heap_orders[child], moving_value, moving_order):
            break
        heap_values[slot] = heap_values[child]
        heap_orders[slot] = heap_orders[child]
        slot = child
    heap_values[slot] = moving_value
    heap_orders[slot] = moving_order
    return popped


def watershed_heap(const pixel_t[::1] surface, int64_t[::1] labels, uint8_t[::1] lines,
                   const uint8_t[::1] border, const Py_ssize_t[::1] shape,
                   const Py_ssize_t[:, ::1] offsets, const Py_ssize_t[::1] deltas):
    """Seeded watershed for any dtype: a binary heap keyed by (value, entry order).

    Entry orders are unique, so the heap stores (value, order) only and the
    pixel of an entry is looked up in `pixel_of_order`.
    """
    cdef Py_ssize_t size = surface.shape[0], ndim = shape.shape[0], n_offsets = offsets.shape[0]
    cdef Py_ssize_t index, j, neighbour, current, heap_size = 0
    cdef int64_t label, order = 0
    cdef bint want_lines = lines.shape[0] != 0
    cdef uint8_t* status = NULL
    cdef uint8_t* line_data = &lines[0] if want_lines else NULL
    cdef int64_t* label_data
    cdef pixel_t* heap_values
    cdef int64_t* heap_orders
    cdef Py_ssize_t* pixel_of_order
    if size == 0:
        return
    label_data = &labels[0]
    heap_values = <pixel_t*>malloc(size * sizeof(pixel_t))
    heap_orders = <int64_t*>malloc(size * sizeof(int64_t))
    pixel_of_order = <Py_ssize_t*>malloc(size * sizeof(Py_ssize_t))
    if want_lines:
        status = <uint8_t*>calloc(size, 1)
    if heap_values == NULL or heap_orders == NULL or pixel_of_order == NULL or (
            want_lines and status == NULL):
        free(heap_values); free(heap_orders); free(pixel_of_order); free(status)
        raise MemoryError()
    with nogil:
        for index in range(size):
            if label_data[index] != 0:
                pixel_of_order[order] = index
                heap_push(heap_values, heap_orders, &heap_size, surface[index], order)
                order += 1
                if want_lines:
                    status[index] = 1
        while heap_size:
            current = pixel_of_order[heap_pop(heap_values, heap_orders, &heap_size)]
            if want_lines:
                status[current] = 2
            label = label_data[current]
            for j in range(n_offsets):
                if border[current]:
                    if not neighbour_at(current, &shape[0], ndim, &offsets[j, 0], &neighbour):
                        continue
                else:
                    neighbour = current + deltas[j]
                if label_data[neighbour] == 0:
                    label_data[neighbour] = label
                    if want_lines:
                        status[neighbour] = 1
                    pixel_of_order[order] = neighbour
                    heap_push(heap_values, heap_orders, &heap_size, surface[neighbour], order)
                    order += 1
                elif want_lines and status[neighbour] == 1 and label_data[neighbour] != label:
                    line_data[neighbour] = 1
    free(heap_values); free(heap_orders); free(pixel_of_order); free(status)


def fill_from_border(const uint8_t[::1] foreground, uint8_t[::1] closed,
                     const Py_ssize_t[::1] shape, const Py_ssize_t[:, ::1] offsets):
    """closed = not (background reachable from the image border through background)."""
    cdef Py_ssize_t size = foreground.shape[0], ndim = shape.shape[0]
    cdef Py_ssize_t n_offsets = offsets.shape[0]
    cdef Py_ssize_t index, rest, d, j, neighbour, current, stack_size = 0
    cdef bint on_border
    cdef Py_ssize_t* stack
    if size == 0:
        return
    stack = <Py_ssize_t*>malloc(size * sizeof(Py_ssize_t))
    if stack == NULL:
        raise MemoryError()
    with nogil:
        # `closed` holds "reached" during the flood and is inverted at the end.
        for index in range(size):
            closed[index] = 0
        for index in range(size):
            if foreground[index]:
                continue
            on_border = False
            rest = index
            for d in range(ndim - 1, -1, -1):
                if rest % shape[d] == 0 or rest % shape[d] == shape[d] - 1:
                    on_border = True
                    break
                rest = rest // shape[d]
            if on_border:
                closed[index] = 1
                stack[stack_size] = index
                stack_size += 1
        while stack_size:
            stack_size -= 1
            current = stack[stack_size]
            for j in range(n_offsets):
                if (neighbour_at(current, &shape[0], ndim, &offsets[j, 0], &neighbour)
                        and not foreground[neighbour] and not closed[neighbour]):
                    closed[neighbour] = 1
                    stack[stack_size] = neighbour
                    stack_size += 1
        for index in range(size):
            closed[index] = not closed[index]
    free(stack)
