"""Seeded watershed kernels behind karyo.morph.cwatershed (private: the caller validates).

Priority flooding with mahotas's rules: seeds enter in raster order, a popped
pixel labels its unlabelled neighbours, ties pop first-in first-out. 8/16-bit
keys use a bucket queue; other dtypes a binary heap keyed by (value, order).

`flood_buckets` and `flood_heap` take arrays padded by the neighbourhood's
reach, so no pixel tests a border; the `*_bordered` kernels are their
fallbacks for what padding cannot serve (labels or images beyond 32 bits,
padding that would dwarf the image).
"""

from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport malloc, free, calloc
from libc.string cimport memcpy, memset

from karyo._neighbours cimport neighbour_at

cdef extern from *:
    """
    static inline int karyo_ctz64(unsigned long long word) { return __builtin_ctzll(word); }
    """
    int karyo_ctz64(unsigned long long word) noexcept nogil

cdef extern from *:
    """
    static inline void karyo_prefetch(const void* address) { __builtin_prefetch(address); }
    """
    void karyo_prefetch(const void* address) noexcept nogil

cdef enum:
    PREFETCH_AHEAD = 4  # queue entries: enough to hide a miss, measured 2..16

ctypedef fused pixel_t:
    # Reliefs for the heap: wider than 16 bits, with too many distinct values
    # for a bucket queue of their ranks.
    uint32_t
    uint64_t
    int32_t
    int64_t
    float
    double

ctypedef fused key_t:
    uint8_t
    uint16_t


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


cdef struct Ring:
    # One bucket's FIFO: a circular buffer whose capacity doubles when full.
    void* entries
    Py_ssize_t mask
    Py_ssize_t head
    Py_ssize_t tail


cdef struct RingQueue:
    # Bucket queue of rings. `lowest` is a lower bound on the lowest non-empty
    # key, so a pop usually reads one ring; the bitmaps find the next key
    # when that ring runs dry.
    Ring* rings
    uint64_t* words
    uint64_t summary[16]
    Py_ssize_t n_summary
    Py_ssize_t n_buckets
    Py_ssize_t lowest
    Py_ssize_t initial_capacity
    bint failed


cdef int rings_init(RingQueue* queue, Py_ssize_t n_buckets,
                    Py_ssize_t initial_capacity) noexcept nogil:
    cdef Py_ssize_t key
    memset(queue, 0, sizeof(RingQueue))
    queue.n_summary = (n_buckets // 64 + 63) // 64
    queue.initial_capacity = initial_capacity
    queue.lowest = n_buckets
    queue.n_buckets = n_buckets
    queue.words = <uint64_t*>calloc(n_buckets // 64, sizeof(uint64_t))
    queue.rings = <Ring*>calloc(n_buckets, sizeof(Ring))
    if queue.words == NULL or queue.rings == NULL:
        return -1
    for key in range(n_buckets):
        queue.rings[key].mask = -1  # no storage yet: the first push allocates
    return 0


cdef void rings_free(RingQueue* queue, Py_ssize_t n_buckets) noexcept nogil:
    cdef Py_ssize_t key
    if queue.rings != NULL:
        for key in range(n_buckets):
            free(queue.rings[key].entries)
    free(queue.rings); free(queue.words)


cdef int ring_grow(RingQueue* queue, Ring* ring, Py_ssize_t entry_size) noexcept nogil:
    """Double a full ring (allocate an empty one); -1 if out of memory."""
    cdef Py_ssize_t capacity = ring.mask + 1
    cdef Py_ssize_t grown = 2 * capacity if capacity else queue.initial_capacity
    cdef Py_ssize_t start = ring.head & ring.mask
    cdef char* entries = <char*>malloc(grown * entry_size)
    if entries == NULL:
        queue.failed = True
        return -1
    if capacity:
        # Unwrap: the oldest entry goes first.
        memcpy(entries, <char*>ring.entries + start * entry_size, (capacity - start) * entry_size)
        memcpy(entries + (capacity - start) * entry_size, ring.entries, start * entry_size)
    free(ring.entries)
    ring.entries = entries
    ring.mask = grown - 1
    ring.tail = ring.tail - ring.head
    ring.head = 0
    return 0


cdef inline void ring_mark(RingQueue* queue, Py_ssize_t key) noexcept nogil:
    # Only a ring that was empty needs its key marked: the bitmaps and the
    # bound `lowest` already cover every non-empty one.
    queue.words[key >> 6] |= 1ULL << (key & 63)
    queue.summary[key >> 12] |= 1ULL << ((key >> 6) & 63)
    if key < queue.lowest:
        queue.lowest = key


cdef void ring_push_grown(RingQueue* queue, index_t* unused, Py_ssize_t index,
                          Py_ssize_t key) noexcept nogil:
    # ring_push into a full ring (or one without storage yet), kept out of
    # line so that the common push stays small.
    cdef Ring* ring = &queue.rings[key]
    cdef Py_ssize_t count = ring.tail - ring.head
    if ring_grow(queue, ring, sizeof(index_t)) < 0:
        return
    (<index_t*>ring.entries)[ring.tail & ring.mask] = <index_t>index
    ring.tail += 1
    if count == 0:
        ring_mark(queue, key)


cdef inline void ring_push(RingQueue* queue, index_t* unused, Py_ssize_t index,
                           Py_ssize_t key) noexcept nogil:
    cdef Ring* ring = &queue.rings[key]
    cdef Py_ssize_t count = ring.tail - ring.head
    if count > ring.mask:
        ring_push_grown(queue, unused, index, key)
        return
    (<index_t*>ring.entries)[ring.tail & ring.mask] = <index_t>index
    ring.tail += 1
    if count == 0:
        ring_mark(queue, key)


cdef inline Py_ssize_t ring_pop(RingQueue* queue, index_t* unused) noexcept nogil:
    """Remove and return the first pixel of the lowest bucket; -1 when empty."""
    cdef Py_ssize_t word, key = queue.lowest, index
    cdef Ring* ring
    if key >= queue.n_buckets or queue.rings[key].head == queue.rings[key].tail:
        word = 0
        while word < queue.n_summary and queue.summary[word] == 0:
            word += 1
        if word == queue.n_summary:
            return -1
        word = word * 64 + karyo_ctz64(queue.summary[word])
        key = word * 64 + karyo_ctz64(queue.words[word])
        queue.lowest = key
    ring = &queue.rings[key]
    index = (<index_t*>ring.entries)[ring.head & ring.mask]
    ring.head += 1
    if ring.head == ring.tail:
        queue.words[key >> 6] &= ~(1ULL << (key & 63))
        if queue.words[key >> 6] == 0:
            queue.summary[key >> 12] &= ~(1ULL << ((key >> 6) & 63))
    return index


def flood_buckets_bordered(const key_t[::1] keys, label_t[::1] labels,
                           index_t[::1] entry_type, uint8_t[::1] lines,
                           const uint8_t[::1] border, const Py_ssize_t[::1] shape,
                           const Py_ssize_t[:, ::1] offsets, const Py_ssize_t[::1] deltas):
    """Seeded watershed for 8/16-bit keys, testing borders: the fallback of `flood_buckets`.

    `labels` holds the markers on entry (0 = unlabelled) and the regions on
    exit. `entry_type` (empty) selects the queue's index type. `lines` is
    empty unless separating lines are wanted. `border` flags pixels whose
    neighbourhood may leave the image. labels == 0 means "never queued";
    `status` (kept only for lines) tells queued (1) from done (2).
    """
    cdef Py_ssize_t size = keys.shape[0], ndim = shape.shape[0], n_offsets = offsets.shape[0]
    cdef Py_ssize_t n_buckets = 256 if key_t is uint8_t else 65536
    cdef Py_ssize_t index, j, neighbour
    cdef label_t label
    cdef bint want_lines = lines.shape[0] != 0
    cdef uint8_t* status = NULL
    cdef label_t* label_data
    cdef const key_t* key_data
    cdef const uint8_t* border_data
    cdef const Py_ssize_t* delta_data
    cdef RingQueue queue
    cdef int prepared
    if size == 0:
        return
    label_data = &labels[0]
    key_data = &keys[0]
    border_data = &border[0]
    delta_data = &deltas[0] if n_offsets else NULL
    prepared = rings_init(&queue, n_buckets, 256 if key_t is uint8_t else 16)
    if want_lines:
        status = <uint8_t*>calloc(size, 1)
    if prepared < 0 or (want_lines and status == NULL):
        rings_free(&queue, n_buckets); free(status)
        raise MemoryError()
    with nogil:
        # Marker pixels enter the queue in raster order.
        for index in range(size):
            if label_data[index] != 0:
                ring_push(&queue, <index_t*>NULL, index, key_data[index])
                if want_lines:
                    status[index] = 1
        while not queue.failed:
            index = ring_pop(&queue, <index_t*>NULL)
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
                        ring_push(&queue, <index_t*>NULL, neighbour, key_data[neighbour])
                continue
            for j in range(n_offsets):
                if border_data[index]:
                    if not neighbour_at(index, &shape[0], ndim, &offsets[j, 0], &neighbour):
                        continue
                else:
                    neighbour = index + delta_data[j]
                if label_data[neighbour] == 0:
                    label_data[neighbour] = label
                    ring_push(&queue, <index_t*>NULL, neighbour, key_data[neighbour])
                    if want_lines:
                        status[neighbour] = 1
                elif want_lines and status[neighbour] == 1 and label_data[neighbour] != label:
                    lines[neighbour] = 1
    failed = queue.failed
    rings_free(&queue, n_buckets); free(status)
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


def flood_heap_bordered(const pixel_t[::1] surface, int64_t[::1] labels, uint8_t[::1] lines,
                        const uint8_t[::1] border, const Py_ssize_t[::1] shape,
                        const Py_ssize_t[:, ::1] offsets, const Py_ssize_t[::1] deltas):
    """Seeded watershed for any dtype, testing borders: the fallback of `flood_heap`.

    A binary heap keyed by (value, entry order). Entry orders are unique, so
    the heap stores (value, order) only and the pixel of an entry is looked up
    in `pixel_of_order`.
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


# ------------------------------------------------- flooding a padded image (no border tests)

cdef inline Py_ssize_t first_interior_of_row(Py_ssize_t row, const Py_ssize_t* padded_shape,
                                             const Py_ssize_t* reach,
                                             Py_ssize_t ndim) noexcept nogil:
    """Padded flat index of the first interior pixel of interior row `row` (raster order)."""
    cdef Py_ssize_t d, position = reach[ndim - 1], stride = padded_shape[ndim - 1], inner
    for d in range(ndim - 2, -1, -1):
        inner = padded_shape[d] - 2 * reach[d]
        position += (row % inner + reach[d]) * stride
        row //= inner
        stride *= padded_shape[d]
    return position


ctypedef fused narrow_label_t:
    # Labels that fit the low 32 bits of a queue entry.
    uint8_t
    uint16_t
    int32_t


cdef inline int64_t pack_entry(Py_ssize_t index, narrow_label_t label) noexcept nogil:
    # The entry carries its pixel's label, so a pop need not read the label
    # array (a likely cache miss). index < 2**31 keeps every entry >= 0.
    return (<int64_t>index << 32) | <uint32_t>label


cdef inline void visit(RingQueue* queue, narrow_label_t* label_data, const key_t* key_data,
                       Py_ssize_t neighbour, narrow_label_t label) noexcept nogil:
    """Label and queue `neighbour` unless it is labelled already (or padding)."""
    if label_data[neighbour] == 0:
        label_data[neighbour] = label
        ring_push(queue, <int64_t*>NULL, pack_entry(neighbour, label), key_data[neighbour])


def flood_buckets(const key_t[::1] keys, narrow_label_t[::1] labels, uint8_t[::1] lines,
                  const Py_ssize_t[::1] padded_shape, const Py_ssize_t[::1] reach,
                  const Py_ssize_t[::1] deltas):
    """Seeded watershed for 8/16-bit keys on arrays padded by `reach` on every side.

    `keys`, `labels` (and `lines` when not empty) cover the padded image, of
    fewer than 2**31 pixels. The padding of `labels` is nonzero, so a
    neighbour in it looks already labelled and no pixel needs a border test.
    Seeds are the nonzero interior labels, queued in raster order.
    """
    cdef Py_ssize_t size = keys.shape[0], ndim = padded_shape.shape[0], n_deltas = deltas.shape[0]
    cdef Py_ssize_t n_buckets = 256 if key_t is uint8_t else 65536
    cdef Py_ssize_t index, j, neighbour, row, n_rows = 1, row_length, start, entry, ahead
    cdef Py_ssize_t first_delta, last_delta
    cdef narrow_label_t label
    cdef bint want_lines = lines.shape[0] != 0
    cdef uint8_t* status = NULL
    cdef uint8_t* line_data = &lines[0] if want_lines else NULL
    cdef narrow_label_t* label_data
    cdef const key_t* key_data
    cdef const Py_ssize_t* delta_data
    cdef RingQueue queue
    cdef Ring* ring
    cdef int prepared
    if size == 0 or n_deltas == 0:
        return
    for j in range(ndim - 1):
        n_rows *= padded_shape[j] - 2 * reach[j]
    row_length = padded_shape[ndim - 1] - 2 * reach[ndim - 1]
    label_data = &labels[0]
    key_data = &keys[0]
    delta_data = &deltas[0]
    first_delta = deltas[0]
    last_delta = deltas[n_deltas - 1]
    prepared = rings_init(&queue, n_buckets, 256 if key_t is uint8_t else 16)
    if want_lines:
        status = <uint8_t*>calloc(size, 1)
    if prepared < 0 or (want_lines and status == NULL):
        rings_free(&queue, n_buckets); free(status)
        raise MemoryError()
    with nogil:
        for row in range(n_rows):
            start = first_interior_of_row(row, &padded_shape[0], &reach[0], ndim)
            for index in range(start, start + row_length):
                if label_data[index] != 0:
                    ring_push(&queue, <int64_t*>NULL, pack_entry(index, label_data[index]),
                              key_data[index])
                    if want_lines:
                        status[index] = 1
        while not queue.failed:
            entry = ring_pop(&queue, <int64_t*>NULL)
            if entry < 0:
                break
            index = entry >> 32
            label = <narrow_label_t><uint32_t>entry
            # Pops stream through the lowest ring: fetch the neighbourhood of
            # the entry PREFETCH_AHEAD places later while this one is handled.
            ring = &queue.rings[queue.lowest]
            if ring.tail - ring.head > PREFETCH_AHEAD:
                ahead = (<int64_t*>ring.entries)[(ring.head + PREFETCH_AHEAD) & ring.mask] >> 32
                karyo_prefetch(&label_data[ahead + first_delta])
                karyo_prefetch(&label_data[ahead + last_delta])
                karyo_prefetch(&key_data[ahead + first_delta])
                karyo_prefetch(&key_data[ahead + last_delta])
            if not want_lines:
                if n_deltas == 4:
                    # The 2-D cross, unrolled (measured 8% faster).
                    visit(&queue, label_data, key_data, index + delta_data[0], label)
                    visit(&queue, label_data, key_data, index + delta_data[1], label)
                    visit(&queue, label_data, key_data, index + delta_data[2], label)
                    visit(&queue, label_data, key_data, index + delta_data[3], label)
                    continue
                for j in range(n_deltas):
                    visit(&queue, label_data, key_data, index + delta_data[j], label)
                continue
            status[index] = 2
            for j in range(n_deltas):
                neighbour = index + delta_data[j]
                if label_data[neighbour] == 0:
                    label_data[neighbour] = label
                    ring_push(&queue, <int64_t*>NULL, pack_entry(neighbour, label),
                              key_data[neighbour])
                    status[neighbour] = 1
                elif status[neighbour] == 1 and label_data[neighbour] != label:
                    line_data[neighbour] = 1
    failed = queue.failed
    rings_free(&queue, n_buckets); free(status)
    if failed:
        raise MemoryError()


def flood_heap(const pixel_t[::1] surface, narrow_label_t[::1] labels, uint8_t[::1] lines,
               const Py_ssize_t[::1] padded_shape, const Py_ssize_t[::1] reach,
               const Py_ssize_t[::1] deltas):
    """Seeded watershed for any relief on arrays padded as for `flood_buckets`.

    A binary heap keyed by (value, entry order); an entry packs its order
    (high 32 bits, so packed entries compare as orders do) with its pixel.
    """
    cdef Py_ssize_t size = surface.shape[0], ndim = padded_shape.shape[0]
    cdef Py_ssize_t n_deltas = deltas.shape[0]
    cdef Py_ssize_t index, j, neighbour, row, n_rows = 1, row_length, start
    cdef Py_ssize_t slot, child, heap_size = 0
    cdef int64_t order = 0, moving_packed
    cdef pixel_t moving_value
    cdef narrow_label_t label
    cdef bint want_lines = lines.shape[0] != 0
    cdef uint8_t* status = NULL
    cdef uint8_t* line_data = &lines[0] if want_lines else NULL
    cdef narrow_label_t* label_data
    cdef const pixel_t* surface_data
    cdef const Py_ssize_t* delta_data
    cdef pixel_t* heap_values
    cdef int64_t* heap_packed
    if size == 0 or n_deltas == 0:
        return
    for j in range(ndim - 1):
        n_rows *= padded_shape[j] - 2 * reach[j]
    row_length = padded_shape[ndim - 1] - 2 * reach[ndim - 1]
    label_data = &labels[0]
    surface_data = &surface[0]
    delta_data = &deltas[0]
    heap_values = <pixel_t*>malloc(size * sizeof(pixel_t))
    heap_packed = <int64_t*>malloc(size * sizeof(int64_t))
    if want_lines:
        status = <uint8_t*>calloc(size, 1)
    if heap_values == NULL or heap_packed == NULL or (want_lines and status == NULL):
        free(heap_values); free(heap_packed); free(status)
        raise MemoryError()
    with nogil:
        for row in range(n_rows):
            start = first_interior_of_row(row, &padded_shape[0], &reach[0], ndim)
            for index in range(start, start + row_length):
                if label_data[index] != 0:
                    heap_push(heap_values, heap_packed, &heap_size,
                                     surface_data[index], (order << 32) | index)
                    order += 1
                    if want_lines:
                        status[index] = 1
        while heap_size:
            # Pop the root, sifting the last entry down.
            index = heap_packed[0] & <int64_t>0xffffffff
            heap_size -= 1
            moving_value = heap_values[heap_size]
            moving_packed = heap_packed[heap_size]
            slot = 0
            while True:
                child = 2 * slot + 1
                if child >= heap_size:
                    break
                if child + 1 < heap_size and heap_less(
                        heap_values[child + 1], heap_packed[child + 1],
                        heap_values[child], heap_packed[child]):
                    child += 1
                if not heap_less(heap_values[child], heap_packed[child],
                                 moving_value, moving_packed):
                    break
                heap_values[slot] = heap_values[child]
                heap_packed[slot] = heap_packed[child]
                slot = child
            heap_values[slot] = moving_value
            heap_packed[slot] = moving_packed
            label = label_data[index]
            if want_lines:
                status[index] = 2
            for j in range(n_deltas):
                neighbour = index + delta_data[j]
                if label_data[neighbour] == 0:
                    label_data[neighbour] = label
                    if want_lines:
                        status[neighbour] = 1
                    heap_push(heap_values, heap_packed, &heap_size,
                                     surface_data[neighbour], (order << 32) | neighbour)
                    order += 1
                elif want_lines and status[neighbour] == 1 and label_data[neighbour] != label:
                    line_data[neighbour] = 1
    free(heap_values); free(heap_packed); free(status)
