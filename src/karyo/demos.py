"""Demo images: mahotas's photographs, and a synthetic image of nuclei with its truth.

``load`` knows mahotas's demo names (``'nuclear'``, ``'luispedro'``,
``'lena'``/``'lenna'``, ``'wally'``/``'departmentstore'``). karyo ships no image
it did not make: those photographs are read from the files that an installed
mahotas package carries, and without mahotas asking for one raises
``FileNotFoundError``. karyo's own demo image, ``'synthetic_nuclei'``, is
*generated*, deterministically, by :func:`synthetic_nuclei`: DNA-stained
nuclei as a widefield microscope sees them, with the ground-truth labels that
a real image lacks. Generation uses numpy only and takes well under a second.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import tempfile
from pathlib import Path

import numpy as np

from .internal import as_int

__all__ = ["load", "image_path", "nuclear_image", "synthetic_nuclei", "AVAILABLE_IMAGES",
           "MAHOTAS_IMAGES", "SYNTHETIC_NAME"]

SYNTHETIC_NAME = "synthetic_nuclei"
# mahotas's demo names and the files they read, in mahotas's data folder
MAHOTAS_IMAGES = {
    "wally": "DepartmentStore.jpg",
    "departmentstore": "DepartmentStore.jpg",
    "lenna": "lena.jpg",
    "lena": "lena.jpg",
    "luispedro": "luispedro.jpg",
    "nuclear": "nuclear.png",
}
AVAILABLE_IMAGES = (SYNTHETIC_NAME, *MAHOTAS_IMAGES)
_SYNTHETIC_FILE = SYNTHETIC_NAME + ".png"

_DEFAULT_SHAPE = (1024, 1344)
_DEFAULT_SEED = 0
# nuclei per pixel: 56 on the default 1024 x 1344 field, as in a dense U2OS well
_NUCLEI_PER_PIXEL = 56 / (1024 * 1344)
# the scene is rendered with this margin so blur and haze at the edges of the
# field of view come from nuclei continuing outside it, not from wrap-around
_MARGIN = 64
_TEXTURE_TILE = 256


def load(image_name: str, as_grey: bool | None = None, *,
         return_labels: bool = False):
    """Load a demo image by name, as ``mahotas.demos.load``.

    Parameters
    ----------
    image_name : str
        Name of the image (case-insensitive): ``'synthetic_nuclei'``, karyo's
        generated image of nuclei, or one of mahotas's photographs,
        ``'nuclear'`` (fluorescent nuclei, RGB), ``'luispedro'``, ``'lena'``
        (or ``'lenna'``), ``'wally'`` (or ``'departmentstore'``).
    as_grey : bool, optional
        Convert a colour image to grey (float64 luminance, as mahotas). The
        synthetic image is grey already and is returned unchanged.
    return_labels : bool, optional
        Also return the ground-truth label image (``'synthetic_nuclei'`` only).

    Returns
    -------
    image : ndarray
        ``'synthetic_nuclei'``: uint8, shape (1024, 1344). A photograph: what
        mahotas's ``load`` returns, e.g. ``'nuclear'`` is uint8, (1024, 1344, 3).
    labels : ndarray of int32, same shape
        Only if `return_labels`: 0 is background, 1..n the nuclei.

    Raises
    ------
    ValueError
        For a name karyo does not know, or `return_labels` with a photograph.
    FileNotFoundError
        For one of mahotas's photographs when mahotas is not installed (karyo
        does not ship them; the message points to ``'synthetic_nuclei'``).

    See Also
    --------
    synthetic_nuclei : the generator, for other seeds, sizes and densities.
    image_path : the file of a demo image.

    Notes
    -----
    The photographs are read from the data folder of the installed mahotas
    package (found without importing it), with :func:`karyo.imread`, so they
    are the arrays mahotas returns. The synthetic image is generated once and
    cached; each call returns a fresh copy.

    Examples
    --------
    >>> from karyo import demos
    >>> dna, truth = demos.load('synthetic_nuclei', return_labels=True)
    >>> dna.shape, dna.dtype, truth.dtype
    ((1024, 1344), dtype('uint8'), dtype('int32'))
    """
    if not isinstance(image_name, str):
        raise TypeError(f"karyo.demos.load: `image_name` must be a str, got "
                        f"{type(image_name).__name__}")
    name = image_name.lower()
    if name == SYNTHETIC_NAME:
        image, labels = _cached_synthetic_nuclei()
        if return_labels:
            return image.copy(), labels.copy()
        return image.copy()
    if name not in MAHOTAS_IMAGES:
        raise ValueError(f"karyo.demos.load: unknown demo image {image_name!r}; available: "
                         f"{list(AVAILABLE_IMAGES)}")
    if return_labels:
        raise ValueError(f"karyo.demos.load: `return_labels` is for {SYNTHETIC_NAME!r}, the "
                         f"image karyo generates; {image_name!r} is a photograph without labels")
    from .io.image_files import imread

    return imread(_mahotas_file(MAHOTAS_IMAGES[name], f"load({image_name!r})"),
                  as_grey=bool(as_grey))


def nuclear_image() -> np.ndarray:
    """mahotas's fluorescent image of nuclei, as ``mahotas.demos.nuclear_image``.

    Returns
    -------
    image : ndarray of uint8, shape (1024, 1344, 3)
        ``load('nuclear')``: read from the installed mahotas package.

    Raises
    ------
    FileNotFoundError
        When mahotas is not installed.

    See Also
    --------
    synthetic_nuclei : karyo's generated image of nuclei, with its truth.

    Examples
    --------
    >>> from karyo import demos
    >>> demos.nuclear_image().shape
    (1024, 1344, 3)
    """
    return load("nuclear")


def image_path(name: str) -> str:
    """Path of a demo image file, for code that reads it with ``imread`` (as in mahotas).

    Parameters
    ----------
    name : str
        File name: ``'synthetic_nuclei.png'`` (case-insensitive), the image of
        ``load('synthetic_nuclei')``, or any other name, which is a file in
        mahotas's data folder (``'nuclear.png'``, ``'luispedro.jpg'``,
        ``'lena.jpg'``, ``'DepartmentStore.jpg'``).

    Returns
    -------
    path : str
        Absolute path of the file. As in mahotas, a name that is not in
        mahotas's data folder gives a path where no file exists.

    Raises
    ------
    FileNotFoundError
        For any name but ``'synthetic_nuclei.png'`` when mahotas is not
        installed.

    See Also
    --------
    load : the image as an array.

    Notes
    -----
    karyo ships no image files. ``'synthetic_nuclei.png'`` is written on
    first use to karyo's cache directory (``$XDG_CACHE_HOME/karyo/<version>``,
    by default ``~/.cache/karyo/<version>``, or the system's temporary
    directory when that cannot be written) and later calls return the same
    file. Every other name is looked up in the installed mahotas package.

    Examples
    --------
    >>> from karyo import demos, imread
    >>> image = imread(demos.image_path('synthetic_nuclei.png'))
    >>> image.shape, image.dtype
    ((1024, 1344), dtype('uint8'))
    """
    if not isinstance(name, str):
        raise TypeError(f"karyo.demos.image_path: `name` must be a str, got "
                        f"{type(name).__name__}")
    if name.lower() != _SYNTHETIC_FILE:
        return _mahotas_file(name, f"image_path({name!r})", must_exist=False)
    for directory in _cache_directories():
        path = directory / _SYNTHETIC_FILE
        if path.is_file():
            return str(path)
        try:
            _write_demo_file(path)
        except OSError:
            continue
        return str(path)
    raise OSError("karyo.demos.image_path: cannot write the demo image to "
                  f"{' or '.join(str(d) for d in _cache_directories())}")


def _mahotas_data_folder() -> Path | None:
    """mahotas's ``demos/data`` folder, if mahotas is installed (without importing it)."""
    try:
        spec = importlib.util.find_spec("mahotas")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "demos" / "data"


def _mahotas_file(file_name: str, call: str, must_exist: bool = True) -> str:
    folder = _mahotas_data_folder()
    path = None if folder is None else folder / file_name
    if path is None or (must_exist and not path.is_file()):
        raise FileNotFoundError(
            f"karyo.demos.{call}: mahotas's demo photographs are read from an installed "
            f"mahotas package (pip install mahotas), and "
            f"{'mahotas is not installed' if folder is None else f'{path} is missing'}; "
            f"karyo's own image of nuclei is load({SYNTHETIC_NAME!r}) "
            f"(or image_path({_SYNTHETIC_FILE!r}))")
    return str(path)


def _cache_directories() -> list[Path]:
    from . import __version__

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return [Path(base) / "karyo" / __version__,
            Path(tempfile.gettempdir()) / f"karyo-{__version__}"]


def _write_demo_file(path: Path) -> None:
    """Write the synthetic image to `path` atomically (concurrent callers see a whole file)."""
    from .io.image_files import imsave

    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(suffix=".png", prefix=".partial-", dir=path.parent)
    os.close(handle)
    try:
        imsave(partial, _cached_synthetic_nuclei()[0])
        os.chmod(partial, 0o644)  # mkstemp's 0600 would hide it from other users
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


@functools.lru_cache(maxsize=1)
def _cached_synthetic_nuclei() -> tuple[np.ndarray, np.ndarray]:
    image, labels = synthetic_nuclei(return_labels=True)
    image.flags.writeable = False
    labels.flags.writeable = False
    return image, labels


def synthetic_nuclei(seed: int = _DEFAULT_SEED, shape: tuple[int, int] = _DEFAULT_SHAPE,
                     n_nuclei: int | None = None, *, return_labels: bool = False):
    """Generate a realistic widefield image of DNA-stained nuclei, with its truth.

    Parameters
    ----------
    seed : int, optional
        Seed of the numpy random Generator; the same seed, shape and count
        give the same image on every platform.
    shape : (int, int), optional
        Height and width of the image (default 1024 x 1344, a camera frame).
    n_nuclei : int, optional
        Number of nuclei to place (default: 56 per 1024 x 1344 pixels). In a
        crowded field fewer may fit; ``labels.max()`` says how many did.
    return_labels : bool, optional
        Also return the ground-truth labels.

    Returns
    -------
    image : ndarray of uint8, shape `shape`
    labels : ndarray of int32, shape `shape`
        Only if `return_labels`: 0 is background, 1..n the nuclei; nuclei
        that touch have distinct labels.

    See Also
    --------
    load : the cached default image, as ``load('synthetic_nuclei')``.

    Notes
    -----
    The scene is built as a microscope forms it:

    1. nuclei: ellipses (diameters about 30-90 px) with a boundary perturbed
       by low-order Fourier harmonics, some placed in touching pairs and
       clusters, some cut by the image border; where two overlap, a pixel
       belongs to the nucleus it lies deeper inside (smaller normalised radius);
    2. DNA density: per-nucleus brightness, granular chromatin texture
       (band-pass filtered noise), bright heterochromatin foci, dark nucleoli,
       and a few small, bright, condensed (mitotic) nuclei;
    3. optics: a Gaussian point-spread function plus a wide, faint
       out-of-focus haze (one FFT product), on an uneven background
       (illumination gradient and vignetting);
    4. camera: photon noise (Poisson, in its Gaussian approximation, which
       is indistinguishable at these photon counts) plus Gaussian read noise,
       and 8-bit quantisation.

    Synthetic benchmark images of this kind follow Lehmussola et al.,
    "Computational framework for simulating fluorescence microscope images
    with cell populations", IEEE Trans. Med. Imaging 26(7), 2007 (SIMCEP).

    Examples
    --------
    >>> from karyo.demos import synthetic_nuclei
    >>> image, labels = synthetic_nuclei(seed=1, shape=(256, 256), n_nuclei=5,
    ...                                  return_labels=True)
    >>> image.shape, int(labels.max())
    ((256, 256), 5)
    """
    seed = as_int(seed, "demos.synthetic_nuclei", "seed")
    try:
        height, width = (int(n) for n in shape)
    except (TypeError, ValueError):
        raise ValueError(f"karyo.demos.synthetic_nuclei: `shape` must be (height, width), got "
                         f"{shape!r}") from None
    if height < 1 or width < 1:
        raise ValueError(f"karyo.demos.synthetic_nuclei: `shape` must be positive, got {shape!r}")
    if n_nuclei is None:
        n_nuclei = max(1, round(_NUCLEI_PER_PIXEL * height * width))
    else:
        n_nuclei = as_int(n_nuclei, "demos.synthetic_nuclei", "n_nuclei", low=0)

    rng = np.random.default_rng(int(seed))
    canvas_shape = (_fast_fft_size(height + 2 * _MARGIN), _fast_fft_size(width + 2 * _MARGIN))
    nuclei = _place_nuclei(rng, (height, width), int(n_nuclei))
    density, canvas_labels = _render_nuclei(rng, canvas_shape, nuclei)
    image = _photograph(rng, density, (height, width))
    if not return_labels:
        return image
    labels = canvas_labels[_MARGIN:_MARGIN + height, _MARGIN:_MARGIN + width]
    return image, _consecutive(labels)


def _place_nuclei(rng: np.random.Generator, shape: tuple[int, int], count: int) -> list[dict]:
    """Centres, sizes and shapes; about a third of nuclei touch a neighbour."""
    height, width = shape
    nuclei: list[dict] = []
    centres = np.empty((count, 2))
    reaches = np.empty(count)  # the farthest the boundary can go from the centre
    attempts = 0
    while len(nuclei) < count and attempts < 60 * count + 100:
        attempts += 1
        mitotic = rng.random() < 0.04
        major = rng.uniform(12, 16) if mitotic else float(np.clip(rng.normal(33, 7), 15, 45))
        minor = major * rng.uniform(0.62, 0.95)
        order = np.arange(2, 6)
        amplitudes = rng.normal(0, 0.05, order.size) / (order - 1)
        if rng.random() < 0.15:  # kidney and bilobed shapes, common in U2OS
            amplitudes[rng.integers(0, 2)] += rng.choice([-1, 1]) * rng.uniform(0.08, 0.14)
        phases = rng.uniform(0, 2 * np.pi, order.size)
        reach = major * (1 + np.abs(amplitudes).sum())
        placed = len(nuclei)
        if placed and rng.random() < 0.35:
            partner = rng.integers(0, placed)
            direction = rng.uniform(0, 2 * np.pi)
            # centres a bit closer than the mean radii: the two share a boundary
            gap = 0.88 * ((major + minor) / 2 + nuclei[partner]["mean_radius"])
            centre = centres[partner] + gap * np.array([np.sin(direction), np.cos(direction)])
            allowed = 0.82 * (reaches[:placed] + reach)
            allowed[partner] = 0
        else:
            centre = rng.uniform((0, 0), (height, width))
            allowed = 1.02 * (reaches[:placed] + reach)
        if not (0 <= centre[0] < height and 0 <= centre[1] < width):
            continue
        if placed and np.any(np.hypot(*(centres[:placed] - centre).T) < allowed):
            continue
        centres[placed] = centre
        reaches[placed] = reach
        nuclei.append({
            "centre": centre, "major": major, "minor": minor,
            "angle": rng.uniform(0, np.pi), "order": order, "amplitudes": amplitudes,
            "phases": phases, "reach": reach, "mean_radius": (major + minor) / 2,
            "mitotic": mitotic,
            "brightness": rng.uniform(1.7, 2.3) if mitotic else rng.lognormal(0, 0.22),
        })
    return nuclei


def _render_nuclei(rng: np.random.Generator, canvas_shape: tuple[int, int],
                   nuclei: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """DNA density (arbitrary units, ~1 in an average nucleus) and labels on the canvas."""
    labels = np.zeros(canvas_shape, np.int32)
    depth = np.full(canvas_shape, np.inf, np.float32)  # normalised radius of the owner
    density = np.zeros(canvas_shape, np.float32)
    # chromatin texture: one periodic tile, read at a random offset per nucleus
    chromatin = _band_pass_noise(rng, (_TEXTURE_TILE, _TEXTURE_TILE), fine=1.2, coarse=4.0)
    for label, nucleus in enumerate(nuclei, start=1):
        cy, cx = nucleus["centre"] + _MARGIN
        reach = int(np.ceil(nucleus["reach"])) + 2
        top, left = int(cy) - reach, int(cx) - reach
        window = (slice(top, top + 2 * reach + 1), slice(left, left + 2 * reach + 1))
        dy = (np.arange(top, top + 2 * reach + 1) - cy)[:, None]
        dx = (np.arange(left, left + 2 * reach + 1) - cx)[None, :]
        cos, sin = np.cos(nucleus["angle"]), np.sin(nucleus["angle"])
        along, across = dx * cos + dy * sin, dy * cos - dx * sin
        theta = np.arctan2(across, along)
        major, minor = nucleus["major"], nucleus["minor"]
        radius = major * minor / np.hypot(minor * np.cos(theta), major * np.sin(theta))
        wobble = 1 + sum(a * np.cos(k * theta + p) for k, a, p in
                         zip(nucleus["order"], nucleus["amplitudes"], nucleus["phases"],
                             strict=True))
        rho = (np.hypot(along, across) / (radius * wobble)).astype(np.float32)
        owned = (rho < 1) & (rho < depth[window])
        labels[window][owned] = label
        depth[window][owned] = rho[owned]

        rows = (rng.integers(0, _TEXTURE_TILE) + np.arange(rho.shape[0])) % _TEXTURE_TILE
        columns = (rng.integers(0, _TEXTURE_TILE) + np.arange(rho.shape[1])) % _TEXTURE_TILE
        texture = chromatin[np.ix_(rows, columns)]
        body = _nucleus_density(rng, nucleus, rho, dy, dx, texture)
        density[window][owned] = body[owned]
    return density, labels


def _nucleus_density(rng: np.random.Generator, nucleus: dict, rho: np.ndarray,
                     dy: np.ndarray, dx: np.ndarray, chromatin: np.ndarray) -> np.ndarray:
    inside = np.clip(1 - rho * rho, 0, 1)
    # a nucleus is thickest in the middle: a soft dome, flattened
    body = nucleus["brightness"] * (0.72 + 0.28 * np.sqrt(inside))
    texture = 0.45 if nucleus["mitotic"] else 0.24
    body = (body * (1 + texture * chromatin)).astype(np.float32)
    radius = nucleus["mean_radius"]
    area = np.pi * nucleus["major"] * nucleus["minor"]
    # heterochromatin foci: small bright Gaussian spots
    for _ in range(rng.poisson(area / 180)):
        spot_y, spot_x = _point_inside(rng, nucleus, 0.85)
        sigma = rng.uniform(1.2, 2.6)
        rows, columns, near_y, near_x = _neighbourhood(dy, dx, spot_y, spot_x, 4 * sigma)
        spot = np.exp(-((near_y - spot_y) ** 2 + (near_x - spot_x) ** 2) / (2 * sigma * sigma))
        body[rows, columns] += nucleus["brightness"] * rng.uniform(0.15, 0.45) * spot
    # nucleoli: holes in the DNA stain
    if not nucleus["mitotic"]:
        for _ in range(rng.integers(0, 4)):
            hole_y, hole_x = _point_inside(rng, nucleus, 0.55)
            hole_radius = radius * rng.uniform(0.09, 0.17)
            rows, columns, near_y, near_x = _neighbourhood(dy, dx, hole_y, hole_x,
                                                           2.5 * hole_radius)
            distance = np.hypot(near_y - hole_y, near_x - hole_x) / hole_radius
            body[rows, columns] *= 1 - rng.uniform(0.3, 0.5) * np.exp(-distance ** 4)
    return body


def _neighbourhood(dy: np.ndarray, dx: np.ndarray, y: float, x: float, extent: float):
    """Slices of the window within `extent` of (y, x), and their offsets."""
    first_y, first_x = dy[0, 0], dx[0, 0]
    rows = slice(max(int(y - extent - first_y), 0), max(int(y + extent - first_y) + 2, 0))
    columns = slice(max(int(x - extent - first_x), 0), max(int(x + extent - first_x) + 2, 0))
    return rows, columns, dy[rows], dx[:, columns]


def _point_inside(rng: np.random.Generator, nucleus: dict, fraction: float) -> tuple:
    """A random offset from the centre lying within `fraction` of the ellipse."""
    angle = rng.uniform(0, 2 * np.pi)
    distance = fraction * np.sqrt(rng.random())
    along = distance * nucleus["major"] * np.cos(angle) * 0.9
    across = distance * nucleus["minor"] * np.sin(angle) * 0.9
    cos, sin = np.cos(nucleus["angle"]), np.sin(nucleus["angle"])
    return along * sin + across * cos, along * cos - across * sin


def _fast_fft_size(size: int) -> int:
    """The smallest size >= `size` with no prime factor above 5 (FFTs are fastest there)."""
    while True:
        remainder = size
        for prime in (2, 3, 5):
            while remainder % prime == 0:
                remainder //= prime
        if remainder == 1:
            return size
        size += 1


def _frequencies(shape: tuple[int, int]) -> np.ndarray:
    """Squared spatial frequency (cycles/pixel) on the rfft2 grid."""
    fy = np.fft.fftfreq(shape[0]).astype(np.float32)[:, None]
    fx = np.fft.rfftfreq(shape[1]).astype(np.float32)[None, :]
    return fy * fy + fx * fx


def _gaussian_transfer(frequency2: np.ndarray, sigma: float) -> np.ndarray:
    return np.exp(np.float32(-2 * np.pi ** 2 * sigma ** 2) * frequency2)


def _band_pass_noise(rng: np.random.Generator, shape: tuple[int, int], fine: float,
                     coarse: float) -> np.ndarray:
    """Zero-mean, unit-variance noise with structure between `fine` and `coarse` pixels."""
    frequency2 = _frequencies(shape)
    spectrum = (rng.standard_normal(frequency2.shape, np.float32)
                + 1j * rng.standard_normal(frequency2.shape, np.float32))
    spectrum *= _gaussian_transfer(frequency2, fine) - _gaussian_transfer(frequency2, coarse)
    noise = np.fft.irfft2(spectrum, s=shape).astype(np.float32)
    noise /= noise.std() or 1
    return noise


def _photograph(rng: np.random.Generator, density: np.ndarray,
                shape: tuple[int, int]) -> np.ndarray:
    """What an 8-bit camera records of `density` through a widefield microscope."""
    height, width = shape
    frequency2 = _frequencies(density.shape)
    optics = _gaussian_transfer(frequency2, 1.4) + 0.05 * _gaussian_transfer(frequency2, 22.0)
    blurred = np.fft.irfft2(np.fft.rfft2(density) * optics, s=density.shape).astype(np.float32)
    blurred = blurred[_MARGIN:_MARGIN + height, _MARGIN:_MARGIN + width]

    y = np.linspace(-1, 1, height, dtype=np.float32)[:, None]
    x = np.linspace(-1, 1, width, dtype=np.float32)[None, :]
    slope_y, slope_x = rng.uniform(-0.12, 0.12, 2)
    illumination = (1 - 0.18 * (x * x + y * y)) * (1 + slope_y * y + slope_x * x)
    background = rng.uniform(6, 10) * (1 + 0.15 * y * slope_x + 0.1 * x)
    signal_level = rng.uniform(52, 62)  # grey value of an average nucleus
    expected = (background + signal_level * blurred) * illumination

    # shot noise (variance = photons) and read noise in one normal draw: at
    # >= 20 photons a pixel, Poisson is Gaussian to the eye, and 5x cheaper
    photons_per_grey_level = 3.0
    read_noise = 1.2
    spread = np.sqrt(np.maximum(expected, 0) / photons_per_grey_level + read_noise ** 2)
    recorded = expected + spread * rng.standard_normal(shape, np.float32)
    return np.clip(np.rint(recorded), 0, 255).astype(np.uint8)


def _consecutive(labels: np.ndarray) -> np.ndarray:
    """Renumber the labels present as 1..n, keeping their order."""
    present = np.flatnonzero(np.bincount(labels.ravel()))
    present = present[present > 0]
    relabel = np.zeros(int(labels.max()) + 1, np.int32)
    relabel[present] = np.arange(1, present.size + 1, dtype=np.int32)
    return relabel[labels]
