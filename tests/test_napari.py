"""karyo's napari plugin, headless: manifest, reader, writer and widget function (no Qt)."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile
from test_nuclei_images import decoy, write_ome

from karyo import demos
from karyo.napari.reader import get_reader, read_output_folder
from karyo.napari.widget import segment_nuclei
from karyo.napari.writer import write_labels
from karyo.nuclei.outputs import read_label_tiff
from karyo.nuclei.segment import segment

npe2 = pytest.importorskip("npe2")
MANIFEST = Path(__file__).resolve().parents[1] / "src" / "karyo" / "napari" / "napari.yaml"
NPE2 = str(Path(sys.executable).with_name("npe2"))
DIAMETER = [30, 120]


@pytest.fixture(scope="module")
def dna() -> np.ndarray:
    return np.ascontiguousarray(demos.load(demos.SYNTHETIC_NAME)[:384, :512])


@pytest.fixture
def plugin_manager():
    """npe2's global plugin manager with karyo's manifest (registered from the file if need be)."""
    manager = npe2.PluginManager.instance()
    registered = False
    try:
        manager.get_manifest("karyo")
    except KeyError:
        manager.register(npe2.PluginManifest.from_file(MANIFEST))
        registered = True
    yield manager
    if registered:
        manager.unregister("karyo")


@pytest.fixture
def output_folder(tmp_path, dna) -> Path:
    """A karyo run on a two-channel OME-TIFF with a pixel size: the folder a user opens."""
    from karyo.nuclei.run import segment_folder

    source = write_ome(tmp_path / "plate.ome.tif", np.stack([decoy(dna), dna]), "CYX",
                       Channel={"Name": ["Actin", "DAPI"]}, PhysicalSizeX=0.325,
                       PhysicalSizeY=0.325)
    segment_folder([source], tmp_path / "out", jobs=1,
                   settings={"channel": "DAPI", "diameter": DIAMETER})
    return tmp_path / "out"


# ---------------------------------------------------------------- the manifest

def test_manifest_validates_with_its_imports():
    checked = subprocess.run([NPE2, "validate", "--imports", str(MANIFEST)],
                             capture_output=True, text=True, timeout=300)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "valid" in checked.stdout.lower()


def test_entry_point_names_the_manifest():
    [entry] = [entry for entry in importlib.metadata.entry_points(group="napari.manifest")
               if entry.name == "karyo"]
    assert entry.value == "karyo.napari:napari.yaml"


def _editable_install() -> bool:
    # meson-python's editable loader serves modules from a virtual path where npe2,
    # which looks for the manifest file on disk beside the package, cannot see it.
    import karyo.napari

    return not all(Path(location).is_dir() for location in karyo.napari.__path__)


@pytest.mark.skipif(_editable_install(), reason="an editable (meson-python) install hides "
                    "napari.yaml from npe2's discovery; a wheel install finds it")
def test_npe2_validate_by_distribution_name():
    checked = subprocess.run([NPE2, "validate", "karyo"], capture_output=True, text=True,
                             timeout=300)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_library_does_not_import_napari():
    code = ("import sys, karyo, karyo.nuclei, karyo.nuclei.images, karyo.cli; "
            "print('napari' in sys.modules)")
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert ran.stdout.strip() == "False", ran.stderr


# ---------------------------------------------------------------- reader

def test_reader_gives_image_and_labels_with_their_table(output_folder, dna):
    assert get_reader(str(output_folder)) is read_output_folder
    assert get_reader(str(output_folder / "summary.csv")) is None
    assert get_reader([str(output_folder), str(output_folder)]) is None
    [(image, image_meta, image_kind), (labels, labels_meta, labels_kind)] = \
        read_output_folder(str(output_folder))
    assert (image_kind, labels_kind) == ("image", "labels")
    assert np.array_equal(image, dna)  # the DAPI channel the run used, read again
    expected = segment(dna, diameter=DIAMETER).labels
    assert np.array_equal(labels, expected)
    assert image_meta["scale"] == labels_meta["scale"] == (0.325, 0.325)
    features = labels_meta["features"]
    assert features["index"].tolist() == list(range(1, int(expected.max()) + 1))
    assert features["area"].tolist() == np.bincount(expected.ravel())[1:].tolist()
    assert np.allclose(features["area_um2"], features["area"] * 0.325 ** 2)


def test_reader_through_npe2_and_into_a_viewer(output_folder, plugin_manager, dna):
    from napari.components import ViewerModel
    from napari.layers import Layer

    layer_data = npe2.read([str(output_folder)], stack=False, plugin_name="karyo")
    viewer = ViewerModel()
    for data, attributes, kind in layer_data:
        viewer.layers.append(Layer.create(data, attributes, kind))
    assert [layer.name for layer in viewer.layers] == ["plate.ome", "plate.ome nuclei"]
    nuclei = viewer.layers["plate.ome nuclei"]
    label = int(nuclei.data[nuclei.data > 0][0])
    row = nuclei.features[nuclei.features["index"] == label]
    assert int(row["area"].iloc[0]) == int((nuclei.data == label).sum())


# ---------------------------------------------------------------- writer

def test_writer_directly_and_through_npe2(tmp_path, plugin_manager):
    labels = np.zeros((20, 30), np.int32)
    labels[2:8, 3:9], labels[10:15, 20:28] = 1, 2
    [path] = write_labels(str(tmp_path / "direct.tif"), labels, {"name": "nuclei"})
    written, metadata = read_label_tiff(path)
    assert np.array_equal(written, labels) and metadata == {"layer": "nuclei", "count": 2}
    paths = npe2.write(str(tmp_path / "via-npe2.tif"), [(labels, {"name": "dapi nuclei"},
                                                         "labels")], plugin_name="karyo")
    assert paths == [str(tmp_path / "via-npe2.tif")]
    assert np.array_equal(read_label_tiff(paths[0])[0], labels)


# ---------------------------------------------------------------- widget

def test_widget_segments_the_image_layer_of_a_viewer(dna):
    from napari.components import ViewerModel
    from napari.layers import Layer

    viewer = ViewerModel()
    viewer.add_image(np.stack([dna // 2, dna, dna // 3]), name="stack", scale=(2.0, 0.5, 0.5))
    viewer.add_image(np.dstack([dna] * 3), name="grey as rgb", rgb=True)
    expected = segment(dna, diameter=DIAMETER).labels
    for name in ("stack", "grey as rgb"):
        labels, attributes, kind = segment_nuclei(viewer.layers[name], *DIAMETER)
        viewer.layers.append(Layer.create(labels, attributes, kind))
        assert np.array_equal(viewer.layers[f"{name} nuclei"].data, expected), name
    nuclei = viewer.layers["stack nuclei"]
    assert tuple(nuclei.scale) == (0.5, 0.5)
    assert nuclei.features["index"].tolist() == list(range(1, int(expected.max()) + 1))
    assert nuclei.metadata["karyo"]["input"] == ("axes ZYX (3, 384, 512): maximum projection "
                                                 "of 3 z-slices")
    assert nuclei.metadata["karyo"]["settings"]["diameter"] == DIAMETER


def test_widget_refuses_colour_that_is_not_grey(dna):
    from napari.components import ViewerModel

    viewer = ViewerModel()
    viewer.add_image(np.dstack([decoy(dna), dna, dna]), name="merge", rgb=True)
    with pytest.raises(ValueError, match="layer 'merge': 3 colour channels"):
        segment_nuclei(viewer.layers["merge"], *DIAMETER)


def test_widget_signature_resolves_to_napari_types():
    import napari
    from magicgui._type_resolution import resolve_single_type  # what napari's widget build uses
    from magicgui.signature import magic_signature

    parameters = magic_signature(segment_nuclei).parameters
    assert resolve_single_type(parameters["image"].annotation.__args__[0]) is \
        napari.layers.Image
    assert [parameters[name].default for name in ("min_diameter", "max_diameter")] == [0, 0]


def test_plain_tiff_is_not_taken_for_an_output_folder(tmp_path):
    tifffile.imwrite(tmp_path / "image.tif", np.zeros((4, 4), np.uint8))
    assert get_reader(str(tmp_path)) is None
