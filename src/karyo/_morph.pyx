# Kernels for karyo (private): filled in by the module that owns them.
