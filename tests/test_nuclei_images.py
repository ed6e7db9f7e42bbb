"""karyo.nuclei.images: lab files (channels, stacks, metadata) to the DNA plane."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest
import tifffile

import karyo.io as kio
from karyo import demos
from karyo.nuclei.batch import load_image, segment_many
from karyo.nuclei.images import ImageInputError, dna_plane, guess_axes, read_dna_image


@pytest.fixture(scope="module")
def dna() -> np.ndarray:
    """A corner of karyo's synthetic nuclei image: the DNA channel every file hides."""
    image = demos.load(demos.SYNTHETIC_NAME)
    return np.ascontiguousarray(image[:384, :512])


def decoy(dna: np.ndarray) -> np.ndarray:
    """Nuclei in other places: segmenting it instead of `dna` gives other labels."""
    return np.ascontiguousarray(np.fliplr(dna))


def dimmer_elsewhere(dna: np.ndarray) -> np.ndarray:
    """A z-slice no brighter than `dna` anywhere, whose nuclei are not dna's."""
    return np.minimum(dna, decoy(dna)) // 2


def write_ome(path, data, axes, **metadata):
    tifffile.imwrite(path, data, metadata={"axes": axes, **metadata})
    return path


def edit_ome(path, old: str, new: str) -> None:
    """Replace text in an OME-TIFF's XML (metadata that tifffile would not write)."""
    with tifffile.TiffFile(path) as tiff:
        xml = tiff.ome_metadata
    assert old in xml
    tifffile.tiffcomment(path, xml.replace(old, new).encode())


# ---------------------------------------------------------------- the files of the issue

def test_channel_first_imagej_hyperstack(tmp_path, dna):
    path = tmp_path / "hyperstack.tif"
    tifffile.imwrite(path, np.stack([decoy(dna), dna]), imagej=True,
                     metadata={"axes": "CYX", "unit": "um"}, resolution=(1 / 0.5, 1 / 0.5))
    plane = read_dna_image(path, channel=1)
    assert np.array_equal(plane.image, dna)
    assert (plane.axes, plane.channel, plane.pixel_size) == ("CYX", 1, pytest.approx(0.5))
    assert plane.pixel_size_from == "ImageJ metadata"
    with pytest.raises(ImageInputError, match=r"hyperstack.tif: 2 channels \(axes CYX"):
        read_dna_image(path)


def test_channel_last_tiff_without_metadata(tmp_path, dna):
    path = tmp_path / "last.tif"
    tifffile.imwrite(path, np.dstack([decoy(dna), dna]))
    plane = read_dna_image(path, channel=1, pixel_size=0.65)
    assert np.array_equal(plane.image, dna)
    assert plane.axes == "YXS" and plane.pixel_size == 0.65 and plane.pixel_size_from == "given"
    assert read_dna_image(path, channel=1).pixel_size is None


def test_zyx_stack_is_projected_unless_a_slice_is_asked(tmp_path, dna):
    path = tmp_path / "stack.tif"
    slices = np.stack([dimmer_elsewhere(dna), dna, dimmer_elsewhere(dna)])
    tifffile.imwrite(path, slices, imagej=True, metadata={"axes": "ZYX"})
    projected = read_dna_image(path)
    assert np.array_equal(projected.image, dna)
    assert (projected.z, projected.z_slices) == ("max", 3)
    assert "maximum projection of 3 z-slices" in projected.description
    assert np.array_equal(read_dna_image(path, z=0).image, slices[0])
    assert read_dna_image(path, z=2).description.endswith("z-slice 2 of 3")
    with pytest.raises(ImageInputError, match=r"stack.tif: `z` is 3 but the stack has 3"):
        read_dna_image(path, z=3)


def test_ome_channel_names_and_pixel_size(tmp_path, dna):
    path = write_ome(tmp_path / "named.ome.tif", np.stack([decoy(dna), dna, dna // 3 + 40]),
                     "CYX", Channel={"Name": ["Actin", "DAPI", "GFP"]},
                     PhysicalSizeX=325, PhysicalSizeXUnit="nm",
                     PhysicalSizeY=0.325, PhysicalSizeYUnit="µm")
    for name in ("DAPI", "dapi", 1):
        plane = read_dna_image(path, channel=name)
        assert np.array_equal(plane.image, dna), name
        assert (plane.channel, plane.channel_name) == (1, "DAPI")
        assert plane.pixel_size == pytest.approx(0.325)
        assert plane.pixel_size_from == "OME metadata"
    with pytest.raises(ImageInputError) as refused:
        read_dna_image(path, channel="Hoechst")
    assert str(refused.value) == (f"{path}: no channel named 'Hoechst' among its 3 channels: "
                                  "0 'Actin', 1 'DAPI', 2 'GFP' (axes CYX, shape (3, 384, 512))")


def test_time_series_needs_a_time_point(tmp_path, dna):
    path = tmp_path / "movie.tif"
    frames = np.stack([np.stack([decoy(dna), decoy(dna)]), np.stack([decoy(dna), dna])])
    tifffile.imwrite(path, frames, imagej=True, metadata={"axes": "TCYX"})
    with pytest.raises(ImageInputError, match=r"movie.tif: a time series of 2 time points "
                       r"\(axes TCYX, shape \(2, 2, 384, 512\)\); pass `time=N`"):
        read_dna_image(path, channel=1)
    plane = read_dna_image(path, channel=1, time=1)
    assert np.array_equal(plane.image, dna) and plane.settings == {"channel": 1, "time": 1}


def test_plain_multipage_tiff_asks_what_its_pages_are(tmp_path, dna):
    path = tmp_path / "pages.tif"
    tifffile.imwrite(path, np.stack([dimmer_elsewhere(dna), dna]))
    with pytest.raises(ImageInputError, match=r"pages.tif: 2 planes of unknown kind \(axes QYX"
                       r".*`channel=N` if they are channels, or `z='max'` or `z=N`"):
        read_dna_image(path)
    assert np.array_equal(read_dna_image(path, channel=1).image, dna)
    assert np.array_equal(read_dna_image(path, z="max").image, dna)


def test_grey_files_pass_unchanged(tmp_path, dna):
    from PIL import Image

    Image.fromarray(dna).save(tmp_path / "grey.png")
    Image.fromarray(np.dstack([dna] * 3)).save(tmp_path / "grey-as-rgb.png")
    tifffile.imwrite(tmp_path / "grey.tif", dna)
    for name in ("grey.png", "grey-as-rgb.png", "grey.tif"):
        plane = read_dna_image(tmp_path / name, channel=0)
        assert np.array_equal(plane.image, dna) and plane.pixel_size is None, name
        assert np.array_equal(load_image(tmp_path / name), dna), name


# ---------------------------------------------------------------- bad metadata

def _bad_metadata_files(folder, dna) -> dict:
    """Files whose metadata is wrong, and the words their one-line error must hold."""
    folder.mkdir(exist_ok=True)
    pair = np.stack([decoy(dna), dna])
    files = {}
    tifffile.imwrite(folder / "shaped-axes.tif", pair, metadata=None,
                     description='{"shape": [2, 384, 512], "axes": "CZYX"}')
    files["shaped-axes.tif"] = "metadata does not match its pixels"
    tifffile.imwrite(folder / "imagej-channels.tif", pair, metadata=None,
                     description="ImageJ=1.54f\nimages=2\nchannels=3\nhyperstack=true\n")
    files["imagej-channels.tif"] = "metadata does not match its pixels"
    write_ome(folder / "ome-size.ome.tif", pair, "CYX")
    edit_ome(folder / "ome-size.ome.tif", 'SizeC="2"', 'SizeC="3"')
    files["ome-size.ome.tif"] = "metadata does not match its pixels"
    for name, value, words in (("negative", "-0.5", "-0.5 µm; a pixel size must be positive"),
                               ("zero", "0", "0 µm; a pixel size must be positive"),
                               ("empty", "", "'', not a number")):
        path = write_ome(folder / f"{name}.ome.tif", pair, "CYX", PhysicalSizeX=0.5,
                         PhysicalSizeY=0.5)
        edit_ome(path, 'PhysicalSizeX="0.5"', f'PhysicalSizeX="{value}"')
        files[path.name] = f"OME PhysicalSizeX is {words}"
    write_ome(folder / "oblong.ome.tif", pair, "CYX", PhysicalSizeX=0.5, PhysicalSizeY=0.6)
    files["oblong.ome.tif"] = "pixels are not square (0.5 x 0.6 µm"
    write_ome(folder / "furlong.ome.tif", pair, "CYX", PhysicalSizeX=1, PhysicalSizeY=1,
              PhysicalSizeXUnit="furlong", PhysicalSizeYUnit="furlong")
    files["furlong.ome.tif"] = "in 'furlong', not a length unit"
    tifffile.imwrite(folder / "uncalibrated.tif", pair, imagej=True,
                     metadata={"axes": "CYX", "unit": "micron"}, resolution=(0, 0))
    files["uncalibrated.tif"] = "has no pixel size (X resolution 0)"
    return files


def test_bad_metadata_is_one_line_naming_the_file(tmp_path, dna):
    for name, words in _bad_metadata_files(tmp_path, dna).items():
        with pytest.raises(ImageInputError) as refused:
            # damaged axes are read anyway once the caller says what the pages are
            read_dna_image(tmp_path / name, channel=None if "not match" in words else 1)
        message = str(refused.value)
        assert message.startswith(f"{tmp_path / name}: ") and "\n" not in message, message
        assert words in message, (name, message)


def test_pages_of_damaged_metadata_are_read_when_the_caller_says_what_they_are(tmp_path, dna):
    _bad_metadata_files(tmp_path, dna)
    for name in ("shaped-axes.tif", "imagej-channels.tif", "ome-size.ome.tif"):
        assert np.array_equal(read_dna_image(tmp_path / name, channel=1).image, dna), name
        assert np.array_equal(read_dna_image(tmp_path / name, z=1).image, dna), name


def test_given_pixel_size_overrides_bad_metadata(tmp_path, dna):
    _bad_metadata_files(tmp_path, dna)
    plane = read_dna_image(tmp_path / "negative.ome.tif", channel=1, pixel_size=0.2)
    assert np.array_equal(plane.image, dna) and plane.pixel_size == 0.2
    with pytest.raises(ValueError, match="`pixel_size` must be a positive number"):
        read_dna_image(tmp_path / "negative.ome.tif", channel=1, pixel_size=-0.2)
    with pytest.raises(TypeError, match="`pixel_size`"):
        read_dna_image(tmp_path / "negative.ome.tif", channel=1, pixel_size="0.2")


def test_too_many_pixels_are_refused_before_reading_naming_file_count_and_limit(tmp_path):
    from test_io import _png_claiming, _tiff_claiming

    _tiff_claiming(tmp_path / "bomb.tif", 60_000, 60_000)
    _png_claiming(tmp_path / "bomb.png", 100_000, 100_000)
    for name, pixels in (("bomb.tif", 3_600_000_000), ("bomb.png", 10_000_000_000)):
        with pytest.raises(kio.ImageTooLargeError) as refused:
            read_dna_image(tmp_path / name)
        message = str(refused.value)
        assert str(tmp_path / name) in message and "\n" not in message, message
        assert f"{pixels} pixels" in message and f"limit of {kio.MAX_PIXELS}" in message


def test_the_pixel_limit_is_karyo_ios_and_counts_every_plane(tmp_path, dna, monkeypatch):
    stack = np.stack([dna[:32, :32]] * 6).reshape(3, 2, 32, 32)
    tifffile.imwrite(tmp_path / "hyper.tif", stack, imagej=True, metadata={"axes": "ZCYX"})
    tifffile.imwrite(tmp_path / "pages.tif", stack.reshape(6, 32, 32))
    tifffile.imwrite(tmp_path / "rgb.tif", np.zeros((32, 32, 3), np.uint8), photometric="rgb")
    monkeypatch.setattr(kio, "MAX_PIXELS", 6 * 32 * 32 - 1)
    for name, kwargs in (("hyper.tif", {"channel": 1}), ("pages.tif", {"z": 0})):
        with pytest.raises(kio.ImageTooLargeError, match=f"claims {6 * 32 * 32} pixels"):
            read_dna_image(tmp_path / name, **kwargs)
    assert read_dna_image(tmp_path / "rgb.tif").image.shape == (32, 32)  # samples are not pixels
    monkeypatch.setattr(kio, "MAX_PIXELS", 6 * 32 * 32)
    assert np.array_equal(read_dna_image(tmp_path / "hyper.tif", channel=1, z=2).image,
                          dna[:32, :32])

# ---------------------------------------------------------------- arrays: the one channel rule

@pytest.mark.parametrize(("shape", "axes"), [
    ((64, 80), "YX"), ((64, 80, 3), "YXS"), ((64, 80, 4), "YXS"), ((64, 80, 2), "YXS"),
    ((3, 64, 80), "QYX"), ((64, 80, 5), "QYX"), ((4, 64, 80, 3), "QYXS"), ((3, 3, 3), "QYX"),
])
def test_guess_axes(shape, axes):
    assert guess_axes(shape) == axes


def test_colour_rule_and_alpha():
    grey = np.arange(42, dtype=np.uint8).reshape(6, 7)
    assert np.array_equal(dna_plane(np.dstack([grey] * 3)).image, grey)
    assert np.array_equal(dna_plane(np.dstack([grey, grey, grey, grey * 0 + 255])).image, grey)
    assert np.array_equal(dna_plane(np.dstack([grey, grey * 0 + 255])).image, grey)
    # equal channels on a channel axis are one channel too (no alpha there)
    assert dna_plane(np.stack([grey, grey]), "CYX").channel == 0
    with pytest.raises(ImageInputError, match=r"image: 3 colour channels \(axes YXS, shape "
                       r"\(6, 7, 3\)\); pass `channel=N` or `channel='NAME'`"):
        dna_plane(np.dstack([grey, grey, grey * 0]))


@pytest.mark.parametrize(("array", "kwargs", "error", "words"), [
    (np.zeros((2, 4, 5)), {"axes": "CYX", "channel": 2}, ImageInputError,
     "`channel` is 2 but the image has 2 channels (0 to 1)"),
    (np.zeros((4, 5)), {"channel": 1}, ImageInputError, "has a single channel"),
    (np.zeros((4, 5)), {"channel": "DAPI"}, ImageInputError, "its metadata names no channels"),
    (np.zeros((2, 4, 5)), {"axes": "CYX", "channel": "DAPI"}, ImageInputError,
     "its metadata names no channels (axes CYX, shape (2, 4, 5)); pass `channel=N` (0 to 1)"),
    (np.zeros((4, 5)), {"z": 2}, ImageInputError, "`z` is 2 but the image has no z-stack"),
    (np.zeros((4, 5)), {"time": 1}, ImageInputError, "`time` is 1 but there is a single"),
    (np.zeros((2, 4, 5)), {"axes": "CZYX"}, ImageInputError,
     "the axes 'CZYX' do not match the shape (2, 4, 5)"),
    (np.zeros((2, 4, 5)), {"axes": "YYX"}, ImageInputError, "do not match the shape"),
    (np.zeros((3, 4, 5)), {"axes": "RYX"}, ImageInputError,
     "3 tiles (axis R; axes RYX, shape (3, 4, 5)); karyo segments one 2-D image per file"),
    (np.zeros((2, 3, 4, 5)), {}, ImageInputError, "2 axes of unknown kind"),
    (np.zeros((2, 4, 5, 3)), {"axes": "CYXS", "channel": 0}, ImageInputError,
     "both channels (C) and colour samples (S)"),
    (np.zeros((2, 4, 5)), {"axes": "CYX", "channel": 1.0}, TypeError, "`channel` must be an int"),
    (np.zeros((2, 4, 5)), {"axes": "CYX", "channel": True}, TypeError, "`channel`"),
    (np.zeros((2, 4, 5)), {"axes": "ZYX", "z": "top"}, ValueError, "'max'"),
    (np.zeros((2, 4, 5)), {"axes": "ZYX", "z": -1}, ValueError, "`z` must be 0 or more"),
    (np.array([["a"]]), {}, TypeError, "dtype"),
    (np.zeros(5), {}, ValueError, "dimensions"),
])
def test_refusals(array, kwargs, error, words):
    with pytest.raises(error) as refused:
        dna_plane(array, **kwargs)
    assert words in str(refused.value)


def test_size_one_axes_and_xy_order_and_bool():
    plane = dna_plane(np.arange(20).reshape(1, 1, 4, 5, 1), "TCYXS")
    assert plane.image.shape == (4, 5) and plane.channel is None and plane.settings == {}
    assert np.array_equal(dna_plane(np.arange(20).reshape(5, 4), "XY").image,
                          np.arange(20).reshape(5, 4).T)
    assert dna_plane(np.ones((4, 5), bool)).image.dtype == np.uint8


def test_z_projection_keeps_the_dtype():
    stack = np.zeros((3, 4, 5), np.uint16)
    stack[0, 0, 0], stack[2, 3, 4] = 70000 % 65536, 9
    plane = dna_plane(stack, "ZYX")
    assert plane.image.dtype == np.uint16
    assert plane.image[0, 0] == stack[0, 0, 0] and plane.image[3, 4] == 9


# ---------------------------------------------------------------- vendor files through bioio

def test_vendor_file_without_bioio_names_the_extra(tmp_path, monkeypatch):
    path = tmp_path / "well.nd2"
    path.write_bytes(b"not really nd2")
    monkeypatch.setitem(sys.modules, "bioio", None)  # import bioio raises ImportError
    with pytest.raises(ImageInputError) as refused:
        read_dna_image(path)
    assert str(refused.value) == (f"{path}: reading ND2 (Nikon) files needs bioio and its "
                                  "readers: pip install 'karyo[vendor]'")


def _fake_bioio(data, order, names, sizes):
    """A module standing in for bioio: BioImage with bioio's attributes."""
    class BioImage:
        def __init__(self, path):
            self.data = data
            self.dims = types.SimpleNamespace(order=order)
            self.channel_names = names
            self.physical_pixel_sizes = types.SimpleNamespace(Z=2.0, Y=sizes[0], X=sizes[1])

    return types.SimpleNamespace(BioImage=BioImage)


def test_vendor_file_through_bioio(tmp_path, monkeypatch, dna):
    path = tmp_path / "well.czi"
    path.write_bytes(b"stand-in")
    data = np.stack([np.stack([decoy(dna), dimmer_elsewhere(dna)]),
                     np.stack([dimmer_elsewhere(dna), dna])])[None]  # TCZYX, C=2, Z=2
    monkeypatch.setitem(sys.modules, "bioio", _fake_bioio(data, "TCZYX", ["FITC", "Hoechst 33342"],
                                                          (0.1, 0.1)))
    with pytest.raises(ImageInputError, match=r"well.czi: 2 channels \(axes TCZYX, shape "
                       r"\(1, 2, 2, 384, 512\)\): 0 'FITC', 1 'Hoechst 33342'; pass"):
        read_dna_image(path)
    plane = read_dna_image(path, channel="hoechst 33342")
    assert np.array_equal(plane.image, dna)
    assert (plane.channel, plane.z, plane.pixel_size, plane.pixel_size_from) == \
        (1, "max", 0.1, "bioio")
    monkeypatch.setitem(sys.modules, "bioio", _fake_bioio(data, "TCZYX", None, (0.1, -0.1)))
    with pytest.raises(ImageInputError, match="well.czi: its pixel size along X is -0.1 µm"):
        read_dna_image(path, channel=1)


# ---------------------------------------------------------------- the batch reads through it

def test_segment_many_reads_channels_and_pixel_size(tmp_path, dna):
    from karyo.nuclei.segment import segment

    path = write_ome(tmp_path / "named.ome.tif", np.stack([decoy(dna), dna]), "CYX",
                     Channel={"Name": ["Actin", "DAPI"]}, PhysicalSizeX=0.4, PhysicalSizeY=0.4)
    [result] = segment_many([path], jobs=1, settings={"channel": "DAPI", "diameter": [30, 120]})
    assert result.ok, result.error
    assert np.array_equal(result.labels, segment(dna, diameter=[30, 120]).labels)
    assert result.pixel_size == 0.4 and result.settings["pixel_size"] == 0.4
    assert result.settings["channel"] == 1
    assert result.input == ("axes CYX (2, 384, 512): channel 1 (DAPI), pixel size 0.4 µm "
                            "(OME metadata)")
    [refused] = segment_many([path], jobs=1, settings={"diameter": [30, 120]})
    assert refused.error.startswith(f"ImageInputError: {path}: 2 channels (axes CYX")
