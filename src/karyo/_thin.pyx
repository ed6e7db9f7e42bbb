# Kernel behind karyo.thin: mahotas's sequential thinning by hit-or-miss with
# 8 templates, over a list of contour pixels (private: the caller validates
# and frames the image).

import numpy as np

from libc.stdint cimport uint8_t


# The 8 hit-or-miss templates of mahotas's thinning, each as 6 (dy, dx, value)
# triples around a foreground centre; the other 2 neighbours are "don't care".
cdef int TEMPLATE_DY[8][6]
cdef int TEMPLATE_DX[8][6]
cdef bint TEMPLATE_VALUE[8][6]


cdef void _set_template(int index, bint flip, int* delta0, int* delta1) noexcept:
    cdef int j
    for j in range(6):
        TEMPLATE_DY[index][j] = delta0[j]
        TEMPLATE_DX[index][j] = delta1[j]
        TEMPLATE_VALUE[index][j] = (j >= 3) != flip


cdef int EDGE0[6]
cdef int EDGE1[6]
cdef int CORNER0[6]
cdef int CORNER1[6]
cdef int DIAGONAL0[6]
cdef int DIAGONAL1[6]
EDGE0[:] = [-1, -1, -1, 1, 1, 1]
EDGE1[:] = [-1, 0, 1, -1, 0, 1]
CORNER0[:] = [-1, -1, 0, 0, 1, 1]
CORNER1[:] = [-1, 0, -1, 1, 0, 1]
DIAGONAL0[:] = [-1, -1, 0, 0, 1, 1]
DIAGONAL1[:] = [0, 1, 1, -1, -1, 0]
_set_template(0, False, EDGE0, EDGE1)
_set_template(1, False, DIAGONAL0, DIAGONAL1)
_set_template(2, True, EDGE1, EDGE0)
_set_template(3, True, CORNER0, CORNER1)
_set_template(4, True, EDGE0, EDGE1)
_set_template(5, True, DIAGONAL0, DIAGONAL1)
_set_template(6, False, CORNER0, CORNER1)
_set_template(7, False, EDGE1, EDGE0)


def thin(uint8_t[:, ::1] image, Py_ssize_t max_iter):
    """Thin `image` (0/1, with a zero 1-pixel frame) in place.

    One iteration applies the 8 templates in turn: each template is matched
    on every candidate first, then all hits are removed (a parallel step).
    Only foreground pixels touching the background can match (every template
    asks for background neighbours), so the kernel keeps a list of those
    contour pixels and extends it with the neighbours of removed pixels: the
    work per iteration is proportional to the contour, not to the area.
    """
    cdef Py_ssize_t n0 = image.shape[0], n1 = image.shape[1]
    cdef Py_ssize_t n = n0 * n1
    cdef uint8_t* pixels = &image[0, 0]
    cdef Py_ssize_t[8][6] offsets
    cdef Py_ssize_t[8] neighbours = [-n1 - 1, -n1, -n1 + 1, -1, 1, n1 - 1, n1, n1 + 1]
    cdef Py_ssize_t y, x, i, k, p, q, count = 0, n_hits, iteration = 0
    cdef int t, j
    cdef bint changed = True, matches
    cdef uint8_t[::1] listed_view = np.zeros(n, np.uint8)
    cdef uint8_t* listed = &listed_view[0]
    cdef Py_ssize_t[::1] candidates_view = np.empty(n, np.intp)
    cdef Py_ssize_t[::1] hits_view = np.empty(n, np.intp)
    cdef Py_ssize_t* candidates = &candidates_view[0]
    cdef Py_ssize_t* hits = &hits_view[0]
    for t in range(8):
        for j in range(6):
            offsets[t][j] = TEMPLATE_DY[t][j] * n1 + TEMPLATE_DX[t][j]
    with nogil:
        for y in range(1, n0 - 1):
            for x in range(1, n1 - 1):
                p = y * n1 + x
                if pixels[p]:
                    for k in range(8):
                        if not pixels[p + neighbours[k]]:
                            candidates[count] = p
                            listed[p] = 1
                            count += 1
                            break
        while changed and (max_iter < 0 or iteration < max_iter):
            changed = False
            iteration += 1
            for t in range(8):
                n_hits = 0
                for i in range(count):
                    p = candidates[i]
                    matches = pixels[p] != 0
                    if matches:
                        for j in range(6):
                            if (pixels[p + offsets[t][j]] != 0) != TEMPLATE_VALUE[t][j]:
                                matches = False
                                break
                    if matches:
                        hits[n_hits] = p
                        n_hits += 1
                if n_hits == 0:
                    continue
                changed = True
                for i in range(n_hits):
                    pixels[hits[i]] = 0
                # Newly exposed foreground neighbours become candidates.
                for i in range(n_hits):
                    p = hits[i]
                    for k in range(8):
                        q = p + neighbours[k]
                        if pixels[q] and not listed[q]:
                            listed[q] = 1
                            candidates[count] = q
                            count += 1
                # Drop removed pixels from the list.
                k = 0
                for i in range(count):
                    p = candidates[i]
                    if pixels[p]:
                        candidates[k] = p
                        k += 1
                    else:
                        listed[p] = 0
                count = k
