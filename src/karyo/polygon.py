"""Polygons on a pixel grid: lines, filled polygons and convex hulls."""

from __future__ import annotations

import numpy as np

from .internal import as_array

__all__ = ["line", "fill_polygon", "convexhull", "fill_convexhull"]


def _check_canvas(canvas, fname: str) -> np.ndarray:
    if not isinstance(canvas, np.ndarray):
        raise TypeError(f"karyo.polygon.{fname}: `canvas` must be a numpy array, got "
                        f"{type(canvas).__name__}")
    if canvas.ndim != 2:
        raise ValueError(f"karyo.polygon.{fname}: `canvas` has {canvas.ndim} dimensions; "
                         "expected 2-D")
    if not canvas.flags.writeable:
        raise ValueError(f"karyo.polygon.{fname}: `canvas` is read-only")
    return canvas


def line(p0, p1, canvas: np.ndarray, color=1) -> None:
    """Draw the line segment from `p0` to `p1` (inclusive) on `canvas`, in place.

    Parameters
    ----------
    p0, p1 : pair of int
        End points as (y, x).
    canvas : ndarray
        2-D array to draw on (modified).
    color : scalar, optional
        Value written on the line (default 1).

    Returns
    -------
    None

    See Also
    --------
    fill_polygon

    Notes
    -----
    Bresenham's algorithm (Bresenham, "Algorithm for computer control of a
    digital plotter", IBM Systems Journal, 1965), vectorised: after ``k``
    steps along the major axis the minor coordinate has advanced
    ``ceil((k dy - dx/2) / dx)`` times (0 if negative), the closed form of
    the error-accumulator loop, so half-way cases round as in mahotas.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.polygon import line
    >>> canvas = np.zeros((3, 5), int)
    >>> line((0, 0), (2, 4), canvas)
    >>> canvas
    array([[1, 1, 0, 0, 0],
           [0, 0, 1, 1, 0],
           [0, 0, 0, 0, 1]])
    """
    canvas = _check_canvas(canvas, "line")
    y0, x0 = (int(v) for v in p0)
    y1, x1 = (int(v) for v in p1)
    steep = abs(y1 - y0) > abs(x1 - x0)
    if steep:
        x0, y0, x1, y1 = y0, x0, y1, x1
    if x0 > x1:
        x0, x1, y0, y1 = x1, x0, y1, y0
    dx = x1 - x0
    dy = abs(y1 - y0)
    ystep = 1 if y0 < y1 else -1
    steps = np.arange(dx + 1, dtype=np.int64)
    if dx == 0:
        minor_steps = np.zeros(1, np.int64)
    else:
        # The loop's error term dx/2 - k dy + m dx stays >= 0, so the number of
        # advances m after k steps is ceil((k dy - dx/2) / dx), in integers:
        twice_excess = 2 * steps * dy - dx
        minor_steps = np.where(twice_excess > 0, -((-twice_excess) // (2 * dx)), 0)
    xs = x0 + steps
    ys = y0 + ystep * minor_steps
    if steep:
        canvas[xs, ys] = color
    else:
        canvas[ys, xs] = color


def fill_polygon(polygon, canvas: np.ndarray, color=1) -> None:
    """Fill the polygon with vertices `polygon` on `canvas`, in place.

    Parameters
    ----------
    polygon : sequence of (y, x) pairs of int
        Vertices in order (the last is joined to the first).
    canvas : ndarray
        2-D array to paint (modified).
    color : scalar, optional
        Value painted inside (default 1).

    Returns
    -------
    None

    See Also
    --------
    fill_convexhull, line

    Notes
    -----
    Even-odd scan-line filling (Darel Rex Finley's "Efficient polygon fill"
    algorithm): for each row, the crossings of the edges are sorted and the
    spans between successive pairs are painted, end pixels included.
    Crossings are computed for all edges of a row at once.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.polygon import fill_polygon
    >>> canvas = np.zeros((4, 4), int)
    >>> fill_polygon([(0, 0), (0, 2), (2, 2), (2, 0)], canvas)
    >>> canvas
    array([[0, 0, 0, 0],
           [1, 1, 1, 0],
           [1, 1, 1, 0],
           [0, 0, 0, 0]])
    """
    canvas = _check_canvas(canvas, "fill_polygon")
    if not len(polygon):
        return
    try:
        vertices = np.asarray(polygon)
    except ValueError:
        vertices = None
    if vertices is None or vertices.ndim != 2 or vertices.shape[1] != 2:
        raise ValueError("karyo.polygon.fill_polygon: `polygon` must be a sequence of (y, x) "
                         f"pairs, got {polygon!r}")
    min_y = int(vertices[:, 0].min())
    max_y = int(vertices[:, 0].max())
    if max_y < canvas.shape[0]:
        max_y += 1
    ys = vertices[:, 0].astype(np.float64)
    xs = vertices[:, 1].astype(np.float64)
    previous_ys = np.roll(ys, 1)
    previous_xs = np.roll(xs, 1)
    rise = previous_ys - ys
    slope = np.divide(previous_xs - xs, rise, out=np.zeros_like(rise), where=rise != 0)
    for y in range(min_y, max_y):
        crosses = ((ys < y) & (previous_ys >= y)) | ((previous_ys < y) & (ys >= y))
        # A crossing edge is never horizontal (one end is < y, the other >= y).
        nodes = np.sort(xs[crosses] + (y - ys[crosses]) * slope[crosses])
        for start, stop in zip(nodes[::2], nodes[1::2], strict=False):
            canvas[y, int(start):int(stop + 1)] = color


def convexhull(bwimg: np.ndarray) -> np.ndarray:
    """Return the vertices of the convex hull of the foreground of `bwimg`.

    Parameters
    ----------
    bwimg : ndarray
        2-D binary image.

    Returns
    -------
    hull : ndarray of intp, shape (n, 2)
        Hull vertices as (y, x), in mahotas's order: the lower chain from
        the second point on, then the upper chain from the last point back
        to the first. With 3 or fewer foreground pixels, all of them in
        raster order.

    See Also
    --------
    fill_convexhull

    Notes
    -----
    Andrew's monotone chain (Andrew, "Another efficient algorithm for convex
    hulls in two dimensions", Inf. Proc. Letters, 1979); collinear points
    are dropped. Only the first and last foreground pixels of each row can
    be hull vertices, so only those are scanned.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.polygon import convexhull
    >>> image = np.zeros((5, 5), bool)
    >>> image[1:4, 1:4] = True
    >>> convexhull(image).tolist()
    [[1, 3], [3, 3], [3, 1], [1, 1]]
    """
    bwimg = as_array(bwimg, "polygon.convexhull", "bwimg", min_ndim=2, max_ndim=2)
    foreground = bwimg != 0
    row_has = foreground.any(axis=1)
    rows = np.flatnonzero(row_has)
    if rows.size == 0:
        return np.zeros((0, 2), np.intp)
    counts = np.count_nonzero(foreground[rows], axis=1)
    if counts.sum() <= 3:
        return np.argwhere(foreground).astype(np.intp)
    cols = foreground.shape[1]
    first = np.argmax(foreground[rows], axis=1)
    last = cols - 1 - np.argmax(foreground[rows, ::-1], axis=1)
    single = first == last
    candidate_y = np.repeat(rows, np.where(single, 1, 2))
    candidate_x = np.stack([first, last], axis=1).ravel()[np.repeat(~single, 2)
                                                          | np.tile([True, False], rows.size)]
    points = list(zip(candidate_y.tolist(), candidate_x.tolist(), strict=True))
    lower = _half_hull(points)
    upper = _half_hull(points[::-1])
    hull = lower[1:-1] + upper
    return np.array(hull, np.intp).reshape(-1, 2)


def _half_hull(points: list) -> list:
    """One chain of the monotone-chain hull over sorted `points`."""
    chain: list = []
    for y, x in points:
        while len(chain) >= 2:
            (y0, x0), (y1, x1) = chain[-2], chain[-1]
            if (y1 - y0) * (x - x0) - (y - y0) * (x1 - x0) >= 0:
                chain.pop()
            else:
                break
        chain.append((y, x))
    return chain


def fill_convexhull(bwimg: np.ndarray) -> np.ndarray:
    """Return `bwimg` with the convex hull of its foreground filled.

    Parameters
    ----------
    bwimg : ndarray
        2-D binary image (bool, or numbers).

    Returns
    -------
    filled : ndarray
        Same shape and dtype; the hull is set to True (bool input) or 255.

    See Also
    --------
    convexhull, fill_polygon

    Notes
    -----
    ``fill_polygon(convexhull(bwimg))``, plus the foreground itself.

    Examples
    --------
    >>> import numpy as np
    >>> from karyo.polygon import fill_convexhull
    >>> image = np.zeros((4, 4), bool)
    >>> image[0, 0] = image[0, 2] = image[2, 0] = image[2, 2] = True
    >>> fill_convexhull(image).astype(int)
    array([[1, 0, 1, 0],
           [1, 1, 1, 0],
           [1, 1, 1, 0],
           [0, 0, 0, 0]])
    """
    bwimg = as_array(bwimg, "polygon.fill_convexhull", "bwimg", min_ndim=2, max_ndim=2)
    points = convexhull(bwimg)
    canvas = np.zeros_like(bwimg)
    # mahotas paints 255; a narrower dtype (int8) gets its largest value instead.
    ink = 1 if bwimg.dtype == bool else (
        255 if bwimg.dtype.kind == "f" else min(255, int(np.iinfo(bwimg.dtype).max)))
    fill_polygon(points, canvas, ink)
    canvas[bwimg.astype(bool, copy=False)] = ink
    return canvas

