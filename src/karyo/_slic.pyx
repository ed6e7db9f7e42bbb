# Kernels behind karyo.segmentation.slic (private: callers validate).
#
# mahotas's SLIC, operation for operation: float32 centroids updated in raster
# order, colour and position distances in 32-bit int arithmetic (mahotas
# truncates both sides to int before squaring, and the square wraps for large
# values), and a final flood that reassigns the pixels cut off from their
# centroid, driven by a binary heap that pushes and pops exactly like
# libstdc++'s std::priority_queue, so equal costs are served in its order.
# Each k-means iteration is split into steps that threads can share (strips
# of rows, ranges of centroids) without changing any result.

from libc.stdint cimport int32_t, uint8_t, uint16_t, uint32_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memset

ctypedef fused channel_t:
    uint8_t
    uint16_t
    float

ctypedef fused colour_t:
    int32_t
    float

cdef enum:
    INT32_MIN = -2147483648

# mahotas's "infinite" distance (a float literal 10e20).
cdef float FAR = <float>10e20


cdef inline int32_t truncate(float value) noexcept nogil:
    # C++ int(float) as x86-64 computes it: toward zero, and INT_MIN for NaN
    # and for values out of range (cvttss2si).
    if value >= -2147483648.0 and value < 2147483648.0:
        return <int32_t>value
    return INT32_MIN


cdef struct HeapItem:
    int32_t y
    int32_t x
    int32_t ci
    int32_t cost


cdef struct Heap:
    HeapItem* items
    Py_ssize_t size
    Py_ssize_t capacity


cdef int heap_push(Heap* heap, HeapItem value) noexcept nogil:
    # std::push_heap with std::less<SlicPoint>, whose `a < b` is a.cost > b.cost:
    # sift up while the parent costs strictly more. Returns -1 when out of memory.
    cdef Py_ssize_t hole, parent
    cdef HeapItem* grown
    if heap.size == heap.capacity:
        grown = <HeapItem*> realloc(heap.items, 2 * heap.capacity * sizeof(HeapItem))
        if grown == NULL:
            return -1
        heap.items = grown
        heap.capacity *= 2
    hole = heap.size
    heap.size += 1
    parent = (hole - 1) // 2
    while hole > 0 and heap.items[parent].cost > value.cost:
        heap.items[hole] = heap.items[parent]
        hole = parent
        parent = (hole - 1) // 2
    heap.items[hole] = value
    return 0


cdef HeapItem heap_pop(Heap* heap) noexcept nogil:
    # std::pop_heap then pop_back: the last item fills a hole moved from the
    # top down to a leaf (the right child unless it costs more than the left),
    # then sifts back up.
    cdef HeapItem top = heap.items[0]
    cdef Py_ssize_t length = heap.size - 1
    cdef HeapItem value = heap.items[length]
    cdef Py_ssize_t hole = 0, child = 0, parent
    heap.size = length
    if length == 0:
        return top
    while child < (length - 1) // 2:
        child = 2 * (child + 1)
        if heap.items[child].cost > heap.items[child - 1].cost:
            child -= 1
        heap.items[hole] = heap.items[child]
        hole = child
    if (length & 1) == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        heap.items[hole] = heap.items[child - 1]
        hole = child - 1
    parent = (hole - 1) // 2
    while hole > 0 and heap.items[parent].cost > value.cost:
        heap.items[hole] = heap.items[parent]
        hole = parent
        parent = (hole - 1) // 2
    heap.items[hole] = value
    return top


cdef inline Py_ssize_t find_root(int32_t* parents, Py_ssize_t i) noexcept nogil:
    # union-find with path halving; only "same set or not" is used
    while parents[i] != i:
        parents[i] = parents[parents[i]]
        i = parents[i]
    return i


def truncated_channels(const channel_t[:, :, ::1] image, int32_t[:, ::1] colour):
    """colour[c, y*cols + x] = int(image[y, x, c]) as C++ truncates a float."""
    cdef Py_ssize_t rows = image.shape[0], cols = image.shape[1]
    cdef Py_ssize_t y, x, pos
    with nogil:
        for y in range(rows):
            for x in range(cols):
                pos = y * cols + x
                colour[0, pos] = truncate(<float>image[y, x, 0])
                colour[1, pos] = truncate(<float>image[y, x, 1])
                colour[2, pos] = truncate(<float>image[y, x, 2])


def distance_weight(float m, int spacer):
    """mahotas's m**2 / S**2, in float32."""
    return <float>(m * m) / <float>(spacer * spacer)


def assign(const colour_t[:, ::1] colour, const float[:, ::1] centroids, float[::1] distance,
           int32_t[::1] assigned, int rows, int cols, int spacer, float m2S2, int row_start,
           int row_stop):
    """One k-means assignment, for the rows [row_start, row_stop) only.

    Every centroid, in order, claims the pixels of its window (2*spacer along
    each axis, bounds computed in float as mahotas does) that it is strictly
    nearer to than any earlier one; a pixel no window reaches keeps its
    previous entry in `assigned`. Strips of rows are independent, so threads
    can share an iteration and still give the same result.

    `colour` holds the truncated channels, planar. As int32, the squares are
    mahotas's wrapping 32-bit ones. As float32, the caller guarantees that
    every sum of squares is below 2**24 (channels within 2364 of each other
    and of 0, spacer <= 1446): float arithmetic is then exact, gives the same
    distances, and is much faster without SSE4's 32-bit multiply.
    """
    cdef Py_ssize_t n_centroids = centroids.shape[0]
    cdef Py_ssize_t k, base
    cdef float rows_f = <float>rows
    cdef float cols_f = <float>cols
    cdef float reach = <float>(2 * spacer)
    cdef float cy_f, cx_f, low, high, d, old, dy2_f, dl_f, da_f, db_f, dx_f, cl_f, ca_f, cb_f
    cdef int y, x, start_y, start_x, end_y, end_x
    cdef int32_t cy, cx, cl, ca, cb, label, previous, mask
    cdef uint32_t dy2, dl, da, db, dx
    cdef const colour_t* channel_l = &colour[0, 0]
    cdef const colour_t* channel_a = &colour[1, 0]
    cdef const colour_t* channel_b = &colour[2, 0]
    cdef float* nearest
    cdef int32_t* labels
    with nogil:
        for base in range(<Py_ssize_t>row_start * cols, <Py_ssize_t>row_stop * cols):
            distance[base] = FAR
        for k in range(n_centroids):
            cy_f = centroids[k, 3]
            cx_f = centroids[k, 4]
            low = cy_f - reach
            high = cy_f + reach
            start_y = <int>(low if low > 0 else <float>0)
            end_y = <int>(high if high < rows_f else rows_f)
            low = cx_f - reach
            high = cx_f + reach
            start_x = <int>(low if low > 0 else <float>0)
            end_x = <int>(high if high < cols_f else cols_f)
            if start_y < row_start:
                start_y = row_start
            if end_y > row_stop:
                end_y = row_stop
            cy = truncate(cy_f)
            cx = truncate(cx_f)
            cl = truncate(centroids[k, 0])
            ca = truncate(centroids[k, 1])
            cb = truncate(centroids[k, 2])
            cl_f = <float>cl
            ca_f = <float>ca
            cb_f = <float>cb
            label = <int32_t>k
            for y in range(start_y, end_y):
                dy2 = <uint32_t>(y - cy) * <uint32_t>(y - cy)
                dy2_f = <float>dy2
                base = <Py_ssize_t>y * cols
                nearest = &distance[base]
                labels = &assigned[base]
                # branch-free (a mask, not a conditional load), so the compiler
                # vectorises it; the strict `<` keeps the earlier centroid on
                # ties, as mahotas's does
                for x in range(start_x, end_x):
                    if colour_t is float:
                        dl_f = channel_l[base + x] - cl_f
                        da_f = channel_a[base + x] - ca_f
                        db_f = channel_b[base + x] - cb_f
                        dx_f = <float>(x - cx)
                        d = (dl_f * dl_f + da_f * da_f + db_f * db_f) + (dy2_f + dx_f * dx_f) * m2S2
                    else:
                        dl = <uint32_t>channel_l[base + x] - <uint32_t>cl
                        da = <uint32_t>channel_a[base + x] - <uint32_t>ca
                        db = <uint32_t>channel_b[base + x] - <uint32_t>cb
                        dx = <uint32_t>(x - cx)
                        d = (<float><int32_t>(dl * dl + da * da + db * db)
                             + <float><int32_t>(dy2 + dx * dx) * m2S2)
                    old = nearest[x]
                    previous = labels[x]
                    mask = -<int32_t>(d < old)
                    nearest[x] = d if d < old else old
                    labels[x] = (label & mask) | (previous & ~mask)


def copy_if_changed(const int32_t[::1] assigned, int32_t[::1] labels):
    """Copy `assigned` into `labels` and return True, or return False if they are equal."""
    cdef Py_ssize_t pos, n = labels.shape[0]
    cdef bint changed = False
    with nogil:
        for pos in range(n):
            if labels[pos] != assigned[pos]:
                changed = True
                break
        if changed:
            for pos in range(pos, n):
                labels[pos] = assigned[pos]
    return changed


def move_centroids(const channel_t[:, :, ::1] image, const int32_t[::1] labels,
                   float[:, ::1] centroids, int32_t[::1] counts, int first, int stop):
    """Move the centroids first..stop-1 to the mean colour and position of their pixels.

    The sums run in float32 in raster order, as mahotas's; a centroid with
    no pixel goes to (0, 0) with colour 0. Disjoint ranges of centroids can
    be moved by different threads.
    """
    cdef Py_ssize_t rows = image.shape[0], cols = image.shape[1]
    cdef Py_ssize_t y, x, k, label
    cdef int32_t run
    cdef bint mine
    cdef float count, row_f, sum_l, sum_a, sum_b, sum_y, sum_x
    with nogil:
        for k in range(first, stop):
            centroids[k, 0] = 0
            centroids[k, 1] = 0
            centroids[k, 2] = 0
            centroids[k, 3] = 0
            centroids[k, 4] = 0
            counts[k] = 0
        # The running sums of a run of equal labels stay in registers (loaded
        # at its start, stored at its end): the same additions in the same
        # order, without a store and reload per pixel.
        for y in range(rows):
            row_f = <float>y
            k = -1
            mine = False
            run = 0
            for x in range(cols):
                label = labels[y * cols + x]
                if label != k:
                    if mine:
                        centroids[k, 0] = sum_l
                        centroids[k, 1] = sum_a
                        centroids[k, 2] = sum_b
                        centroids[k, 3] = sum_y
                        centroids[k, 4] = sum_x
                        counts[k] += run
                    k = label
                    mine = first <= k < stop
                    run = 0
                    if mine:
                        sum_l = centroids[k, 0]
                        sum_a = centroids[k, 1]
                        sum_b = centroids[k, 2]
                        sum_y = centroids[k, 3]
                        sum_x = centroids[k, 4]
                if mine:
                    run += 1
                    sum_l = sum_l + <float>image[y, x, 0]
                    sum_a = sum_a + <float>image[y, x, 1]
                    sum_b = sum_b + <float>image[y, x, 2]
                    sum_y = sum_y + row_f
                    sum_x = sum_x + <float>x
            if mine:
                centroids[k, 0] = sum_l
                centroids[k, 1] = sum_a
                centroids[k, 2] = sum_b
                centroids[k, 3] = sum_y
                centroids[k, 4] = sum_x
                counts[k] += run
        for k in range(first, stop):
            if counts[k]:
                count = <float>counts[k]
                centroids[k, 0] /= count
                centroids[k, 1] /= count
                centroids[k, 2] /= count
                centroids[k, 3] /= count
                centroids[k, 4] /= count


def enforce_connectivity(int32_t[:, ::1] labels, const float[:, ::1] centroids):
    """Give pixels cut off from their centroid to the first superpixel that reaches them.

    A pixel is kept when it is 4-connected, through its own label, to the
    pixel under its centroid (coordinates truncated). Then every centroid
    grows from that pixel, cheapest first (squared distance to the
    centroid), over unclaimed pixels and its own kept ones; a pixel that is
    not kept takes the label of the first growth to pop it. Finally labels
    become 1-based.
    """
    cdef Py_ssize_t rows = labels.shape[0], cols = labels.shape[1], n = rows * cols
    cdef Py_ssize_t n_centroids = centroids.shape[0]
    cdef Py_ssize_t i, j, k, pos, y, x, ny, nx, nb
    cdef int32_t cy, cx
    cdef int32_t* out = &labels[0, 0]
    cdef int32_t* parents = <int32_t*> malloc(n * sizeof(int32_t))
    cdef uint8_t* connected = <uint8_t*> malloc(n)
    cdef uint8_t* seen = <uint8_t*> malloc(n)
    cdef Heap heap
    cdef HeapItem item, pushed
    cdef int failed = 0
    cdef Py_ssize_t[4] dys
    cdef Py_ssize_t[4] dxs
    # mahotas's neighbour order: right, left, down, up
    dys[0] = 0
    dxs[0] = 1
    dys[1] = 0
    dxs[1] = -1
    dys[2] = 1
    dxs[2] = 0
    dys[3] = -1
    dxs[3] = 0
    heap.size = 0
    heap.capacity = n_centroids + n // 4 + 16
    heap.items = <HeapItem*> malloc(heap.capacity * sizeof(HeapItem))
    if parents == NULL or connected == NULL or seen == NULL or heap.items == NULL:
        free(parents)
        free(connected)
        free(seen)
        free(heap.items)
        raise MemoryError()
    with nogil:
        for pos in range(n):
            parents[pos] = <int32_t>pos
        for y in range(rows):
            for x in range(cols):
                pos = y * cols + x
                if x + 1 < cols and out[pos] == out[pos + 1]:
                    i = find_root(parents, pos)
                    j = find_root(parents, pos + 1)
                    if i != j:
                        parents[i] = <int32_t>j
                if y + 1 < rows and out[pos] == out[pos + cols]:
                    i = find_root(parents, pos)
                    j = find_root(parents, pos + cols)
                    if i != j:
                        parents[i] = <int32_t>j
        for pos in range(n):
            k = out[pos]
            if k < 0:
                # unreachable when the caller's checks hold (every pixel is
                # within reach of a seed); a guard against reading out of bounds
                connected[pos] = 0
                continue
            j = <Py_ssize_t>truncate(centroids[k, 3]) * cols + truncate(centroids[k, 4])
            connected[pos] = find_root(parents, pos) == find_root(parents, j)

        memset(seen, 0, n)
        for k in range(n_centroids):
            pushed.y = truncate(centroids[k, 3])
            pushed.x = truncate(centroids[k, 4])
            pushed.ci = <int32_t>k
            pushed.cost = 0
            if heap_push(&heap, pushed) != 0:
                failed = 1
                break
        while heap.size > 0 and not failed:
            item = heap_pop(&heap)
            pos = <Py_ssize_t>item.y * cols + item.x
            if seen[pos]:
                continue
            seen[pos] = 1
            if not connected[pos]:
                out[pos] = item.ci
            cy = truncate(centroids[item.ci, 3])
            cx = truncate(centroids[item.ci, 4])
            for nb in range(4):
                ny = item.y + dys[nb]
                nx = item.x + dxs[nb]
                if ny < 0 or ny >= rows or nx < 0 or nx >= cols:
                    continue
                j = ny * cols + nx
                if not seen[j] and (not connected[j] or out[j] == item.ci):
                    pushed.y = <int32_t>ny
                    pushed.x = <int32_t>nx
                    pushed.ci = item.ci
                    # mahotas's int cost, wrapping as its 32-bit squares do
                    pushed.cost = <int32_t>(<uint32_t>(ny - cy) * <uint32_t>(ny - cy)
                                            + <uint32_t>(nx - cx) * <uint32_t>(nx - cx))
                    if heap_push(&heap, pushed) != 0:
                        failed = 1
                        break
        if not failed:
            for pos in range(n):
                out[pos] += 1
    free(parents)
    free(connected)
    free(seen)
    free(heap.items)
    if failed:
        raise MemoryError()
