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
