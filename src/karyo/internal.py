"""Helpers shared by every public function: argument checks and the ``out=`` rule.

Kernels trust their caller; these helpers are where the caller earns that
trust. Each raises ``ValueError`` or ``TypeError`` with a message that names
the function, the argument and what was expected.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = [
    "as_array",
    "as_axis",
    "as_choice",
    "as_flag",
    "as_int",
    "as_lines",
    "as_real",
    "as_structuring_element",
    "available_cores",
    "check_dtype",
    "count_in_blocks",
    "get_output",
    "in_threads",
    "kernel_view",
    "line_coordinates",
    "neighbour_offsets",
    "odd_sized",
    "per_axis",
    "pixel_view",
    "strips",
    "INTEGER_KINDS",
    "get_threads",
    "set_threads",
    "threads",
    "PERIMETER_CODE_VALUES",
]

INTEGER_KINDS = "bui"
_SUPPORTED_KINDS = "buif"

# Kernels count in uint32, as mahotas does; an image with more pixels than
# this is counted a block at a time into uint64 (see count_in_blocks).
UINT32_COUNT_LIMIT = 2**32 - 1
COUNT_BLOCK_PIXELS = 2**31

# Benkrid & Crookes's perimeter estimator: a border pixel's code is
# 1 + 2 * (its 4-neighbours on the border) + 10 * (its diagonal neighbours on
# the border); this table gives each code's length. Used by
# labeled.perimeter and regionprops (scikit-image uses the same table).
PERIMETER_CODE_VALUES = np.zeros(50)
PERIMETER_CODE_VALUES[[5, 7, 15, 17, 25, 27]] = 1.0
PERIMETER_CODE_VALUES[[21, 33]] = np.sqrt(2.0)
PERIMETER_CODE_VALUES[[13, 23]] = (1.0 + np.sqrt(2.0)) / 2.0
PERIMETER_CODE_VALUES.flags.writeable = False


def pixel_blocks(shape: tuple[int, int], max_pixels: int):
    """Yield (rows, columns) slices that tile a 2-D `shape`, each of at most `max_pixels`.

    Pure index arithmetic (Python ints), so it is exact for any size.
    """
    rows, columns = shape
    block_columns = max(1, min(columns, max_pixels))
    block_rows = max(1, max_pixels // block_columns)
    for row in range(0, rows, block_rows):
        for column in range(0, columns, block_columns):
            yield (slice(row, min(row + block_rows, rows)),
                   slice(column, min(column + block_columns, columns)))


def count_in_blocks(count_kernel, pixels: np.ndarray, n_bins: int) -> np.ndarray:
    """Counts of a 1-D or 2-D `pixels` by ``count_kernel(block, uint32_counts)``.

    uint32 counts (mahotas's type) when no count can reach 2**32; otherwise
    the kernel counts blocks of at most COUNT_BLOCK_PIXELS pixels, each into
    uint32, summed into uint64: no count wraps, whatever the image size.
    """
    if pixels.size <= UINT32_COUNT_LIMIT:
        if pixels.ndim == 2 or not _pays_for_threads(pixels.size):
            counts = np.zeros(n_bins, np.uint32)
            count_kernel(pixels, counts)
            return counts
        # strips counted apart by threads, then added
        chunks = strips(pixels.size)
        partial = np.zeros((len(chunks), n_bins), np.uint32)
        in_threads(lambda k, start, stop: count_kernel(pixels[start:stop], partial[k]),
                   [(k, start, stop) for k, (start, stop) in enumerate(chunks)], pixels.size)
        return partial.sum(axis=0, dtype=np.uint32)
    total = np.zeros(n_bins, np.uint64)
    block_counts = np.empty(n_bins, np.uint32)
    lines = pixels.reshape(1, -1) if pixels.ndim == 1 else pixels
    for rows, columns in pixel_blocks(lines.shape, COUNT_BLOCK_PIXELS):
        block_counts.fill(0)
        block = lines[rows, columns]
        count_kernel(block.reshape(-1) if pixels.ndim == 1 else block, block_counts)
        total += block_counts
    return total


def as_array(array, fname: str, name: str = "array", *, min_ndim: int = 1, max_ndim=None,
             kinds: str = _SUPPORTED_KINDS) -> np.ndarray:
    """Return `array` as an ndarray in native byte order, checked for ndim and kind.

    Non-contiguous views pass through untouched (kernels take strided
    memoryviews where they can); only a non-native byte order is converted,
    since compiled loops read native values.
    """
    array = np.asanyarray(array)
    if isinstance(array, np.ma.MaskedArray):
        raise TypeError(f"karyo.{fname}: `{name}` is a masked array; pass a plain ndarray "
                        "(e.g. array.filled(0))")
    if array.dtype.kind not in kinds:
        raise TypeError(f"karyo.{fname}: `{name}` has dtype {array.dtype}; expected "
                        f"{_describe_kinds(kinds)}")
    if array.ndim < min_ndim or (max_ndim is not None and array.ndim > max_ndim):
        expected = (f"{min_ndim}-D" if max_ndim == min_ndim
                    else f"at least {min_ndim}-D" if max_ndim is None
                    else f"{min_ndim}-D to {max_ndim}-D")
        raise ValueError(f"karyo.{fname}: `{name}` has {array.ndim} dimensions (shape "
                         f"{array.shape}); expected {expected}")
    if not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    return array


def _describe_kinds(kinds: str) -> str:
    names = {"b": "bool", "u": "unsigned integer", "i": "signed integer", "f": "floating point"}
    return " or ".join(names[k] for k in kinds) + " values"


def check_dtype(array: np.ndarray, kinds: str, fname: str, name: str = "array") -> None:
    """Raise TypeError unless ``array.dtype.kind`` is one of `kinds` ('b', 'u', 'i', 'f')."""
    if array.dtype.kind not in kinds:
        raise TypeError(f"karyo.{fname}: `{name}` has dtype {array.dtype}; expected "
                        f"{_describe_kinds(kinds)}")


def get_output(array: np.ndarray, out, fname: str, dtype=None) -> np.ndarray:
    """Implement the ``out=`` convention shared by every function (as in mahotas).

    If `out` is None, return a new C-contiguous array shaped like `array` of
    `dtype` (default ``array.dtype``). Otherwise check that `out` has exactly
    that shape and dtype and is C-contiguous, and return it: the check is
    strict because ``out=`` is a performance feature, never a conversion.
    """
    dtype = array.dtype if dtype is None else np.dtype(dtype)
    if out is None:
        return np.empty(array.shape, dtype)
    if not isinstance(out, np.ndarray):
        raise TypeError(f"karyo.{fname}: `out` must be a numpy array, got {type(out).__name__}")
    if out.dtype != dtype:
        raise ValueError(f"karyo.{fname}: `out` has dtype {out.dtype}; expected {dtype}")
    if out.shape != array.shape:
        raise ValueError(f"karyo.{fname}: `out` has shape {out.shape}; expected {array.shape}")
    if not out.flags.c_contiguous:
        raise ValueError(f"karyo.{fname}: `out` must be C-contiguous")
    if not out.flags.writeable:
        raise ValueError(f"karyo.{fname}: `out` is read-only")
    return out


# The compiled kernels read pixels as these dtypes; others are viewed or converted.
_PIXEL_VIEWS = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def pixel_view(image: np.ndarray) -> np.ndarray:
    """`image` as a dtype the kernels read, with the same zero/nonzero pixels; no copy.

    Integers and bools are viewed as the unsigned integer of their size;
    float32 and float64 pass unchanged; other floats become 0/1 uint8.
    """
    if image.dtype.kind == "f":
        if image.dtype in (np.float32, np.float64):
            return image
        return (image != 0).view(np.uint8)
    return image.view(_PIXEL_VIEWS[image.dtype.itemsize])


def as_lines(array: np.ndarray) -> np.ndarray:
    """A 2-D (lines, last axis) view of a non-empty array (a copy only if reshaping needs it)."""
    if array.ndim == 2:
        return array
    if array.ndim < 2:
        return array.reshape(1, -1)
    return array.reshape(-1, array.shape[-1])


def line_coordinates(shape: tuple) -> np.ndarray:
    """The leading coordinates of each line along the last axis, in raster order.

    Row ``i`` of the result is where line ``i`` of ``as_lines(array)`` starts,
    for an array of `shape`; ``(1, 0)`` for a 1-D shape.
    """
    lead_shape = shape[:-1]
    if not lead_shape:
        return np.zeros((1, 0), np.intp)
    return np.ascontiguousarray(
        np.indices(lead_shape, dtype=np.intp).reshape(len(lead_shape), -1).T)


# --- Scalars: one home for "a number, not a bool", ranges and names -----------
#
# A bool is an int to Python (True == 1), so `isinstance(True, int)` holds and
# `True in (0, 1)` too; a flag passed where a number belongs is refused here.

def _is_bool(value) -> bool:
    return isinstance(value, (bool, np.bool_))


def _range_words(low, high, low_open: bool) -> str:
    if high is None:
        return f"greater than {low}" if low_open else f"at least {low}"
    if low is None:
        return f"at most {high}"
    return f"between {low} and {high}"


def as_int(value, fname: str, name: str, *, low=None, high=None) -> int:
    """`value` as a Python int: an integer (numpy's too), not a bool, within ``[low, high]``.

    Parameters
    ----------
    value : object
        The argument as given.
    fname, name : str
        The function (``"morph.disk"``) and the argument (``"radius"``), for
        the message.
    low, high : int, optional
        Inclusive bounds.

    Returns
    -------
    int

    Raises
    ------
    TypeError
        `value` is a bool, a float or not a number.
    ValueError
        `value` is out of range.

    Examples
    --------
    >>> as_int(np.int16(3), "morph.disk", "radius", low=0)
    3
    >>> as_int(True, "morph.disk", "radius")
    Traceback (most recent call last):
    ...
    TypeError: karyo.morph.disk: `radius` must be an integer, got True
    """
    if _is_bool(value) or not isinstance(value, numbers.Integral):
        raise TypeError(f"karyo.{fname}: `{name}` must be an integer, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"karyo.{fname}: `{name}` must be {_range_words(low, high, False)}, "
                         f"got {value}")
    return int(value)


def as_real(value, fname: str, name: str, *, low=None, high=None, low_open: bool = False,
            finite: bool = False) -> float:
    """`value` as a Python float: a real number (numpy's too), not a bool, within bounds.

    Parameters
    ----------
    value : object
        The argument as given.
    fname, name : str
        The function and the argument, for the message.
    low, high : float, optional
        Bounds; `high` is inclusive, `low` too unless `low_open`.
    low_open : bool, optional
        Require ``value > low`` rather than ``value >= low``.
    finite : bool, optional
        Refuse NaN and infinities.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        `value` is a bool or not a real number.
    ValueError
        `value` is out of range, or not finite when `finite`.

    Examples
    --------
    >>> as_real(2, "edge.dog", "sigma1", low=0, low_open=True)
    2.0
    >>> as_real(0.0, "edge.dog", "sigma1", low=0, low_open=True)
    Traceback (most recent call last):
    ...
    ValueError: karyo.edge.dog: `sigma1` must be greater than 0, got 0.0
    """
    if _is_bool(value) or not isinstance(value, numbers.Real):
        raise TypeError(f"karyo.{fname}: `{name}` must be a number, got {value!r}")
    value = float(value)
    if finite and not math.isfinite(value):
        raise ValueError(f"karyo.{fname}: `{name}` must be a finite number, got {value}")
    below = low is not None and (value <= low if low_open else value < low)
    above = high is not None and value > high
    bounded_nan = math.isnan(value) and (low is not None or high is not None)
    if below or above or bounded_nan:
        raise ValueError(f"karyo.{fname}: `{name}` must be "
                         f"{_range_words(low, high, low_open)}, got {value}")
    return value


def as_axis(axis, ndim: int, fname: str, name: str = "axis") -> int:
    """`axis` of an array of `ndim` dimensions, negative ones counted from the end.

    Examples
    --------
    >>> as_axis(-1, 3, "convolve.gaussian_filter1d")
    2
    >>> as_axis(3, 3, "convolve.gaussian_filter1d")
    Traceback (most recent call last):
    ...
    ValueError: karyo.convolve.gaussian_filter1d: `axis` is 3, out of range for an array of 3 \
dimensions
    """
    axis = as_int(axis, fname, name)
    if not -ndim <= axis < ndim:
        raise ValueError(f"karyo.{fname}: `{name}` is {axis}, out of range for an array of "
                         f"{ndim} dimensions")
    return axis % ndim


def as_choice(value, choices, fname: str, name: str, what: str | None = None):
    """`value` if it is one of `choices`, else a ValueError listing them.

    A bool is never a choice, even where ``True == 1`` would match, and an
    array is not one either (it compares element by element).

    Parameters
    ----------
    value : object
        The argument as given.
    choices : sequence
        The accepted values (names of modes, orders...).
    fname, name : str
        The function and the argument, for the message.
    what : str, optional
        How to say the choices (``"0, 1, 2 or 3 (the derivative)"``); by
        default they are listed.

    Returns
    -------
    object
        `value`, unchanged.

    Raises
    ------
    ValueError
        `value` is not one of `choices`.

    Examples
    --------
    >>> as_choice("wrap", ("nearest", "wrap"), "convolve.gaussian_filter", "mode")
    'wrap'
    >>> as_choice("edge", ("nearest", "wrap"), "convolve.gaussian_filter", "mode")
    Traceback (most recent call last):
    ...
    ValueError: karyo.convolve.gaussian_filter: `mode` must be one of 'nearest', 'wrap'; \
got 'edge'
    """
    try:
        found = not (_is_bool(value) or isinstance(value, np.ndarray)) and value in choices
    except TypeError:
        found = False
    if not found:
        words = what or "one of " + ", ".join(repr(choice) for choice in choices)
        raise ValueError(f"karyo.{fname}: `{name}` must be {words}; got {value!r}")
    return value


def as_flag(value, fname: str, name: str) -> bool:
    """`value` as a bool: a bool or an integer (0 or not), as mahotas's flags take.

    Examples
    --------
    >>> as_flag(np.int8(1), "haar", "inline"), as_flag(False, "haar", "inline")
    (True, False)
    >>> as_flag("no", "haar", "inline")
    Traceback (most recent call last):
    ...
    TypeError: karyo.haar: `inline` must be a bool, got str
    """
    if not isinstance(value, (bool, np.bool_, numbers.Integral)):
        raise TypeError(f"karyo.{fname}: `{name}` must be a bool, got {type(value).__name__}")
    return bool(value)


def per_axis(value, ndim: int, fname: str, name: str) -> list:
    """`value` once per axis: a single value repeated `ndim` times, or `ndim` values.

    Parameters
    ----------
    value : scalar, sequence or ndarray
        One value for every axis, or one per axis (an array is read flat).
    ndim : int
        The number of axes.
    fname, name : str
        The function and the argument, for the message.

    Returns
    -------
    list
        `ndim` values, unchecked (check each with :func:`as_real` or
        :func:`as_int`).

    Raises
    ------
    ValueError
        A sequence whose length is not `ndim`.

    Examples
    --------
    >>> per_axis(1.5, 3, "convolve.gaussian_filter", "sigma")
    [1.5, 1.5, 1.5]
    >>> per_axis([1, 2], 3, "convolve.gaussian_filter", "sigma")
    Traceback (most recent call last):
    ...
    ValueError: karyo.convolve.gaussian_filter: `sigma` has 2 values; expected one or 3 (one \
per axis of the array)
    """
    if not isinstance(value, Sequence | np.ndarray) or isinstance(value, str):
        return [value] * ndim
    values = list(np.asarray(value).ravel()) if isinstance(value, np.ndarray) else list(value)
    if len(values) != ndim:
        raise ValueError(f"karyo.{fname}: `{name}` has {len(values)} values; expected one or "
                         f"{ndim} (one per axis of the array)")
    return values


def kernel_view(array: np.ndarray) -> np.ndarray:
    """`array` in a dtype the kernels read: a bool array viewed as uint8, others unchanged.

    No copy; the layout is the caller's (kernels that need a flat buffer take
    ``kernel_view(np.ascontiguousarray(array)).reshape(-1)``).

    Examples
    --------
    >>> kernel_view(np.array([True, False])).dtype
    dtype('uint8')
    """
    return array.view(np.uint8) if array.dtype == np.bool_ else array


# (ndim, neighbour count) -> city-block radius, the "count" meaning of an integer Bc
_CONNECTIVITY_BY_COUNT = {(1, 2): 1, (2, 4): 1, (2, 8): 2, (3, 6): 1, (3, 18): 2, (3, 26): 3}


def as_structuring_element(Bc, ndim: int, fname: str, dtype=bool) -> np.ndarray:
    """Return the structuring element `Bc` as a C-contiguous array of `dtype`.

    Accepts what mahotas's ``get_structuring_elem`` accepts:

    - None: the cross (city-block radius 1), e.g. 4-connectivity in 2-D;
    - an int: a neighbour count (4 or 8 in 2-D; 6, 18 or 26 in 3-D) or a
      city-block radius (``Bc[p] = sum(|p - centre|) <= Bc``);
    - an array with `ndim` dimensions of any (non-zero) size; its centre is
      at ``shape // 2``, as in mahotas, so an even size reaches one pixel
      further back than forward (a 2x2 element covers the pixel, the one
      above, the one to the left and the one above-left).
    """
    if Bc is None:
        Bc = 1
    if isinstance(Bc, (bool, np.bool_)):
        raise TypeError(f"karyo.{fname}: `Bc` must be None, an int or an array, got a bool")
    if isinstance(Bc, (int, np.integer)):
        radius = _CONNECTIVITY_BY_COUNT.get((ndim, int(Bc)), int(Bc))
        if radius < 1:
            raise ValueError(f"karyo.{fname}: `Bc` as an int must be a positive connectivity "
                             f"(e.g. 4 or 8 in 2-D), got {Bc}")
        radius = min(radius, ndim)
        grid = np.indices((3,) * ndim) - 1
        return np.ascontiguousarray(np.abs(grid).sum(0) <= radius, dtype=dtype)
    element = np.asarray(Bc)
    if element.dtype.kind not in _SUPPORTED_KINDS:
        raise TypeError(f"karyo.{fname}: `Bc` has dtype {element.dtype}; expected a numeric "
                        "or boolean array")
    if element.ndim != ndim:
        raise ValueError(f"karyo.{fname}: `Bc` has {element.ndim} dimensions; expected {ndim} "
                         "(the same as the image)")
    if element.size == 0:
        raise ValueError(f"karyo.{fname}: `Bc` has shape {element.shape}; expected at least "
                         "one element along every axis")
    return np.ascontiguousarray(element, dtype=dtype)


def odd_sized(Bc: np.ndarray) -> np.ndarray:
    """`Bc` with a zero slice appended to each even-sized axis.

    The centre (``shape // 2``) and so every neighbour offset stay the same,
    and the element can then be mirrored about its centre with ``[::-1]``.
    """
    padding = [(0, 1 - size % 2) for size in Bc.shape]
    return np.pad(Bc, padding) if any(after for _, after in padding) else Bc


def neighbour_offsets(Bc: np.ndarray, include_centre: bool = False) -> np.ndarray:
    """Coordinates, relative to the centre, of the nonzero elements of `Bc`.

    Returns an int64 array of shape (k, ndim), in raster order of `Bc`.
    """
    centre = np.array(Bc.shape) // 2
    coords = np.argwhere(Bc != 0) - centre
    if not include_centre:
        coords = coords[np.any(coords != 0, axis=1)]
    return np.ascontiguousarray(coords, dtype=np.int64)


def available_cores() -> int:
    """The CPUs this process may run on (its affinity mask, where the OS tells)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


# Kernels release the GIL, so threads share an image's strips between cores.
# A process that shares the machine with others (a batch's pool worker) lowers it.
THREADS = min(4, available_cores())
# Below this many pixels, starting threads costs more than it saves.
MIN_PIXELS_PER_THREAD = 1 << 16
_executor: ThreadPoolExecutor | None = None


def _forget_executor_after_fork() -> None:
    # A forked child inherits the pool object but not its threads: work
    # submitted to it would wait forever. The child makes its own when needed.
    global _executor
    _executor = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_executor_after_fork)


def strips(n: int, parts: int = 0) -> list[tuple[int, int]]:
    """[start, stop) bounds that cut range(n) into `parts` (default THREADS) near-equal strips."""
    parts = parts or THREADS
    bounds = [n * k // parts for k in range(parts + 1)]
    return [(bounds[k], bounds[k + 1]) for k in range(parts) if bounds[k] < bounds[k + 1]]


def _pays_for_threads(size: int) -> bool:
    return THREADS > 1 and size >= MIN_PIXELS_PER_THREAD * 2


def in_threads(function, chunks: list, size: int) -> None:
    """Run ``function(*chunk)`` for each chunk, in parallel when `size` pixels pay for it."""
    global _executor
    if len(chunks) <= 1 or not _pays_for_threads(size):
        for chunk in chunks:
            function(*chunk)
        return
    if _executor is None or _executor._max_workers < THREADS:
        if _executor is not None:
            _executor.shutdown(wait=False)
        _executor = ThreadPoolExecutor(THREADS, thread_name_prefix="karyo")
    for future in [_executor.submit(function, *chunk) for chunk in chunks]:
        future.result()


def get_threads() -> int:
    """How many threads karyo's kernels use (see :func:`set_threads`).

    Returns
    -------
    n : int

    Examples
    --------
    >>> import karyo
    >>> karyo.get_threads() >= 1
    True
    """
    return THREADS


def set_threads(n: int | None) -> int:
    """Set how many threads karyo's kernels share an image between.

    Parameters
    ----------
    n : int or None
        A positive number of threads; 1 keeps every kernel on the calling
        thread. None restores the default: the cores this process may run
        on, at most 4.

    Returns
    -------
    previous : int
        The number before the call, to restore it later.

    Raises
    ------
    TypeError
        If `n` is not an int (or None).
    ValueError
        If `n` is below 1.

    See Also
    --------
    threads : the same for a ``with`` block.

    Notes
    -----
    The setting is for the whole process (it replaces writing to
    ``karyo.internal.THREADS``). Results do not depend on it: each kernel
    gives the same bits with any number of threads.

    Examples
    --------
    >>> import karyo
    >>> previous = karyo.set_threads(1)
    >>> karyo.get_threads()
    1
    >>> _ = karyo.set_threads(previous)
    """
    global THREADS
    if n is None:
        n = min(4, available_cores())
    elif isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"karyo.set_threads: `n` must be a positive int or None, got {n!r}")
    elif n < 1:
        raise ValueError(f"karyo.set_threads: `n` must be at least 1, got {n}")
    previous, THREADS = THREADS, int(n)
    return previous


@contextlib.contextmanager
def threads(n: int | None) -> Iterator[int]:
    """Use `n` threads in karyo's kernels inside a ``with`` block.

    Parameters
    ----------
    n : int or None
        As for :func:`set_threads`.

    Yields
    ------
    n : int
        The number of threads in effect inside the block.

    See Also
    --------
    set_threads : the same setting, outside a block.

    Notes
    -----
    The previous number is restored when the block ends, also on an
    exception. Like :func:`set_threads`, the setting is for the whole
    process, so blocks in concurrent Python threads should agree on `n`.

    Examples
    --------
    >>> import numpy as np
    >>> import karyo
    >>> with karyo.threads(1):
    ...     smooth = karyo.gaussian_filter(np.zeros((64, 64)), 2.0)
    >>> smooth.shape
    (64, 64)
    """
    previous = set_threads(n)
    try:
        yield THREADS
    finally:
        set_threads(previous)
