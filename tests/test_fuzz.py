"""Fuzzing every public library function: odd shapes, dtypes, values and layouts.

Each case either gives the documented result or raises ValueError/TypeError
whose message names the offending argument in backticks. Correct results are
proven against oracles in each module's own tests; here the oracle is the
function itself on a canonical input: the same values in a C-contiguous,
native-endian, writeable array must give exactly the same answer, whatever the
layout (Fortran order, strided view, big-endian, read-only) the values come in.
A crash of the interpreter fails the whole run; `make sanitize` runs this file
under AddressSanitizer and UndefinedBehaviorSanitizer to catch what does not
crash.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import karyo
import karyo.features.surf  # a submodule, as in mahotas: not imported by karyo.features

ALL_DTYPES = [np.bool_, np.uint8, np.uint16, np.uint32, np.uint64, np.int8, np.int16,
              np.int32, np.int64, np.float32, np.float64]
INTEGER_DTYPES = [d for d in ALL_DTYPES if np.dtype(d).kind in "ui"]
NOT_FLOAT = [d for d in ALL_DTYPES if np.dtype(d).kind in "bui"]  # as mahotas: open, close...
UNSUPPORTED = [np.complex128, np.dtype("U1"), np.dtype("datetime64[s]"), np.object_]


def _markers_for(surface: np.ndarray) -> np.ndarray:
    """A few seeds at fixed positions: deterministic in the values of `surface`."""
    markers = np.zeros(surface.shape, np.int32)
    flat = markers.reshape(-1)
    if flat.size:
        flat[:: max(1, flat.size // 3)] = np.arange(1, 1 + len(flat[:: max(1, flat.size // 3)]))
    return markers


def _as_labels(array: np.ndarray) -> np.ndarray:
    if array.dtype.kind not in "buif":  # let the function itself refuse it
        return array
    return np.abs(np.nan_to_num(array.astype(np.float64) % 7)).astype(np.int32)


@dataclass
class Spec:
    """How to call one public function on a fuzzed array `a`."""

    name: str
    call: Callable[[Callable, np.ndarray], object]
    dtypes: list  # dtypes for which any value of any shape must succeed
    ndims: tuple = (1, 2, 3)
    takes_Bc: bool = False
    takes_out: bool = False
    allow_empty: bool = True
    may_refuse: bool = False  # some valid-dtype inputs get a documented ValueError


    @property
    def function(self) -> Callable:
        target = karyo
        for part in self.name.split("."):
            target = getattr(target, part)
        return target


SPECS = [
    Spec("gaussian_filter", lambda f, a: f(a, 1.5), ALL_DTYPES),
    Spec("otsu", lambda f, a: f(a), [np.uint8, np.uint16], ndims=(2,), allow_empty=False),
    Spec("rc", lambda f, a: f(a), [np.uint8, np.uint16], ndims=(2,), allow_empty=False),
    Spec("fullhistogram", lambda f, a: f(a), [np.uint8, np.uint16, np.bool_], allow_empty=False),
    Spec("label", lambda f, a: f(a), ALL_DTYPES, takes_Bc=True, takes_out=True),
    Spec("regmax", lambda f, a: f(a), ALL_DTYPES, takes_Bc=True, takes_out=True),
    Spec("regmin", lambda f, a: f(a), ALL_DTYPES, takes_Bc=True, takes_out=True),
    Spec("locmax", lambda f, a: f(a), ALL_DTYPES, takes_Bc=True, takes_out=True),
    Spec("locmin", lambda f, a: f(a), ALL_DTYPES, takes_Bc=True, takes_out=True),
    Spec("dilate", lambda f, a: f(a), ALL_DTYPES, takes_Bc=True, takes_out=True),
    Spec("erode", lambda f, a: f(a), ALL_DTYPES, takes_Bc=True, takes_out=True),
    Spec("distance", lambda f, a: f(a), ALL_DTYPES),
    Spec("cwatershed", lambda f, a: f(a, _markers_for(a)), ALL_DTYPES, takes_Bc=True),
    Spec("segmentation.gvoronoi", lambda f, a: f(_as_labels(a)), ALL_DTYPES),
    Spec("stretch", lambda f, a: f(a), ALL_DTYPES),
    Spec("labeled.labeled_size", lambda f, a: f(_as_labels(a)), ALL_DTYPES),
    Spec("labeled.labeled_sum", lambda f, a: f(a, _as_labels(a)), ALL_DTYPES),
    Spec("labeled.relabel", lambda f, a: f(_as_labels(a)), ALL_DTYPES),
    Spec("labeled.remove_bordering", lambda f, a: f(_as_labels(a)), ALL_DTYPES),
    Spec("labeled.borders", lambda f, a: f(_as_labels(a)), ALL_DTYPES),
    Spec("labeled.bbox", lambda f, a: f(_as_labels(a)), ALL_DTYPES),
    Spec("labeled.labeled_max", lambda f, a: f(a, _as_labels(a)), ALL_DTYPES),
    Spec("labeled.labeled_min", lambda f, a: f(a, _as_labels(a)), ALL_DTYPES),
    Spec("labeled.bwperim", lambda f, a: f(a), ALL_DTYPES, ndims=(2, 3)),
    Spec("labeled.border", lambda f, a: f(_as_labels(a), 1, 2), ALL_DTYPES),
    Spec("labeled.filter_labeled", lambda f, a: f(_as_labels(a), remove_bordering=True,
                                                   min_size=2), ALL_DTYPES),
    Spec("open", lambda f, a: f(a), NOT_FLOAT, takes_Bc=True, takes_out=True),
    Spec("close", lambda f, a: f(a), NOT_FLOAT, takes_Bc=True, takes_out=True),
    Spec("morph.tophat_open", lambda f, a: f(a), NOT_FLOAT, takes_Bc=True),
    Spec("morph.tophat_close", lambda f, a: f(a), NOT_FLOAT, takes_Bc=True),
    Spec("cdilate", lambda f, a: f(a, a), NOT_FLOAT),
    Spec("cerode", lambda f, a: f(a, a), NOT_FLOAT),
    Spec("close_holes", lambda f, a: f(a), ALL_DTYPES, ndims=(2,), takes_Bc=True),
    Spec("majority_filter", lambda f, a: f(a), ALL_DTYPES, ndims=(2,)),
    Spec("thin", lambda f, a: f(a), ALL_DTYPES, ndims=(2,)),
    Spec("center_of_mass", lambda f, a: f(a), ALL_DTYPES, allow_empty=False),
    Spec("euler", lambda f, a: f((a != 0).astype(a.dtype)), ALL_DTYPES, ndims=(2,)),
    Spec("bbox", lambda f, a: f(a), ALL_DTYPES),
    Spec("croptobbox", lambda f, a: f(a), ALL_DTYPES),
    Spec("gaussian_filter1d", lambda f, a: f(a, 1.5), ALL_DTYPES),
    Spec("soft_threshold", lambda f, a: f(a, 2), ALL_DTYPES),
    Spec("sobel", lambda f, a: f(a, just_filter=True), ALL_DTYPES, ndims=(2,)),
    Spec("edge.dog", lambda f, a: f(a), ALL_DTYPES, ndims=(2,)),
    Spec("as_rgb", lambda f, a: f(a, None, a), ALL_DTYPES, ndims=(2,)),
    Spec("stretch_rgb", lambda f, a: f(a), ALL_DTYPES, ndims=(2, 3)),
    # 1-pixel images have no pixel pairs: refused by name
    Spec("features.haralick", lambda f, a: f(a % 64 if a.dtype.kind in "ui" else a),
         INTEGER_DTYPES, ndims=(2, 3), allow_empty=False, may_refuse=True),
    Spec("features.zernike_moments", lambda f, a: f(a, 4), ALL_DTYPES, ndims=(2,)),
    Spec("polygon.fill_convexhull", lambda f, a: f(a), ALL_DTYPES, ndims=(2,)),
    Spec("convolve", lambda f, a: f(a, np.ones((3,) * a.ndim)), ALL_DTYPES),
    Spec("convolve1d", lambda f, a: f(a, [1, -2, 1], axis=0), ALL_DTYPES),
    Spec("mean_filter", lambda f, a: f(a, np.ones((3,) * a.ndim)), ALL_DTYPES),
    Spec("median_filter", lambda f, a: f(a), ALL_DTYPES, takes_Bc=True, takes_out=True),
    Spec("rank_filter", lambda f, a: f(a, np.ones((3,) * a.ndim), 2), ALL_DTYPES),
    Spec("template_match", lambda f, a: f(a, np.ones((2,) * a.ndim)), ALL_DTYPES),
    Spec("find", lambda f, a: f(a, a[:2, :2] if a.size else np.zeros((1, 1), a.dtype)),
         ALL_DTYPES, ndims=(2,)),
    Spec("laplacian_2D", lambda f, a: f(a), ALL_DTYPES, ndims=(2,)),
    Spec("thresholding.bernsen", lambda f, a: f(a, 2, 10), ALL_DTYPES, ndims=(2,)),
    Spec("thresholding.gbernsen", lambda f, a: f(a, np.ones((3,) * a.ndim), 10, 5),
         ALL_DTYPES),
    Spec("haar", lambda f, a: f(a), ALL_DTYPES, ndims=(2,)),
    Spec("ihaar", lambda f, a: f(a), ALL_DTYPES, ndims=(2,)),
    Spec("daubechies", lambda f, a: f(a, "D4"), ALL_DTYPES, ndims=(2,)),
    Spec("idaubechies", lambda f, a: f(a, "D8"), ALL_DTYPES, ndims=(2,)),
    Spec("wavelet_center", lambda f, a: f(a, 1), ALL_DTYPES, allow_empty=False),
    Spec("features.surf.integral", lambda f, a: f(a), ALL_DTYPES, ndims=(2,)),
    Spec("features.surf.surf", lambda f, a: f(a, 2, 3), ALL_DTYPES, ndims=(2,)),
    Spec("features.surf.dense", lambda f, a: f(a, 4), ALL_DTYPES, ndims=(2,)),
    Spec("interpolate.spline_filter", lambda f, a: f(a), ALL_DTYPES),
    Spec("interpolate.zoom", lambda f, a: f(a, 1.5), ALL_DTYPES),
    Spec("interpolate.shift", lambda f, a: f(a, 0.5), ALL_DTYPES),
    Spec("imresize", lambda f, a: f(a, 0.5), ALL_DTYPES),
    Spec("resize_to", lambda f, a: f(a, tuple(2 * n + 1 for n in a.shape)), ALL_DTYPES),
    Spec("features.lbp", lambda f, a: f(a, 1.5, 8), ALL_DTYPES, ndims=(2,)),
    # three channels wanted, and at least one seed: thinner images are refused by name
    Spec("segmentation.slic", lambda f, a: f(a[..., :3], 2, max_iters=4), ALL_DTYPES,
         ndims=(3,), may_refuse=True),
]
IDS = [spec.name for spec in SPECS]


def shapes(ndims: tuple, allow_empty: bool):
    """Shapes with 0-size, 1-pixel, 1 x N and very elongated members."""
    min_side = 0 if allow_empty else 1
    return st.integers(min(ndims), max(ndims)).flatmap(
        lambda ndim: st.lists(st.one_of(st.integers(min_side, 3), st.integers(1, 40)),
                              min_size=ndim, max_size=ndim).map(tuple))


def arrays(spec: Spec, dtypes: list):
    """Arrays of any supported dtype with extreme values (min/max, NaN, +/-inf)."""
    def elements(dtype):
        dtype = np.dtype(dtype)
        if dtype.kind == "f":
            return st.floats(allow_nan=True, allow_infinity=True, width=dtype.itemsize * 8)
        return hnp.from_dtype(dtype)
    return st.sampled_from(dtypes).flatmap(
        lambda dtype: hnp.arrays(dtype, shapes(spec.ndims, spec.allow_empty),
                                 elements=elements(dtype)))


def layouts(canonical: np.ndarray) -> dict[str, np.ndarray]:
    """The same values in every memory layout a caller may hand over."""
    strided_base = np.zeros(tuple(2 * s + 1 for s in canonical.shape), canonical.dtype)
    strided = strided_base[tuple(slice(1, None, 2) for _ in canonical.shape)]
    strided[...] = canonical
    read_only = canonical.copy()
    read_only.flags.writeable = False
    variants = {"fortran": np.asfortranarray(canonical), "strided": strided,
                "read-only": read_only}
    if canonical.dtype.itemsize > 1 and canonical.dtype.kind != "b":
        variants["big-endian"] = canonical.astype(canonical.dtype.newbyteorder(">"))
    return variants


def assert_same_result(result, expected, context: str) -> None:
    if isinstance(expected, tuple):
        assert isinstance(result, tuple) and len(result) == len(expected), context
        for r, e in zip(result, expected, strict=True):
            assert_same_result(r, e, context)
    elif isinstance(expected, list):
        assert len(result) == len(expected), context
        for r, e in zip(result, expected, strict=True):
            assert_same_result(r, e, context)
    else:
        np.testing.assert_array_equal(np.asarray(result), np.asarray(expected), err_msg=context)
        assert np.asarray(result).dtype == np.asarray(expected).dtype, context


# Examples per function, scaled by the hypothesis profile (ci: 30 and 15;
# HYPOTHESIS_PROFILE=thorough: 500 and 250). Each layout example checks up to four
# layouts (Fortran, strided, read-only, big-endian) of one array.
LAYOUT_EXAMPLES = max(1, settings.default.max_examples // 2)
OTHER_DTYPE_EXAMPLES = max(1, settings.default.max_examples // 4)


def assert_names_an_argument(error: Exception) -> None:
    assert re.search(r"`\w+`", str(error)), f"error does not name its argument: {error!r}"


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@settings(max_examples=LAYOUT_EXAMPLES)
@given(data=st.data())
def test_any_layout_gives_the_canonical_result(spec, data):
    canonical = np.ascontiguousarray(data.draw(arrays(spec, spec.dtypes)))
    if canonical.ndim not in spec.ndims:
        return
    try:
        expected = spec.call(spec.function, canonical)
    except (ValueError, TypeError) as error:
        if not spec.may_refuse:
            raise
        assert_names_an_argument(error)
        for variant in layouts(canonical).values():
            with pytest.raises(type(error)):
                spec.call(spec.function, variant)
        return
    for layout, variant in layouts(canonical).items():
        assert_same_result(spec.call(spec.function, variant), expected,
                           f"{spec.name}, {layout}, shape {canonical.shape}, {canonical.dtype}")


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@settings(max_examples=OTHER_DTYPE_EXAMPLES)
@given(data=st.data())
def test_other_dtypes_work_or_are_refused_by_name(spec, data):
    others = [d for d in ALL_DTYPES if d not in spec.dtypes]
    if not others:
        return
    array = data.draw(arrays(spec, others))
    try:
        spec.call(spec.function, array)
    except (TypeError, ValueError) as error:
        assert_names_an_argument(error)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@pytest.mark.parametrize("dtype", UNSUPPORTED, ids=lambda d: np.dtype(d).name)
def test_unsupported_dtypes_are_refused_by_name(spec, dtype):
    array = np.zeros((4, 5), dtype)
    with pytest.raises((TypeError, ValueError)) as info:
        spec.call(spec.function, array)
    assert_names_an_argument(info.value)


BAD_STRUCTURING_ELEMENTS = {
    "empty": np.ones((0, 3), bool),
    "wrong ndim": np.ones((3, 3, 3), bool),
}


@pytest.mark.parametrize("spec", [s for s in SPECS if s.takes_Bc], ids=lambda s: s.name)
@pytest.mark.parametrize("kind", BAD_STRUCTURING_ELEMENTS)
def test_bad_structuring_elements_are_refused(spec, kind):
    image = np.arange(30, dtype=np.uint8).reshape(5, 6)
    arguments = (image, _markers_for(image)) if spec.name == "cwatershed" else (image,)
    with pytest.raises(ValueError, match="`Bc`"):
        spec.function(*arguments, Bc=BAD_STRUCTURING_ELEMENTS[kind])


@pytest.mark.parametrize("spec", [s for s in SPECS if s.takes_out], ids=lambda s: s.name)
def test_bad_out_arrays_are_refused(spec):
    image = np.arange(30, dtype=np.uint8).reshape(5, 6)
    for out in (np.zeros((6, 5), np.int32), np.zeros((5, 6), np.complex64),
                np.zeros((5, 12), np.int32)[:, ::2]):
        with pytest.raises((ValueError, TypeError), match="`out`"):
            spec.function(image, out=out)


@pytest.mark.parametrize("sigma", [-1.0, float("nan"), float("inf"), "2", None])
def test_bad_sigma_is_refused(sigma):
    with pytest.raises((ValueError, TypeError), match="`sigma`"):
        karyo.gaussian_filter(np.zeros((4, 4)), sigma)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_threads_give_the_results_of_a_single_caller(spec):
    """The kernels release the GIL: concurrent calls must not share state."""
    rng = np.random.default_rng(7)
    ndim = 2 if 2 in spec.ndims else spec.ndims[0]
    dtype = np.uint8 if np.uint8 in spec.dtypes else spec.dtypes[0]
    inputs = [np.ascontiguousarray(rng.integers(0, 9, (97,) * ndim if ndim < 3 else (23,) * 3)
                                   .astype(dtype)) for _ in range(6)]
    alone = [spec.call(spec.function, image) for image in inputs]
    together: list = [None] * len(inputs)
    barrier = threading.Barrier(len(inputs))

    def work(i):
        barrier.wait()
        for _ in range(3):
            together[i] = spec.call(spec.function, inputs[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result, expected in zip(together, alone, strict=True):
        assert_same_result(result, expected, spec.name)
