"""karyo.demos: the generated image of nuclei looks and measures like a real one; mahotas's
photographs are read from the installed mahotas package."""

from __future__ import annotations

import mahotas
import numpy as np
import pytest
from conftest import load_u2os, u2os_names
from scipy import ndimage

from karyo import demos


@pytest.fixture(scope="module")
def nuclear():
    return demos.load("synthetic_nuclei", return_labels=True)


def test_image_and_labels(nuclear):
    image, labels = nuclear
    assert image.shape == labels.shape == (1024, 1344)
    assert image.dtype == np.uint8 and labels.dtype == np.int32
    count = int(labels.max())
    assert 40 <= count <= 70
    # labels are exactly 1..n, each used
    assert np.array_equal(np.unique(labels), np.arange(count + 1))


def test_each_nucleus_is_one_connected_region_of_realistic_size(nuclear):
    _, labels = nuclear
    sizes = np.bincount(labels.ravel())[1:]
    cut_by_border = set(np.unique(np.concatenate(
        [labels[0], labels[-1], labels[:, 0], labels[:, -1]]))) - {0}
    whole = [label - 1 for label in range(1, labels.max() + 1) if label not in cut_by_border]
    # diameters ~30-90 px (small mitotic nuclei down to ~24 px)
    assert sizes[whole].min() > np.pi * 11 ** 2
    assert sizes[whole].max() < np.pi * 50 ** 2
    assert np.pi * 20 ** 2 < np.median(sizes[whole]) < np.pi * 40 ** 2
    for label, where in enumerate(ndimage.find_objects(labels), start=1):
        _, pieces = ndimage.label(labels[where] == label)
        assert pieces == 1, f"nucleus {label} is in {pieces} pieces"


def test_some_nuclei_touch_and_some_are_cut_by_the_border(nuclear):
    _, labels = nuclear
    touching_pairs = set()
    for a, b in ((labels[1:], labels[:-1]), (labels[:, 1:], labels[:, :-1])):
        contact = (a != b) & (a > 0) & (b > 0)
        touching_pairs |= set(zip(a[contact].tolist(), b[contact].tolist(), strict=True))
    assert len({tuple(sorted(pair)) for pair in touching_pairs}) >= 5
    border = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    assert 2 <= len(set(border.tolist()) - {0}) <= 15


def test_intensities_look_like_a_fluorescence_image(nuclear):
    image, labels = nuclear
    foreground, background = image[labels > 0], image[labels == 0]
    assert np.median(foreground) > 3 * np.median(background) + 20
    assert np.median(background) < 30
    # not saturated, and noisy: the background is not flat
    assert np.mean(image == 255) < 0.001
    assert background.std() > 1
    # texture inside nuclei: the spread within a nucleus is well above noise
    means = ndimage.mean(image, labels, np.arange(1, labels.max() + 1))
    spreads = ndimage.standard_deviation(image, labels, np.arange(1, labels.max() + 1))
    assert np.median(spreads / means) > 0.08
    # nuclei of varying brightness
    assert means.std() / means.mean() > 0.1


def test_otsu_of_the_image_finds_the_nuclei(nuclear):
    # the tutorial's first step: a global Otsu threshold separates nuclei
    image, labels = nuclear
    smooth = mahotas.gaussian_filter(image, 2)
    threshold = mahotas.otsu(smooth.astype(np.uint8))
    found = smooth > threshold
    truth = labels > 0
    dice = 2 * np.sum(found & truth) / (found.sum() + truth.sum())
    assert dice > 0.85


@pytest.mark.skipif(not u2os_names(), reason="the U2OS collection is not present")
def test_comparable_to_a_real_u2os_image(nuclear):
    image, labels = nuclear
    real, truth = load_u2os(u2os_names()[0])
    # nuclei cover a similar fraction of the field, within a factor of 3
    ratio = np.mean(labels > 0) / np.mean(truth > 0)
    assert 1 / 3 < ratio < 3
    # nucleus contrast over background of the same order
    contrast = np.median(image[labels > 0]) - np.median(image[labels == 0])
    real_contrast = np.median(real[truth > 0]) - np.median(real[truth == 0])
    assert 0.4 < contrast / real_contrast < 2.5


def test_deterministic_and_cached_copies():
    first = demos.load("synthetic_nuclei")
    first[:] = 0  # modifying a returned copy must not reach the cache
    second = demos.load("SYNTHETIC_NUCLEI")
    assert second.any()
    np.testing.assert_array_equal(second, demos.synthetic_nuclei())
    again, labels = demos.load("synthetic_nuclei", return_labels=True)
    np.testing.assert_array_equal(again, second)
    assert again.flags.writeable and labels.flags.writeable


def test_as_grey_is_accepted_for_mahotas_code():
    np.testing.assert_array_equal(demos.load("synthetic_nuclei", as_grey=True),
                                  demos.load("synthetic_nuclei"))


@pytest.mark.parametrize("shape", [(1, 1), (1, 50), (64, 37), (300, 200)])
def test_generator_other_shapes(shape):
    image, labels = demos.synthetic_nuclei(seed=3, shape=shape, return_labels=True)
    assert image.shape == labels.shape == shape
    assert image.dtype == np.uint8 and labels.dtype == np.int32
    used = np.unique(labels)
    assert np.array_equal(used[used > 0], np.arange(1, labels.max() + 1))


def test_generator_seeds_and_counts():
    a = demos.synthetic_nuclei(seed=1, shape=(256, 256), n_nuclei=6)
    b = demos.synthetic_nuclei(seed=2, shape=(256, 256), n_nuclei=6)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(a, demos.synthetic_nuclei(seed=1, shape=(256, 256),
                                                            n_nuclei=6))
    _, labels = demos.synthetic_nuclei(seed=1, shape=(256, 256), n_nuclei=6,
                                       return_labels=True)
    assert labels.max() == 6
    _, empty = demos.synthetic_nuclei(seed=1, shape=(64, 64), n_nuclei=0, return_labels=True)
    assert not empty.any()


def test_unknown_name_lists_the_available_ones():
    with pytest.raises(ValueError, match="synthetic_nuclei") as error:
        demos.load("mona_lisa")
    assert "luispedro" in str(error.value)
    with pytest.raises(TypeError, match="image_name"):
        demos.load(3)
    with pytest.raises(ValueError, match="return_labels"):
        demos.load("luispedro", return_labels=True)


# ------------------------------------------------------- mahotas's photographs

@pytest.mark.parametrize("name", ["nuclear", "luispedro", "lena", "Lenna", "wally",
                                  "departmentstore"])
@pytest.mark.parametrize("as_grey", [None, True])
def test_photographs_are_mahotas_arrays(name, as_grey):
    expected = mahotas.demos.load(name, as_grey=as_grey)
    image = demos.load(name, as_grey=as_grey)
    assert image.shape == expected.shape and image.dtype == expected.dtype
    np.testing.assert_array_equal(image, expected)


def test_nuclear_image_is_mahotas_one():
    image = demos.nuclear_image()
    assert image.shape == (1024, 1344, 3) and image.dtype == np.uint8
    np.testing.assert_array_equal(image, mahotas.demos.nuclear_image())
    # code written for mahotas takes channel 0 of it
    assert demos.load("nuclear")[:, :, 0].shape == (1024, 1344)


def test_image_path_is_mahotas_file():
    for name in ("luispedro.jpg", "nuclear.png", "DepartmentStore.jpg",
                 "something-that-does-not-exist"):
        assert demos.image_path(name) == mahotas.demos.image_path(name)


def test_without_mahotas_photographs_name_the_synthetic_image(monkeypatch):
    monkeypatch.setattr(demos, "_mahotas_data_folder", lambda: None)
    for call in (lambda: demos.load("nuclear"), demos.nuclear_image,
                 lambda: demos.image_path("luispedro.jpg")):
        with pytest.raises(FileNotFoundError, match="synthetic_nuclei") as error:
            call()
        assert "mahotas is not installed" in str(error.value)
    # karyo's own image needs no mahotas
    assert demos.load("synthetic_nuclei").shape == (1024, 1344)


def test_the_data_folder_is_found_without_importing_mahotas():
    import subprocess
    import sys

    code = ("import sys, karyo.demos as d; p = d._mahotas_data_folder(); "
            "print(p is not None and (p / 'nuclear.png').is_file(), 'mahotas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["True", "False"]


def test_bad_generator_arguments():
    with pytest.raises(ValueError, match="shape"):
        demos.synthetic_nuclei(shape=(0, 10))
    with pytest.raises(ValueError, match="shape"):
        demos.synthetic_nuclei(shape=10)
    with pytest.raises(TypeError, match="seed"):
        demos.synthetic_nuclei(seed=1.5)
    with pytest.raises(TypeError, match="n_nuclei"):
        demos.synthetic_nuclei(n_nuclei=2.0)
    with pytest.raises(ValueError, match="n_nuclei"):
        demos.synthetic_nuclei(n_nuclei=-1)


# ----------------------------------------------------------------------- image_path

@pytest.fixture()
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path


def test_image_path_writes_the_synthetic_image(cache_home):
    import os

    from karyo import __version__, imread

    path = demos.image_path("synthetic_nuclei.png")
    assert path == str(cache_home / "karyo" / __version__ / "synthetic_nuclei.png")
    np.testing.assert_array_equal(imread(path), demos.load("synthetic_nuclei"))
    # later calls reuse the file; case does not matter (as in load)
    modified = os.path.getmtime(path)
    assert demos.image_path("Synthetic_Nuclei.PNG") == path
    assert os.path.getmtime(path) == modified
    # no half-written leftovers
    assert sorted(p.name for p in (cache_home / "karyo" / __version__).iterdir()) == [
        "synthetic_nuclei.png"]


def test_image_path_falls_back_to_the_temporary_directory(tmp_path, monkeypatch):
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the cache directory should be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    path = demos.image_path("synthetic_nuclei.png")
    assert path.startswith(str(tmp_path)) and not path.startswith(str(blocked))


def test_image_path_argument_type():
    with pytest.raises(TypeError, match="name"):
        demos.image_path(None)
