/* SIMD inner loops of karyo's separable filters, chosen at run time.
 *
 * Each loop exists three times: AVX-512, AVX2+FMA and a portable version,
 * compiled from one body with GCC vector extensions; `fir_select` picks the
 * widest the CPU supports once, so the shipped binary needs no -march.
 *
 * Both loops compute out[x] = w[0] c0[x] + sum_k w[k] (plus_k[x] +/- minus_k[x])
 * for a symmetric (+) or antisymmetric (-) kernel of half-width r:
 * - fir_line: along a line, plus_k = centre + k, minus_k = centre - k;
 * - fir_rows: across rows, plus_k = rows[r + k], minus_k = rows[r - k].
 * Four accumulators per block keep the tap loop in registers: each output
 * vector is stored once, whatever the kernel's length.
 */
#ifndef KARYO_CONVOLVE_SIMD_H
#define KARYO_CONVOLVE_SIMD_H

#include <stddef.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__)
/* ISO C mode disables a*b+c contraction: allow FMA in these loops. */
#pragma GCC push_options
#pragma GCC optimize("fp-contract=fast")
#endif

typedef void (*fir_line_fn)(const double *centre, double *out, ptrdiff_t n,
                            const double *w, ptrdiff_t r, int anti);
typedef void (*fir_rows_fn)(const double **rows, double *out, ptrdiff_t n,
                            const double *w, ptrdiff_t r, int anti);

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define KARYO_HAVE_X86_DISPATCH 1
#include <immintrin.h>
#endif

/* Vector types with unaligned loads and stores, usable with GCC's vector
 * arithmetic (a + b, scalar * vector). The portable one is two doubles. */
typedef double karyo_v2d __attribute__((vector_size(16)));
static inline karyo_v2d karyo_load2(const double *p) {
    karyo_v2d v; memcpy(&v, p, sizeof v); return v;
}
static inline void karyo_store2(double *p, karyo_v2d v) { memcpy(p, &v, sizeof v); }

/* One block of 4 vectors: acc_j = w0 * c0 + sum_k w[k] (P(k) OP M(k)).
 * MADD(acc, w, v) is acc + w v, fused or not as the scalar tail's SMADD: a
 * pixel gets the same bits whether a vector or the tail computes it, so the
 * result does not depend on where strips and blocks start (thread count). */
#define KARYO_BLOCK(VT, L, LOAD, STORE, MADD, C0, P, M, OP)                     \
    {                                                                           \
        const double *c0_ = (C0);                                               \
        VT a0 = w[0] * LOAD(c0_), a1 = w[0] * LOAD(c0_ + L);                    \
        VT a2 = w[0] * LOAD(c0_ + 2 * L), a3 = w[0] * LOAD(c0_ + 3 * L);        \
        for (ptrdiff_t k = 1; k <= r; k++) {                                    \
            const double *p_ = (P), *m_ = (M);                                  \
            double wk = w[k];                                                   \
            a0 = MADD(a0, wk, LOAD(p_) OP LOAD(m_));                            \
            a1 = MADD(a1, wk, LOAD(p_ + L) OP LOAD(m_ + L));                    \
            a2 = MADD(a2, wk, LOAD(p_ + 2 * L) OP LOAD(m_ + 2 * L));            \
            a3 = MADD(a3, wk, LOAD(p_ + 3 * L) OP LOAD(m_ + 3 * L));            \
        }                                                                       \
        STORE(out + x, a0); STORE(out + x + L, a1);                             \
        STORE(out + x + 2 * L, a2); STORE(out + x + 3 * L, a3);                 \
    }

#define KARYO_SCALAR(SMADD, C0, P, M, OP)                                       \
    {                                                                           \
        double acc = w[0] * *(C0);                                              \
        for (ptrdiff_t k = 1; k <= r; k++) acc = SMADD(acc, w[k], *(P) OP *(M));\
        out[x] = acc;                                                           \
    }

#define KARYO_LINE_LOOP(VT, L, LOAD, STORE, MADD, SMADD, OP)                    \
    for (; x + 4 * L <= n; x += 4 * L)                                          \
        KARYO_BLOCK(VT, L, LOAD, STORE, MADD, centre + x, centre + x + k, centre + x - k, OP) \
    for (; x < n; x++)                                                          \
        KARYO_SCALAR(SMADD, centre + x, centre + x + k, centre + x - k, OP)

#define KARYO_ROWS_LOOP(VT, L, LOAD, STORE, MADD, SMADD, OP)                    \
    for (; x + 4 * L <= n; x += 4 * L)                                          \
        KARYO_BLOCK(VT, L, LOAD, STORE, MADD, rows[r] + x, rows[r + k] + x, rows[r - k] + x, OP) \
    for (; x < n; x++)                                                          \
        KARYO_SCALAR(SMADD, rows[r] + x, rows[r + k] + x, rows[r - k] + x, OP)

#define KARYO_DEFINE_FIR(SUFFIX, ATTR, VT, L, LOAD, STORE, MADD, SMADD)                      \
    ATTR static void fir_line_##SUFFIX(const double *centre, double *out,       \
                                       ptrdiff_t n, const double *w,            \
                                       ptrdiff_t r, int anti) {                 \
        ptrdiff_t x = 0;                                                        \
        if (anti) { KARYO_LINE_LOOP(VT, L, LOAD, STORE, MADD, SMADD, -) }       \
        else { KARYO_LINE_LOOP(VT, L, LOAD, STORE, MADD, SMADD, +) }            \
    }                                                                           \
    ATTR static void fir_rows_##SUFFIX(const double **rows, double *out,  \
                                       ptrdiff_t n, const double *w,            \
                                       ptrdiff_t r, int anti) {                 \
        ptrdiff_t x = 0;                                                        \
        if (anti) { KARYO_ROWS_LOOP(VT, L, LOAD, STORE, MADD, SMADD, -) }       \
        else { KARYO_ROWS_LOOP(VT, L, LOAD, STORE, MADD, SMADD, +) }            \
    }

/* The portable loops multiply, then add (no fused multiply-add is assumed). */
#define KARYO_MUL_ADD(acc, w, v) ((acc) + (w) * (v))
KARYO_DEFINE_FIR(generic, , karyo_v2d, 2, karyo_load2, karyo_store2, KARYO_MUL_ADD,
                 KARYO_MUL_ADD)

#ifdef KARYO_HAVE_X86_DISPATCH
#define KARYO_FMA4(acc, w, v) _mm256_fmadd_pd(_mm256_set1_pd(w), (v), (acc))
#define KARYO_FMA8(acc, w, v) _mm512_fmadd_pd(_mm512_set1_pd(w), (v), (acc))
#define KARYO_FMA1(acc, w, v) __builtin_fma((w), (v), (acc))
KARYO_DEFINE_FIR(avx2, __attribute__((target("avx2,fma"))), __m256d, 4, _mm256_loadu_pd,
                 _mm256_storeu_pd, KARYO_FMA4, KARYO_FMA1)
KARYO_DEFINE_FIR(avx512, __attribute__((target("avx512f"))), __m512d, 8, _mm512_loadu_pd,
                 _mm512_storeu_pd, KARYO_FMA8, KARYO_FMA1)
#endif

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

/* Which instruction set the loops below use: 0 portable, 1 AVX2, 2 AVX-512.
 * `limit` caps the choice (tests and benchmarks compare the variants). */
static int fir_level(int limit) {
    int level = 0;
#ifdef KARYO_HAVE_X86_DISPATCH
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) level = 1;
    if (__builtin_cpu_supports("avx512f")) level = 2;
#endif
    return level < limit ? level : limit;
}

static fir_line_fn fir_line_for(int level) {
#ifdef KARYO_HAVE_X86_DISPATCH
    if (level >= 2) return fir_line_avx512;
    if (level == 1) return fir_line_avx2;
#endif
    (void)level;
    return fir_line_generic;
}

static fir_rows_fn fir_rows_for(int level) {
#ifdef KARYO_HAVE_X86_DISPATCH
    if (level >= 2) return fir_rows_avx512;
    if (level == 1) return fir_rows_avx2;
#endif
    (void)level;
    return fir_rows_generic;
}

#endif
