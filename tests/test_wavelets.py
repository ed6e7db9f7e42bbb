"""karyo's wavelets (haar, daubechies, their inverses, wavelet_center) against mahotas.

The transforms are deterministic floating-point arithmetic done in mahotas's
order with mahotas's float32 coefficients, so results are compared exactly.
"""

import sys

import mahotas
import numpy as np
import pytest
from conftest import with_layout
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import karyo
from karyo.convolve import (
    DAUBECHIES_CODES,
    daubechies,
    haar,
    idaubechies,
    ihaar,
    wavelet_center,
    wavelet_decenter,
)

CODES = [f"D{n}" for n in range(2, 21, 2)]


@st.composite
def images(draw, even_rows=False, dtypes=(np.float64, np.float32), max_side=12):
    rows = draw(st.integers(1, max_side))
    if even_rows:
        rows += rows % 2
    columns = draw(st.integers(1, max_side))
    dtype = draw(st.sampled_from(dtypes))
    return draw(hnp.arrays(dtype, (rows, columns),
                           elements=st.floats(-1000, 1000, width=32)))


def assert_same(result, expected):
    """Bit-identical: the same values, and the same signs of zeros and NaN."""
    assert result.dtype == expected.dtype
    assert result.shape == expected.shape
    np.testing.assert_array_equal(result, expected)
    bits = np.dtype(f"u{result.dtype.itemsize}")
    np.testing.assert_array_equal(result.view(bits), expected.view(bits))


def test_codes_are_mahotas_codes():
    assert list(DAUBECHIES_CODES) == CODES


@given(images(), st.booleans())
def test_haar_matches_mahotas(image, preserve_energy):
    # odd sizes included: the unpaired last row / column is 0 in both
    assert_same(haar(image, preserve_energy), mahotas.haar(image, preserve_energy))


@given(images(even_rows=True), st.booleans())
def test_ihaar_matches_mahotas(image, preserve_energy):
    assert_same(ihaar(image, preserve_energy), mahotas.ihaar(image, preserve_energy))


@given(images(), st.sampled_from(CODES))
def test_daubechies_matches_mahotas(image, code):
    assert_same(daubechies(image, code), mahotas.daubechies(image, code))


@given(images(even_rows=True), st.sampled_from(CODES))
def test_idaubechies_matches_mahotas(image, code):
    assert_same(idaubechies(image, code), mahotas.idaubechies(image, code))


def test_inverse_with_odd_rows_reads_the_second_half():
    # mahotas's column pass of the inverses addresses the high band as
    # ``data + stride * rows / 2`` in elements, which for an odd number of rows
    # is not the start of the second half of the column (for large images it
    # reads outside the array). karyo takes the second half, as for rows:
    # the column pass is then the row pass of the transpose (the two passes
    # swap order, hence a tolerance of a few ulps).
    image = np.random.default_rng(0).standard_normal((5, 6))
    result = ihaar(image, preserve_energy=False)
    transposed = ihaar(np.ascontiguousarray(image.T), preserve_energy=False).T
    np.testing.assert_allclose(result, transposed, rtol=1e-14, atol=1e-15)
    assert not np.allclose(result, mahotas.ihaar(image, preserve_energy=False))
    for code in ("D2", "D6"):
        np.testing.assert_allclose(idaubechies(image, code),
                                   idaubechies(np.ascontiguousarray(image.T), code).T,
                                   rtol=1e-12, atol=1e-14)


@given(images(even_rows=True, max_side=70), st.sampled_from(CODES))
def test_longer_lines_match_mahotas(image, code):
    # lines long enough for the kernels' vectorised loops and their remainders,
    # and for every grouping of the taps (4 at a time, then 2, then 1) that
    # the shortened sums near the ends of the columns produce
    assert_same(haar(image), mahotas.haar(image))
    assert_same(ihaar(image), mahotas.ihaar(image))
    assert_same(daubechies(image, code), mahotas.daubechies(image, code))
    assert_same(idaubechies(image, code), mahotas.idaubechies(image, code))


def assert_every_transform_matches_mahotas(image):
    """Daubechies D2, D4, D20 and Haar (both energy conventions), each way, bit for bit."""
    for code in ("D2", "D4", "D20"):
        assert_same(daubechies(image, code), mahotas.daubechies(image, code))
        assert_same(idaubechies(image, code), mahotas.idaubechies(image, code))
    for preserve_energy in (True, False):
        assert_same(haar(image, preserve_energy), mahotas.haar(image, preserve_energy))
        assert_same(ihaar(image, preserve_energy), mahotas.ihaar(image, preserve_energy))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_signed_zeros_match_mahotas(dtype):
    # mahotas adds a 0 term for each sample past the end of a line; karyo
    # skips it or adds an explicit 0: the sums must keep the same zero signs
    image = np.zeros((8, 10), dtype)
    image[1::2] = -0.0
    image[:, ::3] *= -1
    assert_every_transform_matches_mahotas(image)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_subnormals_match_mahotas(dtype):
    # halving a subnormal rounds: each step must round in the image's type,
    # as in mahotas (ihaar halves twice, then doubles), not in double
    smallest = np.finfo(dtype).smallest_subnormal
    steps = np.random.default_rng(7).integers(-999, 1000, (8, 10))
    image = (steps * smallest).astype(dtype)
    assert_every_transform_matches_mahotas(image)


def test_round_trips_on_nuclear_image():
    full = karyo.demos.load("synthetic_nuclei")
    for image in (full, full.astype(np.float32)):
        assert_same(haar(image), mahotas.haar(image))
        assert_same(ihaar(image), mahotas.ihaar(image))
        assert_same(daubechies(image, "D4"), mahotas.daubechies(image, "D4"))
        assert_same(idaubechies(image, "D4"), mahotas.idaubechies(image, "D4"))
    image = full[:256, :512].astype(np.float64)
    np.testing.assert_allclose(ihaar(haar(image)), image, atol=1e-10)
    for code in ("D4", "D8", "D20"):
        transformed = daubechies(image, code)
        assert_same(transformed, mahotas.daubechies(image, code))
        assert_same(idaubechies(transformed, code), mahotas.idaubechies(transformed, code))
        # away from the borders (zero extension loses information there) the
        # reconstruction is exact up to the float32 coefficients
        restored = idaubechies(transformed, code)
        inner = (slice(24, -24), slice(24, -24))
        np.testing.assert_allclose(restored[inner], image[inner], rtol=1e-5, atol=1e-3)


def test_haar_preserves_energy():
    image = np.random.default_rng(1).standard_normal((16, 8))
    assert np.isclose(np.sum(haar(image) ** 2), np.sum(image ** 2))


def test_integer_and_bool_images_become_float64():
    image = np.arange(24, dtype=np.uint8).reshape(4, 6)
    for function, args in ((haar, ()), (ihaar, ()), (daubechies, ("D4",)),
                           (idaubechies, ("D4",))):
        expected = getattr(mahotas, function.__name__)(image, *args)
        assert_same(function(image, *args), expected)
        # inline does not apply: a new float64 array, the input untouched
        result = function(image, *args, inline=True)
        assert result.dtype == np.float64
        assert np.array_equal(image, np.arange(24).reshape(4, 6))
    assert_same(haar(image > 10), mahotas.haar(image > 10))


@pytest.mark.parametrize("function,args", [(haar, ()), (ihaar, ()), (daubechies, ("D6",)),
                                           (idaubechies, ("D6",))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_inline_writes_into_the_input(function, args, dtype):
    image = np.random.default_rng(2).standard_normal((8, 10)).astype(dtype)
    expected = getattr(mahotas, function.__name__)(image.copy(), *args)
    result = function(image, *args, inline=True)
    assert result is image
    assert_same(image, expected)
    # and not otherwise
    other = np.ones((8, 10), dtype)
    function(other, *args)
    assert np.all(other == 1)


@pytest.mark.parametrize("layout", ["fortran", "strided", "bigendian", "readonly"])
@pytest.mark.parametrize("function,args", [(haar, ()), (ihaar, ()), (daubechies, ("D4",)),
                                           (idaubechies, ("D4",))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layouts(layout, function, args, dtype):
    image = np.random.default_rng(3).standard_normal((6, 10)).astype(dtype)
    expected = getattr(mahotas, function.__name__)(image, *args)
    assert_same(function(with_layout(image, layout), *args).astype(dtype), expected)


@pytest.mark.parametrize("layout", ["fortran", "strided", "bigendian"])
def test_inline_on_other_layouts(layout):
    image = with_layout(np.random.default_rng(4).standard_normal((6, 10)), layout)
    expected = mahotas.daubechies(np.array(image, np.float64), "D4")
    result = daubechies(image, "D4", inline=True)
    assert result is image
    np.testing.assert_array_equal(image, expected)


def test_float16_is_computed_in_float32():
    # mahotas refuses float16
    image = np.random.default_rng(5).integers(-50, 50, (4, 6)).astype(np.float16)
    assert_same(haar(image), mahotas.haar(image.astype(np.float32)))
    result = daubechies(image, "D4", inline=True)
    assert result is image and result.dtype == np.float16


def test_empty_and_single_pixel():
    for function, args in ((haar, ()), (ihaar, ()), (daubechies, ("D4",)),
                           (idaubechies, ("D4",))):
        for shape in ((0, 4), (4, 0), (1, 1), (1, 5)):
            image = np.ones(shape)
            assert_same(function(image, *args),
                        getattr(mahotas, function.__name__)(image, *args))


def test_wavelet_errors():
    with pytest.raises(ValueError, match="code"):
        daubechies(np.ones((4, 4)), "D3")
    with pytest.raises(ValueError, match="code"):
        idaubechies(np.ones((4, 4)), 4)
    with pytest.raises(ValueError, match="2-D"):
        haar(np.ones(4))
    with pytest.raises(ValueError, match="2-D"):
        daubechies(np.ones((2, 2, 2)), "D2")
    with pytest.raises(TypeError, match="`f`"):
        ihaar(np.ones((2, 2), complex))
    with pytest.raises(TypeError, match="inline"):
        haar(np.ones((2, 2)), inline="yes")
    with pytest.raises(TypeError, match="preserve_energy"):
        haar(np.ones((2, 2)), preserve_energy=None)
    readonly = np.ones((2, 2))
    readonly.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        haar(readonly, inline=True)


@given(hnp.array_shapes(min_dims=1, max_dims=3, max_side=40), st.integers(0, 6),
       st.floats(-5, 5))
def test_wavelet_center_matches_mahotas(shape, border, cval):
    image = np.random.default_rng(6).standard_normal(shape)
    centred = wavelet_center(image, border, cval=cval)
    assert_same(centred, mahotas.wavelet_center(image, border, cval=cval))
    assert all(n & (n - 1) == 0 for n in centred.shape)
    assert_same(wavelet_decenter(centred, shape, border),
                mahotas.wavelet_decenter(centred, shape, border))
    assert_same(wavelet_decenter(centred, shape, border), image)


def test_wavelet_center_dtype_and_round_trip():
    image = karyo.demos.load("synthetic_nuclei")[:100, :130]
    centred = wavelet_center(image, dtype=np.float32)
    assert_same(centred, mahotas.wavelet_center(image, dtype=np.float32))
    transformed = daubechies(centred, "D8")
    restored = wavelet_decenter(idaubechies(transformed, "D8"), image.shape)
    np.testing.assert_allclose(restored, image, atol=0.05)


def test_wavelet_center_errors():
    with pytest.raises(ValueError, match="border"):
        wavelet_center(np.ones((3, 3)), border=-1)
    with pytest.raises(TypeError, match="border"):
        wavelet_center(np.ones((3, 3)), border=1.5)
    with pytest.raises(ValueError, match="shape"):
        wavelet_center(np.ones((0, 3)))
    with pytest.raises(ValueError, match="border"):
        wavelet_center(np.ones((3, 3)), border=2**70)  # no such array, and no hang
    with pytest.raises(TypeError, match="dtype"):
        wavelet_center(np.ones((3, 3)), dtype="not a dtype")
    with pytest.raises(ValueError, match="`w`"):
        wavelet_decenter(np.ones((4, 4)), (3, 3))
    with pytest.raises(TypeError, match="oshape"):
        wavelet_decenter(np.ones((8, 8)), (3.5, 3))


def test_exported_like_mahotas():
    module = sys.modules["karyo.convolve"]
    for name in ("haar", "ihaar", "daubechies", "idaubechies", "wavelet_center",
                 "wavelet_decenter"):
        assert getattr(karyo, name) is getattr(module, name)
        assert name in module.__all__
        assert hasattr(mahotas, name)


def test_overflow_gives_inf_silently_like_mahotas():
    import warnings

    image = np.full((4, 6), 1.5e308)
    image[1, 2] = -1.5e308
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for function, args in ((haar, ()), (ihaar, ()), (daubechies, ("D6",)),
                               (idaubechies, ("D6",))):
            assert_same(function(image, *args),
                        getattr(mahotas, function.__name__)(image, *args))
