# Inline helpers shared by the kernels (cimported; nothing here is a Python module).


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


cdef inline bint is_interior(Py_ssize_t index, const Py_ssize_t* shape, Py_ssize_t ndim,
                             Py_ssize_t reach) noexcept nogil:
    """Whether every pixel within `reach` of `index` along each axis lies inside the image.

    There a neighbour is `index` plus its flat offset (:func:`flat_offsets`),
    without the divisions of :func:`neighbour_at`.
    """
    cdef Py_ssize_t d, coord
    for d in range(ndim - 1, -1, -1):
        coord = index % shape[d]
        index = index // shape[d]
        if coord < reach or coord >= shape[d] - reach:
            return False
    return True


cdef inline Py_ssize_t flat_offsets(const Py_ssize_t* shape, Py_ssize_t ndim,
                                    const Py_ssize_t* offsets, Py_ssize_t n_offsets,
                                    Py_ssize_t* flat) noexcept nogil:
    """Each offset (rows of `ndim` numbers) as a flat index step in `flat`; returns the reach.

    The reach is the largest absolute offset along any axis.
    """
    cdef Py_ssize_t j, d, stride, step, reach = 0
    for j in range(n_offsets):
        stride = 1
        step = 0
        for d in range(ndim - 1, -1, -1):
            step += offsets[j * ndim + d] * stride
            stride *= shape[d]
            if offsets[j * ndim + d] > reach:
                reach = offsets[j * ndim + d]
            elif -offsets[j * ndim + d] > reach:
                reach = -offsets[j * ndim + d]
        flat[j] = step
    return reach
