# Kernels for karyo.features (private).
