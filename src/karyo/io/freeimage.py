"""``mahotas.io.freeimage``'s place: karyo reads and writes images without FreeImage.

mahotas binds the FreeImage C library through ctypes, and importing
``mahotas.io.freeimage`` raises ``OSError`` where that library is absent.
karyo does not bind FreeImage at all: :func:`karyo.io.imread` and
:func:`karyo.io.imsave` read and write the same formats through Pillow and
tifffile. Importing this module therefore always raises ``OSError``, which is
what mahotas does on a machine without FreeImage, so code that guards the
import (``try: from mahotas.io import freeimage except OSError: ...``) takes
its fallback.
"""

raise OSError("karyo.io.freeimage: karyo does not bind the FreeImage library (as mahotas does "
              "where it is installed); use karyo.io.imread and karyo.io.imsave, which read and "
              "write the same formats through Pillow and tifffile")
