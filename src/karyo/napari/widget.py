"""The napari widget: segment the nuclei of an image layer with the default recipe."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import napari

__all__ = ["segment_nuclei"]


def segment_nuclei(image: napari.layers.Image, min_diameter: float = 0.0,
                   max_diameter: float = 0.0) -> napari.types.LayerDataTuple:
    """Segment the nuclei of an image layer; return the labels layer with its table.

    napari builds the widget from this signature (magicgui): a choice of image
    layer and the nucleus diameter range, in pixels (0: estimated in the image).

    Parameters
    ----------
    image : napari.layers.Image
        The DNA stain. An RGB layer gives its DNA channel by karyo's colour
        rule (equal colours: grey); a 3-D layer is a z-stack, segmented on its
        maximum-intensity projection.
    min_diameter, max_diameter : float, optional
        Nucleus diameter range in pixels (the ``diameter`` setting of
        :func:`karyo.nuclei.segment.segment`'s default recipe); 0 for either
        (the default) estimates the nuclei's size in the image.

    Returns
    -------
    (labels, attributes, "labels")
        A napari layer data tuple: the label image, named after the image
        layer, placed on it (same scale and translation), with the
        per-nucleus table as ``features`` (napari's ``index`` column is the
        label) and the settings used in ``metadata["karyo"]``.

    Raises
    ------
    ValueError
        No image layer, or one karyo cannot reduce to a 2-D plane (the
        message says why).

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> yy, xx = np.mgrid[:120, :200]
    >>> pixels = np.zeros((120, 200), np.uint8)
    >>> pixels[(yy - 60) ** 2 + (xx - 50) ** 2 < 35 ** 2] = 200
    >>> layer = SimpleNamespace(data=pixels, name="dapi", rgb=False, multiscale=False,
    ...                         scale=(1.0, 1.0), translate=(0.0, 0.0))
    >>> labels, attributes, kind = segment_nuclei(layer, 40, 100)
    >>> kind, attributes["name"], int(labels.max()), attributes["features"]["index"].tolist()
    ('labels', 'dapi nuclei', 1, [1])
    """
    from karyo.nuclei.images import dna_plane
    from karyo.nuclei.measure import measure
    from karyo.nuclei.segment import segment

    if image is None:
        raise ValueError("karyo: no image layer to segment; open an image first")
    data = image.data[0] if getattr(image, "multiscale", False) else image.data
    data = np.asarray(data)
    stack = not image.rgb and data.ndim == 3
    plane = dna_plane(data, "YXS" if image.rgb else "ZYX" if stack else None,
                      source=f"layer {image.name!r}")
    given = min_diameter > 0 and max_diameter > 0
    result = segment(plane.image, diameter=[min_diameter, max_diameter] if given else None)
    features = measure(result.labels, plane.image, as_frame=False)
    features = {name: np.asarray(values) for name, values in features.items()}
    features["index"] = features["label"].copy()  # napari finds a label's row by `index`
    attributes = {"name": f"{image.name} nuclei", "features": features,
                  "scale": tuple(image.scale)[-2:], "translate": tuple(image.translate)[-2:],
                  "metadata": {"karyo": {"count": result.count, "settings": result.settings,
                                         "input": plane.description}}}
    return result.labels, attributes, "labels"
