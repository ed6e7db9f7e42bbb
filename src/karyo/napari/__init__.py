"""karyo's napari plugin: open a karyo output folder, segment nuclei, save labels.

The plugin is declared in ``napari.yaml`` (an npe2 manifest, entry point
``napari.manifest``) and needs ``pip install 'karyo[napari]'``; the rest of
karyo never imports napari. Its three parts are plain functions, usable
without napari:

- :func:`karyo.napari.reader.read_output_folder`: the images, label images
  and per-nucleus tables of a ``karyo segment --out`` folder, as napari layer
  data (the table becomes the labels layer's ``features``);
- :func:`karyo.napari.widget.segment_nuclei`: segments an image layer with the
  default recipe and returns the labels layer with its table;
- :func:`karyo.napari.writer.write_labels`: saves a labels layer as a karyo
  label TIFF (16-bit when the labels fit, zlib-compressed).
"""
