"""karyo.features.surf against mahotas.features.surf.

karyo evaluates mahotas's expressions in mahotas's order with the same libm,
so integral images and interest points are compared bit for bit. Descriptors
go through sin, cos, exp and atan2, whose compiled forms may differ between
builds (e.g. a fused sincos): they are compared to 1e-9 relative (they have
matched exactly on every machine tried).
"""

import mahotas.features.surf as msurf
import numpy as np
import pytest
from conftest import with_layout
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import karyo.demos
from karyo.features import _surf, surf

LAYOUTS = ["c", "fortran", "strided", "bigendian", "readonly"]


def mahotas_reads_inside(rows, shape):
    """Which SURF rows (y, x, scale, score, laplacian, angle, ...) mahotas describes
    reading only inside the integral image.

    For points of small scale (below about 1.5) at its border margin, mahotas
    reads the memory just before the array (a box whose bottom row is -1):
    undefined behaviour, where karyo clamps to the array. Those rows cannot be
    compared; this recomputes mahotas's sample boxes to find them.
    """
    n0, n1 = shape
    grid = np.arange(-10, 10)
    gy, gx = np.meshgrid(grid, grid, indexing="ij")
    r, c = np.mgrid[-6:7, -6:7]
    disc = r * r + c * c < 36
    mask = []
    for y, x, scale, _, _, angle in rows[:, :6]:
        width = int(2 * scale + 0.5)
        # descriptor samples: mahotas's rotated grid, truncated to int
        sy, sx = gx * scale, gy * scale
        py = np.trunc(np.cos(angle) * sx - np.sin(angle) * sy + y)
        px = np.trunc(np.sin(angle) * sx + np.cos(angle) * sy + x)
        bottoms = [py - width // 2 + width - 1]
        rights = [px - width // 2 + width - 1]
        # orientation samples, rounded half away from zero
        width = ~1 & int(4 * scale + 0.5)
        oy = np.trunc(scale * r[disc] + y + np.where(scale * r[disc] + y > 0, .5, -.5))
        ox = np.trunc(scale * c[disc] + x + np.where(scale * c[disc] + x > 0, .5, -.5))
        bottoms += [oy - width // 2 + width - 1, oy - 1]
        rights += [ox - width // 2 + width - 1, ox - 1]
        # one pixel of slack for rounding differences between numpy and C
        mask.append(all(b.min() >= 1 for b in bottoms) and all(v.min() >= 1 for v in rights))
    return np.array(mask, bool)


def assert_descriptors_equal(result, expected, shape=None, rows=None):
    """Equal to 1e-9 (where mahotas reads inside the image, if `shape` is given)."""
    assert result.shape == expected.shape
    assert result.dtype == np.float64
    if shape is not None:
        inside = mahotas_reads_inside(expected if rows is None else rows, shape)
        result, expected = result[inside], expected[inside]
    np.testing.assert_allclose(result, expected, rtol=1e-9, atol=1e-12)


@pytest.fixture(scope="module")
def nuclear():
    return karyo.demos.load("synthetic_nuclei")


@st.composite
def images(draw, dtypes=(np.uint8, np.uint16, np.float64), min_side=1, max_side=12):
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=2, min_side=min_side,
                                  max_side=max_side))
    if dtype.kind == "f":
        elements = st.floats(-1e3, 1e3, width=32 if dtype == np.float32 else 64)
    elif dtype.kind == "b":
        elements = st.booleans()
    else:
        info = np.iinfo(dtype)
        elements = st.integers(max(int(info.min), -10**6), min(int(info.max), 10**6))
    return draw(hnp.arrays(dtype, shape, elements=elements))


@st.composite
def textured_images(draw):
    """Images with blobs at several sizes (where SURF finds points), 32-72 pixels a side."""
    shape = (draw(st.integers(32, 72)), draw(st.integers(32, 72)))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    noise = rng.random(shape)
    smooth = draw(st.sampled_from([0, 1, 3]))
    for _ in range(smooth):  # a cheap blur: blobs instead of pixel noise
        noise = (noise + np.roll(noise, 1, 0) + np.roll(noise, 1, 1)
                 + np.roll(noise, -1, 0) + np.roll(noise, -1, 1)) / 5
    image = noise * draw(st.sampled_from([1.0, 255.0]))
    if draw(st.booleans()):
        image = (image / image.max() * 255).astype(np.uint8)
    return image


# ------------------------------------------------------------------ integral

@given(images((np.uint8, np.uint16, np.int8, np.int16, np.int32, np.int64, np.uint32,
               np.uint64, np.bool_, np.float32, np.float64)),
       st.sampled_from([np.float64, np.float32, np.longdouble, np.int32, np.uint8, np.int64,
                        np.uint64, np.bool_]))
def test_integral_matches_mahotas(image, dtype):
    result = surf.integral(image, dtype=dtype)
    expected = msurf.integral(image, dtype=dtype)
    assert result.dtype == expected.dtype
    np.testing.assert_array_equal(result, expected)


@given(images((np.uint8, np.int16, np.uint32, np.int64, np.uint64, np.bool_, np.float32,
               np.float64, np.longdouble)))
def test_integral_in_place_matches_mahotas(image):
    mine, theirs = image.copy(), image.copy()
    result = surf.integral(mine, in_place=True)
    expected = msurf.integral(theirs, in_place=True)
    assert result is mine
    np.testing.assert_array_equal(mine, theirs)
    np.testing.assert_array_equal(result, expected)


def test_integral_of_large_integers_is_not_rounded_twice():
    # Too large for exact float64 sums: the result must follow mahotas's
    # recurrence, not the fast exact path.
    image = np.random.default_rng(1).integers(2**60, 2**62, (9, 11), dtype=np.int64)
    np.testing.assert_array_equal(surf.integral(image), msurf.integral(image))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_integral_layouts(layout, nuclear):
    image = with_layout(nuclear[:50, :70], layout)
    expected = msurf.integral(np.ascontiguousarray(nuclear[:50, :70]))
    np.testing.assert_array_equal(surf.integral(image), expected)
    as_float = with_layout(nuclear[:50, :70].astype(np.float32), layout)
    np.testing.assert_array_equal(surf.integral(as_float),
                                  msurf.integral(nuclear[:50, :70].astype(np.float32)))


@pytest.mark.parametrize("layout", ["fortran", "strided", "bigendian"])
def test_integral_in_place_on_other_layouts(layout):
    image = np.arange(30, dtype=np.float64).reshape(5, 6) / 7
    target = with_layout(image, layout)
    result = surf.integral(target, in_place=True)
    assert result is target
    np.testing.assert_array_equal(target, msurf.integral(image))


def test_integral_empty_and_single_pixel():
    for shape in [(0, 0), (0, 5), (4, 0), (1, 1), (1, 7), (6, 1)]:
        image = np.arange(np.prod(shape), dtype=np.uint8).reshape(shape)
        np.testing.assert_array_equal(surf.integral(image), msurf.integral(image))


def test_integral_rejects_bad_arguments():
    with pytest.raises(ValueError, match="2-D"):
        surf.integral(np.zeros(5))
    with pytest.raises(ValueError, match="2-D"):
        surf.integral(np.zeros((2, 2, 2)))
    with pytest.raises(TypeError, match="dtype"):
        surf.integral(np.zeros((2, 2), complex))
    with pytest.raises(TypeError, match="float16"):
        surf.integral(np.zeros((2, 2), np.float16))
    with pytest.raises(TypeError, match="dtype"):
        surf.integral(np.zeros((2, 2)), dtype=np.complex128)
    with pytest.raises(TypeError, match="numpy array"):
        surf.integral([[1, 2]], in_place=True)
    readonly = np.zeros((2, 2))
    readonly.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        surf.integral(readonly, in_place=True)


# ------------------------------------------------------------------ sum_rect

@given(images((np.uint8, np.int32, np.uint32, np.float32, np.float64), max_side=10),
       st.data())
def test_sum_rect_matches_mahotas(image, data):
    table = msurf.integral(image, dtype=image.dtype)
    n0, n1 = table.shape
    # corners where mahotas reads inside the array (y1 < 1 reads before it)
    y0 = data.draw(st.integers(-3, n0))
    x0 = data.draw(st.integers(-3, n1))
    y1 = data.draw(st.integers(1, n0 + 3))
    x1 = data.draw(st.integers(0 if min(y0, y1) > 1 else 1, n1 + 3))
    expected = msurf._surf.sum_rect(table, y0, x0, y1, x1)
    assert surf.sum_rect(table, y0, x0, y1, x1) == expected


def test_sum_rect_is_a_box_sum(nuclear):
    table = surf.integral(nuclear)
    assert surf.sum_rect(table, 11, 21, 40, 33) == nuclear[11:40, 21:33].sum()
    # mahotas clamps the low corner: a box from row 0 leaves row 0 out
    assert surf.sum_rect(table, 0, 21, 40, 33) == nuclear[1:40, 21:33].sum()


def test_sum_rect_clamps_instead_of_reading_past_the_array():
    table = surf.integral(np.ones((4, 5)))
    for corners in [(0, 0, 100, 100), (-50, -50, -40, -40), (9, 9, 9, 9), (2, 2, 2**20, 0)]:
        assert np.isfinite(surf.sum_rect(table, *corners))
    # a box ending left of column 0 reads the previous row, as in mahotas
    table = np.random.default_rng(0).random((4, 5))
    assert surf.sum_rect(table, 2, 2, 3, 0) == msurf._surf.sum_rect(table, 2, 2, 3, 0)


def test_sum_rect_rejects_bad_arguments():
    with pytest.raises(ValueError, match="empty"):
        surf.sum_rect(np.zeros((0, 3)), 0, 0, 1, 1)
    with pytest.raises(TypeError, match="y0"):
        surf.sum_rect(np.zeros((3, 3)), 1.5, 0, 1, 1)
    with pytest.raises(ValueError, match="2-D"):
        surf.sum_rect(np.zeros(3), 0, 0, 1, 1)


# ------------------------------------------------------------------ interest points

@given(textured_images(), st.integers(1, 3), st.integers(3, 6), st.integers(1, 2),
       st.sampled_from([0.0, 0.1, 1.0, 20.0]), st.sampled_from([None, 0, 3, 50]))
def test_interest_points_match_mahotas(image, nr_octaves, nr_scales, step, threshold,
                                       max_points):
    kwargs = dict(nr_octaves=nr_octaves, nr_scales=nr_scales, initial_step_size=step,
                  threshold=threshold, max_points=max_points)
    result = surf.interest_points(image, **kwargs)
    expected = msurf.interest_points(image, **kwargs)
    assert result.shape == expected.shape
    np.testing.assert_array_equal(result, expected)


def test_interest_points_on_nuclear(nuclear):
    result = surf.interest_points(nuclear)
    expected = msurf.interest_points(nuclear)
    assert len(expected) > 1000
    np.testing.assert_array_equal(result, expected)
    table = surf.integral(nuclear)
    np.testing.assert_array_equal(
        surf.interest_points(table, nr_octaves=3, threshold=2.5, is_integral=True),
        msurf.interest_points(msurf.integral(nuclear), nr_octaves=3, threshold=2.5,
                              is_integral=True))


def test_equal_scores_come_in_mahotas_order():
    # Identical blobs give hundreds of points with only a few distinct scores:
    # mahotas's order among them is that of libstdc++'s (unstable) std::sort.
    yy, xx = np.mgrid[:32, :32]
    blob = 200 * np.exp(-((yy - 16.) ** 2 + (xx - 16.) ** 2) / 20)
    image = np.tile(blob, (12, 12)).astype(np.uint8)
    result = surf.interest_points(image, threshold=1)
    expected = msurf.interest_points(image, threshold=1)
    assert len(np.unique(expected[:, 3])) < len(expected) // 10
    np.testing.assert_array_equal(result, expected)
    # equal scores are not in position order: the test has teeth
    by_position = expected[np.lexsort((expected[:, 1], expected[:, 0], -expected[:, 3]))]
    assert not np.array_equal(by_position, expected)
    assert_descriptors_equal(surf.surf(image, threshold=1), msurf.surf(image, threshold=1))


@given(st.lists(st.sampled_from([0.0, 1.0, 2.0, 2.5, np.inf, -1.0]), max_size=80))
def test_sort_like_libstdcxx_sorts(keys):
    keys = np.array(keys, np.float64)
    order = _surf.sort_like_libstdcxx(keys)
    assert sorted(order.tolist()) == list(range(len(keys)))
    assert np.all(keys[order][1:] >= keys[order][:-1])


@pytest.mark.parametrize("layout", LAYOUTS)
def test_interest_points_layouts(layout, nuclear):
    crop = nuclear[100:220, 300:460]
    expected = msurf.interest_points(crop, nr_octaves=2)
    np.testing.assert_array_equal(surf.interest_points(with_layout(crop, layout),
                                                       nr_octaves=2), expected)


def test_interest_points_of_tiny_and_empty_images():
    for shape in [(0, 0), (1, 1), (3, 40), (40, 3), (20, 20)]:
        image = np.ones(shape, np.uint8)
        result = surf.interest_points(image)
        assert result.shape == (0, 5)
        np.testing.assert_array_equal(result, msurf.interest_points(image))


def test_many_octaves_stop_where_the_image_ends(nuclear):
    crop = nuclear[:200, :200]
    np.testing.assert_array_equal(surf.interest_points(crop, nr_octaves=40),
                                  msurf.interest_points(crop, nr_octaves=8))


def test_interest_points_reject_bad_arguments():
    image = np.zeros((30, 30))
    for name in ("nr_octaves", "nr_scales", "initial_step_size"):
        with pytest.raises(ValueError, match=name):
            surf.interest_points(image, **{name: 0})
        with pytest.raises(TypeError, match=name):
            surf.interest_points(image, **{name: 1.5})
    with pytest.raises(TypeError, match="threshold"):
        surf.interest_points(image, threshold="high")
    with pytest.raises(TypeError, match="max_points"):
        surf.interest_points(image, max_points=2.5)
    with pytest.raises(TypeError, match="float64"):
        surf.interest_points(np.zeros((30, 30), np.float32), is_integral=True)
    with pytest.raises(ValueError, match="2-D"):
        surf.interest_points(np.zeros((3, 30, 30)))


# ------------------------------------------------------------------ descriptors and surf

@given(textured_images(), st.integers(1, 2), st.sampled_from([0.0, 0.5, 5.0]),
       st.sampled_from([1024, 5, 0, -1]), st.booleans())
def test_surf_matches_mahotas(image, nr_octaves, threshold, max_points, descriptor_only):
    kwargs = dict(nr_octaves=nr_octaves, nr_scales=4, threshold=threshold,
                  max_points=max_points, descriptor_only=descriptor_only)
    expected = msurf.surf(image, **kwargs)
    rows = msurf.surf(image, **dict(kwargs, descriptor_only=False))
    assert_descriptors_equal(surf.surf(image, **kwargs), expected, image.shape, rows)


@given(textured_images(), st.data())
def test_descriptors_at_any_points_match_mahotas(image, data):
    n0, n1 = image.shape
    count = data.draw(st.integers(0, 12))
    # positions and scales where mahotas stays inside the image
    points = np.array([[data.draw(st.floats(0, n0 - 1)), data.draw(st.floats(0, n1 - 1)),
                        data.draw(st.floats(0.3, 3.0)), 1.0, 1.0] for _ in range(count)])
    points = points.reshape(count, 5)
    expected = msurf.descriptors(image, points)
    assert_descriptors_equal(surf.descriptors(image, points), expected, image.shape)


def test_surf_on_nuclear(nuclear):
    expected = msurf.surf(nuclear)
    assert len(expected) > 500
    assert mahotas_reads_inside(expected, nuclear.shape).mean() > 0.9
    assert_descriptors_equal(surf.surf(nuclear), expected, nuclear.shape)
    assert_descriptors_equal(surf.surf(nuclear, max_points=None),
                             msurf.surf(nuclear, max_points=-1), nuclear.shape)
    points = msurf.interest_points(nuclear, max_points=300)
    table = msurf.integral(nuclear)
    rows = msurf.descriptors(table, points, is_integral=True)
    assert_descriptors_equal(surf.descriptors(table, points, is_integral=True), rows,
                             nuclear.shape)
    assert_descriptors_equal(surf.descriptors(nuclear, points, descriptor_only=True),
                             msurf.descriptors(nuclear, points, descriptor_only=True),
                             nuclear.shape, rows)


def test_descriptors_skip_points_mahotas_cannot_describe(nuclear):
    crop = nuclear[:80, :80]
    points = np.array([[40, 40, 1.5, 1, 1],      # kept
                       [2, 40, 1.5, 1, 1],       # too near the top
                       [40, 40, np.nan, 1, 1],   # no scale
                       [np.nan, 40, 1.5, 1, 1],  # no position
                       [40, 40, -5.0, 1, 1],     # negative scale
                       [40, 40, 1e300, 1, 1]])   # larger than the image
    result = surf.descriptors(crop, points)
    assert result.shape == (1, 70)
    assert_descriptors_equal(result, msurf.descriptors(crop, points[:2]))


def test_descriptors_reject_bad_arguments():
    image = np.zeros((30, 30))
    with pytest.raises(ValueError, match="5 columns"):
        surf.descriptors(image, np.zeros((3, 4)))
    with pytest.raises(ValueError, match="interest_points"):
        surf.descriptors(image, np.zeros(5))
    with pytest.raises(TypeError, match="float64"):
        surf.descriptors(np.zeros((30, 30), np.uint8), np.zeros((1, 5)), is_integral=True)


def test_descriptors_of_empty_inputs():
    assert surf.descriptors(np.zeros((30, 30)), np.zeros((0, 5))).shape == (0, 70)
    assert surf.descriptors(np.zeros((0, 0)), np.ones((2, 5))).shape == (0, 70)
    assert surf.surf(np.zeros((1, 1), np.uint8)).shape == (0, 70)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_surf_layouts(layout, nuclear):
    crop = nuclear[100:260, 300:480]
    expected = msurf.surf(crop, nr_octaves=2)
    assert_descriptors_equal(surf.surf(with_layout(crop, layout), nr_octaves=2), expected,
                             crop.shape)


# ------------------------------------------------------------------ dense

@given(textured_images(), st.sampled_from([1, 4, 7.5, 16]),
       st.sampled_from([None, 1.0, 2.5]), st.booleans())
def test_dense_matches_mahotas(image, spacing, scale, include_interest_point):
    kwargs = dict(scale=scale, include_interest_point=include_interest_point)
    rows = msurf.dense(image, spacing, scale=scale, include_interest_point=True)
    assert_descriptors_equal(surf.dense(image, spacing, **kwargs),
                             msurf.dense(image, spacing, **kwargs), image.shape, rows)


def test_dense_on_nuclear(nuclear):
    rows = msurf.dense(nuclear, 24, include_interest_point=True)
    assert_descriptors_equal(surf.dense(nuclear, 24), msurf.dense(nuclear, 24), nuclear.shape,
                             rows)
    table = msurf.integral(nuclear)
    expected = msurf.dense(table, 32, is_integral=True, include_interest_point=True)
    assert_descriptors_equal(surf.dense(table, 32, is_integral=True, include_interest_point=True),
                             expected, nuclear.shape)


def test_dense_rejects_bad_spacing():
    with pytest.raises(ValueError, match="spacing"):
        surf.dense(np.zeros((20, 20)), 0.5)
    with pytest.raises(TypeError, match="spacing"):
        surf.dense(np.zeros((20, 20)), "wide")
    with pytest.raises(TypeError, match="spacing"):
        surf.dense(np.zeros((20, 20)), float("nan"))


# ------------------------------------------------------------------ show_surf

def test_show_surf_matches_mahotas(nuclear):
    points = msurf.surf(nuclear, max_points=200)
    np.testing.assert_array_equal(surf.show_surf(nuclear, points),
                                  msurf.show_surf(nuclear, points))
    values = np.arange(len(points)) % 3
    colors = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    np.testing.assert_array_equal(surf.show_surf(nuclear, points, values, colors),
                                  msurf.show_surf(nuclear, points, values, colors))
    # the colour image keeps the dtype of `f` until the final cast, as in mahotas
    as_float = nuclear / 3.
    np.testing.assert_array_equal(surf.show_surf(as_float, points),
                                  msurf.show_surf(as_float, points))


def test_show_surf_leaves_out_pixels_outside_the_image():
    # mahotas wraps negative coordinates round to the other side (or raises
    # IndexError past the end); karyo draws only the part inside the image.
    image = np.zeros((30, 30), np.uint8)
    points = np.zeros((1, 70))
    points[0, :3] = (2, 2, 2.0)
    drawn = surf.show_surf(image, points)
    assert drawn.shape == (30, 30, 3) and drawn.dtype == np.uint8
    assert drawn[..., 0].any()
    # mahotas's square spans [y - size/2, y + size]: here rows and columns -8..22
    assert drawn[22, :].any() and not drawn[23:, :].any() and not drawn[:, 23:].any()


def test_show_surf_rejects_bad_arguments():
    image = np.zeros((30, 30))
    points = np.zeros((2, 70))
    with pytest.raises(ValueError, match="spoints"):
        surf.show_surf(image, np.zeros((2, 5)))
    with pytest.raises(ValueError, match="colors"):
        surf.show_surf(image, points, values=[0, 1])
    with pytest.raises(ValueError, match="values"):
        surf.show_surf(image, points, values=[0, 5], colors=[(1, 2, 3)])
    with pytest.raises(ValueError, match="values"):
        surf.show_surf(image, points, values=[0], colors=[(1, 2, 3)])
    bad = points.copy()
    bad[0, 2] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        surf.show_surf(image, bad)
    bad[0, 2] = 1e12
    with pytest.raises(ValueError, match="far"):
        surf.show_surf(image, bad)


def test_module_layout_is_mahotas_s():
    from karyo.features import surf as module
    assert module is surf
    for name in ("integral", "interest_points", "descriptors", "surf", "dense", "show_surf"):
        assert callable(getattr(module, name))
