# Fused types shared by the kernels (cimported; nothing here is a Python module).
# A kernel may cimport one under the name that reads best in it, e.g.
# `from karyo._types cimport number_t as pixel_t`.

from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t

# Every real dtype the public functions take (bool arrives viewed as uint8).
ctypedef fused number_t:
    uint8_t
    uint16_t
    uint32_t
    uint64_t
    int8_t
    int16_t
    int32_t
    int64_t
    float
    double

ctypedef fused integer_t:
    uint8_t
    uint16_t
    uint32_t
    uint64_t
    int8_t
    int16_t
    int32_t
    int64_t

ctypedef fused real_t:
    float
    double
