"""karyo.io against mahotas.io (its Pillow backend), Pillow, tifffile and OpenCV."""

from __future__ import annotations

import os
import struct
import zlib

import cv2
import mahotas
import numpy as np
import pytest
import tifffile
from conftest import U2OS, u2os_names
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

import karyo.io as kio

# (dtype, channels) that each format stores losslessly through Pillow
PNG_CASES = [(np.uint8, 0), (np.uint8, 3), (np.uint8, 4), (np.uint16, 0), (np.bool_, 0)]
TIFF_DTYPES = [np.uint8, np.uint16, np.int16, np.uint32, np.int32, np.float32, np.float64]


def image_arrays(dtype, channels: int, max_side: int = 12):
    shape = st.tuples(st.integers(1, max_side), st.integers(1, max_side))
    if channels:
        shape = shape.map(lambda hw: (*hw, channels))
    return hnp.arrays(dtype, shape, elements=_elements(dtype))


def _elements(dtype):
    if np.dtype(dtype).kind == "f":
        return st.floats(-1e6, 1e6, width=np.dtype(dtype).itemsize * 8)
    return None


def mahotas_imread(path, as_grey=False):
    """mahotas.imread (the Pillow backend when the imread package is absent)."""
    return mahotas.imread(str(path), as_grey=as_grey)


@pytest.mark.parametrize("dtype,channels", PNG_CASES)
@settings(max_examples=15)
@given(data=st.data())
def test_png_round_trip_and_matches_mahotas(tmp_path_factory, dtype, channels, data):
    image = data.draw(image_arrays(dtype, channels))
    path = tmp_path_factory.mktemp("png") / "image.png"
    kio.imsave(path, image)
    read = kio.imread(path)
    assert read.dtype == image.dtype and np.array_equal(read, image)
    expected = mahotas_imread(path)
    assert read.dtype == expected.dtype and np.array_equal(read, expected)


@pytest.mark.parametrize("dtype", TIFF_DTYPES)
@settings(max_examples=15)
@given(data=st.data())
def test_tiff_round_trip_and_matches_tifffile(tmp_path_factory, dtype, data):
    pages = data.draw(st.integers(1, 3))
    shape = (pages, *data.draw(st.tuples(st.integers(1, 10), st.integers(1, 10))))
    image = data.draw(hnp.arrays(dtype, shape, elements=_elements(dtype)))
    if pages == 1:
        image = image[0]
    path = tmp_path_factory.mktemp("tif") / "image.tif"
    kio.imsave(path, image)
    read = kio.imread(path)
    assert read.dtype == image.dtype and read.shape == image.shape
    np.testing.assert_array_equal(read, image)
    np.testing.assert_array_equal(read, tifffile.imread(path))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_single_page_tiff_matches_mahotas(tmp_path, dtype):
    image = np.random.default_rng(0).integers(0, 200, (17, 23)).astype(dtype)
    path = tmp_path / "page.tif"
    tifffile.imwrite(path, image)
    np.testing.assert_array_equal(kio.imread(path), mahotas_imread(path))


def test_multipage_tiff_is_a_stack(tmp_path):
    # mahotas's Pillow backend reads only the first page; karyo returns every
    # page, as imageio.mimread and tifffile do
    stack = np.random.default_rng(1).integers(0, 60000, (4, 9, 11), dtype=np.uint16)
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, stack, photometric="minisblack")
    read = kio.imread(path)
    np.testing.assert_array_equal(read, stack)
    np.testing.assert_array_equal(read[0], mahotas_imread(path))


def test_rgb_tiff_and_as_grey(tmp_path):
    rgb = np.random.default_rng(2).integers(0, 256, (8, 10, 3), dtype=np.uint8)
    path = tmp_path / "rgb.tif"
    tifffile.imwrite(path, rgb, photometric="rgb")
    np.testing.assert_array_equal(kio.imread(path), rgb)
    np.testing.assert_array_equal(kio.imread(path, as_grey=True),
                                  mahotas_imread(path, as_grey=True))


@pytest.mark.parametrize("byteorder", ["<", ">"])
@pytest.mark.parametrize("dtype", [np.uint16, np.float32])
def test_tiff_byte_orders_give_native_arrays(tmp_path, byteorder, dtype):
    image = np.arange(30, dtype=dtype).reshape(5, 6) * 3
    path = tmp_path / "ordered.tif"
    tifffile.imwrite(path, image, byteorder=byteorder)
    read = kio.imread(path)
    assert read.dtype.isnative and read.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(read, image)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".bmp", ".tif"])
def test_reads_what_opencv_writes(tmp_path, suffix):
    grey = np.random.default_rng(3).integers(0, 256, (21, 13), dtype=np.uint8)
    path = tmp_path / f"cv{suffix}"
    assert cv2.imwrite(str(path), grey)
    expected = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(kio.imread(path), expected)


def test_lzw_tiff_stack_without_imagecodecs(tmp_path):
    # LZW is OpenCV's and ImageJ's default TIFF compression; tifffile needs the
    # optional imagecodecs for it, so karyo decodes such files with Pillow
    stack = np.random.default_rng(8).integers(0, 4000, (3, 12, 9), dtype=np.uint16)
    frames = [Image.fromarray(page) for page in stack]
    path = tmp_path / "lzw.tif"
    frames[0].save(path, save_all=True, append_images=frames[1:], compression="tiff_lzw")
    np.testing.assert_array_equal(kio.imread(path), stack)


def test_jpeg_matches_mahotas(tmp_path):
    rgb = np.random.default_rng(4).integers(0, 256, (32, 48, 3), dtype=np.uint8)
    path = tmp_path / "photo.jpg"
    Image.fromarray(rgb).save(path, quality=90)
    np.testing.assert_array_equal(kio.imread(path), mahotas_imread(path))
    grey = kio.imread(path, as_grey=True)
    assert grey.dtype == np.float64
    np.testing.assert_array_equal(grey, mahotas_imread(path, as_grey=True))


@settings(max_examples=20)
@given(rgb=image_arrays(np.uint8, 3))
def test_as_grey_matches_mahotas(tmp_path_factory, rgb):
    path = tmp_path_factory.mktemp("grey") / "rgb.png"
    Image.fromarray(rgb).save(path)
    np.testing.assert_array_equal(kio.imread(path, as_grey=True),
                                  mahotas_imread(path, as_grey=True))


def test_as_grey_drops_alpha(tmp_path):
    # mahotas's rgb2grey raises on 4 channels; karyo weighs R, G, B and
    # ignores alpha, so RGBA gives the same grey as its RGB part
    rgba = np.random.default_rng(5).integers(0, 256, (6, 7, 4), dtype=np.uint8)
    Image.fromarray(rgba).save(tmp_path / "rgba.png")
    Image.fromarray(rgba[..., :3].copy()).save(tmp_path / "rgb.png")
    np.testing.assert_array_equal(kio.imread(tmp_path / "rgba.png", as_grey=True),
                                  mahotas_imread(tmp_path / "rgb.png", as_grey=True))


def test_as_grey_leaves_grey_images_alone(tmp_path):
    grey = np.arange(20, dtype=np.uint16).reshape(4, 5) * 1000
    kio.imsave(tmp_path / "grey.png", grey)
    read = kio.imread(tmp_path / "grey.png", as_grey=True)
    expected = mahotas_imread(tmp_path / "grey.png", as_grey=True)
    assert read.dtype == expected.dtype == np.uint16
    np.testing.assert_array_equal(read, expected)


@pytest.mark.parametrize("make_view", [
    lambda a: a[::2, ::3], lambda a: np.asfortranarray(a), lambda a: a.astype(">u2"),
    lambda a: _read_only(a)], ids=["strided", "fortran", "big-endian", "read-only"])
def test_imsave_accepts_any_layout(tmp_path, make_view):
    image = np.random.default_rng(6).integers(0, 60000, (20, 30)).astype(np.uint16)
    view = make_view(image)
    for suffix in (".png", ".tif"):
        kio.imsave(tmp_path / f"view{suffix}", view)
        np.testing.assert_array_equal(kio.imread(tmp_path / f"view{suffix}"), view)


def _read_only(array):
    array = array.copy()
    array.flags.writeable = False
    return array


def test_imread_returns_writeable_arrays(tmp_path):
    kio.imsave(tmp_path / "a.png", np.zeros((3, 3), np.uint8))
    assert kio.imread(tmp_path / "a.png").flags.writeable


@pytest.mark.skipif(not u2os_names(), reason="the U2OS collection is not present")
@pytest.mark.parametrize("name", u2os_names()[:2])
def test_real_images_match_mahotas(name):
    path = U2OS / "images" / name
    np.testing.assert_array_equal(kio.imread(path), mahotas_imread(path))
    np.testing.assert_array_equal(kio.imread(path, as_grey=True),
                                  mahotas_imread(path, as_grey=True))


# ---------------------------------------------------------------- bad files

def _assert_names_file(error, path):
    message = str(error.value)
    assert str(path) in message and "karyo.imread" in message and "\n" not in message


def test_missing_file(tmp_path):
    path = tmp_path / "absent.png"
    with pytest.raises(FileNotFoundError) as error:
        kio.imread(path)
    _assert_names_file(error, path)


def test_directory(tmp_path):
    with pytest.raises(IsADirectoryError) as error:
        kio.imread(tmp_path)
    _assert_names_file(error, tmp_path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    with pytest.raises(kio.ImageReadError, match="empty") as error:
        kio.imread(path)
    _assert_names_file(error, path)
    assert isinstance(error.value, ValueError) and isinstance(error.value, OSError)


def test_text_file_named_png(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("these are not pixels\n")
    with pytest.raises(kio.ImageReadError, match="not an image") as error:
        kio.imread(path)
    _assert_names_file(error, path)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tif"])
def test_truncated_file(tmp_path, suffix):
    image = np.random.default_rng(7).integers(0, 256, (64, 64), dtype=np.uint8)
    whole = tmp_path / f"whole{suffix}"
    kio.imsave(whole, image)
    data = whole.read_bytes()
    path = tmp_path / f"truncated{suffix}"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(kio.ImageReadError) as error:
        kio.imread(path)
    _assert_names_file(error, path)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root reads files whatever their permissions")
def test_unreadable_file(tmp_path):
    path = tmp_path / "secret.png"
    kio.imsave(path, np.zeros((2, 2), np.uint8))
    path.chmod(0)
    with pytest.raises(PermissionError) as error:
        kio.imread(path)
    _assert_names_file(error, path)


def test_permission_error_is_reported_with_the_file(tmp_path, monkeypatch):
    # the same path as test_unreadable_file, reachable when tests run as root
    path = tmp_path / "secret.png"
    kio.imsave(path, np.zeros((2, 2), np.uint8))

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(kio.image_files, "open", refuse, raising=False)
    with pytest.raises(PermissionError) as error:
        kio.imread(path)
    _assert_names_file(error, path)


def _png_claiming(path, width: int, height: int) -> None:
    """A valid tiny PNG whose header claims width x height pixels."""
    kio.imsave(path, np.zeros((4, 4), np.uint8))
    data = bytearray(path.read_bytes())
    header = bytearray(data[12:29])  # 'IHDR' + 13 bytes of fields
    header[4:12] = struct.pack(">II", width, height)
    data[12:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(header)))
    path.write_bytes(bytes(data))


def _tiff_claiming(path, width: int, height: int) -> None:
    """A tiny uncompressed TIFF whose ImageWidth/ImageLength claim more."""
    tifffile.imwrite(path, np.zeros((4, 4), np.uint8))
    data = bytearray(path.read_bytes())
    assert data[:2] == b"II"
    offset = struct.unpack_from("<I", data, 4)[0]
    count = struct.unpack_from("<H", data, offset)[0]
    for entry in range(count):
        position = offset + 2 + 12 * entry
        tag, kind = struct.unpack_from("<HH", data, position)
        if tag in (256, 257):
            value = width if tag == 256 else height
            struct.pack_into("<I" if kind == 4 else "<H", data, position + 8, value)
    path.write_bytes(bytes(data))


def test_decompression_bomb_png_is_refused(tmp_path):
    path = tmp_path / "bomb.png"
    _png_claiming(path, 100_000, 100_000)
    with pytest.raises(kio.ImageTooLargeError, match="10000000000 pixels") as error:
        kio.imread(path)
    _assert_names_file(error, path)


def test_decompression_bomb_tiff_is_refused(tmp_path):
    path = tmp_path / "bomb.tif"
    _tiff_claiming(path, 60_000, 60_000)
    with pytest.raises(kio.ImageTooLargeError) as error:
        kio.imread(path)
    _assert_names_file(error, path)


def test_pixel_limit_is_configurable(tmp_path, monkeypatch):
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, np.zeros((3, 10, 10), np.uint8), photometric="minisblack")
    with pytest.raises(kio.ImageTooLargeError):
        kio.imread(path, max_pixels=299)
    assert kio.imread(path, max_pixels=300).shape == (3, 10, 10)
    monkeypatch.setattr(kio, "MAX_PIXELS", 299)
    with pytest.raises(kio.ImageTooLargeError):
        kio.imread(path)
    png = tmp_path / "a.png"
    kio.imsave(png, np.zeros((10, 10), np.uint8))
    assert kio.imread(png).shape == (10, 10)
    monkeypatch.setattr(kio, "MAX_PIXELS", 99)
    with pytest.raises(kio.ImageTooLargeError):
        kio.imread(png)


def test_images_beyond_pillows_own_limit_are_read_under_ours(tmp_path, monkeypatch):
    # Pillow refuses images past 2 * Image.MAX_IMAGE_PIXELS; karyo applies
    # its own, larger limit instead, and leaves Pillow's setting as it was
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10)
    path = tmp_path / "big.png"
    image = np.arange(100, dtype=np.uint8).reshape(10, 10)
    kio.imsave(path, image)
    np.testing.assert_array_equal(kio.imread(path), image)
    assert Image.MAX_IMAGE_PIXELS == 10


# ------------------------------------------------------------ bad arguments

@pytest.mark.parametrize("max_pixels", [0, -5, 2.5, True])
def test_bad_max_pixels(tmp_path, max_pixels):
    kio.imsave(tmp_path / "a.png", np.zeros((2, 2), np.uint8))
    with pytest.raises(ValueError, match="max_pixels"):
        kio.imread(tmp_path / "a.png", max_pixels=max_pixels)


def test_bad_filename_type():
    with pytest.raises(TypeError, match="filename"):
        kio.imread(42)
    with pytest.raises(TypeError, match="filename"):
        kio.imsave(42, np.zeros((2, 2), np.uint8))


def test_imsave_refuses_what_the_format_cannot_hold(tmp_path):
    with pytest.raises(ValueError, match="float64") as error:
        kio.imsave(tmp_path / "float.png", np.zeros((3, 3)))
    assert "float.png" in str(error.value)
    with pytest.raises(ValueError, match="uint16"):
        kio.imsave(tmp_path / "deep.jpg", np.zeros((3, 3), np.uint16))
    with pytest.raises(TypeError, match="array"):
        kio.imsave(tmp_path / "complex.tif", np.zeros((3, 3), complex))
    with pytest.raises(ValueError, match="array"):
        kio.imsave(tmp_path / "line.png", np.zeros(5, np.uint8))
    with pytest.raises(ValueError, match="unknown"):
        kio.imsave(tmp_path / "image.nosuchformat", np.zeros((3, 3), np.uint8))


def test_imsave_into_missing_directory(tmp_path):
    path = tmp_path / "no" / "such" / "dir.png"
    with pytest.raises(FileNotFoundError) as error:
        kio.imsave(path, np.zeros((3, 3), np.uint8))
    assert str(path) in str(error.value)


@pytest.mark.parametrize("name", ["error_imread", "error_imsave"])
def test_error_stand_ins_raise_import_error_like_mahotas(name):
    # mahotas.io binds imread/imsave to these when no image library imports
    import mahotas.io

    with pytest.raises(ImportError):
        getattr(mahotas.io, name)("image.png")
    with pytest.raises(ImportError, match="pillow"):
        getattr(kio, name)("image.png", np.zeros((2, 2)), as_grey=True)


# --- karyo.io.pil: the Pillow-only reader and writer of mahotas.io.pil ---------------


@pytest.mark.parametrize("dtype,channels", PNG_CASES)
@settings(max_examples=10)
@given(data=st.data())
def test_pil_round_trip_matches_mahotas_pil(tmp_path_factory, dtype, channels, data):
    import mahotas.io.pil

    from karyo.io import pil

    image = data.draw(image_arrays(dtype, channels))
    path = tmp_path_factory.mktemp("pil") / "image.png"
    pil.imsave(path, image)
    np.testing.assert_array_equal(pil.imread(path), image)
    np.testing.assert_array_equal(pil.imread(path), mahotas.io.pil.imread(str(path)))
    if channels == 3:
        np.testing.assert_array_equal(pil.imread(path, as_grey=True),
                                      mahotas.io.pil.imread(str(path), as_grey=True))
    elif channels == 4:
        # mahotas.io.pil refuses RGBA here; karyo drops alpha, as karyo.io.imread does
        np.testing.assert_array_equal(pil.imread(path, as_grey=True),
                                      kio.imread(path, as_grey=True))


def test_pil_reads_tiff_through_pillow_as_mahotas_pil(tmp_path):
    # unlike karyo.io.imread (tifffile), Pillow gives a multi-page TIFF's first page
    import mahotas.io.pil

    from karyo.io import pil

    stack = np.random.default_rng(0).integers(0, 60000, (4, 5, 7)).astype(np.uint16)
    tifffile.imwrite(tmp_path / "stack.tif", stack, photometric="minisblack")
    np.testing.assert_array_equal(pil.imread(tmp_path / "stack.tif"), stack[0])
    np.testing.assert_array_equal(pil.imread(tmp_path / "stack.tif"),
                                  mahotas.io.pil.imread(str(tmp_path / "stack.tif")))
    assert kio.imread(tmp_path / "stack.tif").shape == stack.shape
    pil.imsave(tmp_path / "plane.tif", stack[1])
    np.testing.assert_array_equal(Image.open(tmp_path / "plane.tif"), stack[1])


def test_pil_errors_name_the_file(tmp_path):
    from karyo.io import pil

    with pytest.raises(FileNotFoundError, match="missing.png"):
        pil.imread(tmp_path / "missing.png")
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(kio.ImageReadError, match="text.png"):
        pil.imread(tmp_path / "text.png")
    with pytest.raises(ValueError, match="cannot store"):
        pil.imsave(tmp_path / "x.png", np.zeros((2, 2), np.float64))


def test_freeimage_import_raises_oserror_as_mahotas_without_the_library():
    # mahotas raises OSError where FreeImage is absent; karyo never binds it
    with pytest.raises(OSError, match="karyo.io.imread"):
        from karyo.io import freeimage  # noqa: F401
