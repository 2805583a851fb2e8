/* SPDX-License-Identifier: MIT */
/* Large-integer products: see bigmul.h. */
#include "bigmul.h"

#include "parkit/features.h"

#include <string.h>

/* Products whose smaller operand has at least this many limbs go to FLINT's FFT multiplication:
 * on one thread it took 0.91x GMP's time for the whole of !1e6 on 1 thread, 0.94x on 2, 0.86x
 * for !3e6 (in-process, alternating, 5-25 rounds; 1500 to 12500 limbs tried, 3000 best). From
 * THREADED_MIN_LIMBS, a product that runs alone takes FLINT's threaded multiplication. */
#define FLINT_MIN_LIMBS    3000
#define THREADED_MIN_LIMBS 20000

#if PK_FEATURE_FLINT
#    include <dlfcn.h>
#    include <flint/fft.h>
#    include <flint/flint.h>
#    include <pthread.h>
#    include <stdatomic.h>

/* FLINT is loaded on its first use rather than linked: with what it needs (NTL, libstdc++, gf2x,
 * MPFR) it cost every parkit process about 8 ms and 135 page faults at start-up, twice for the
 * commands that start again for their settings (drivers/main.c). Where it cannot be loaded, GMP
 * multiplies: the same products. */
static struct {
    __typeof__(flint_mpn_mul_fft_main) *mul;
    __typeof__(flint_set_num_threads) *set_threads;
    __typeof__(flint_set_num_workers) *set_workers;
    __typeof__(flint_reset_num_workers) *reset_workers;
} fl;
static pthread_once_t flint_once = PTHREAD_ONCE_INIT;
static bool flint_off;
static atomic_bool flint_tried, flint_used;

static void flint_load(void)
{
    static const char *const names[] = {"flint_mpn_mul_fft_main", "flint_set_num_threads",
                                        "flint_set_num_workers", "flint_reset_num_workers"};
    atomic_store(&flint_tried, true);
    void *h = dlopen(PK_FLINT_SONAME, RTLD_NOW | RTLD_LOCAL);
    void *f[sizeof names / sizeof *names];
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (!h || !(f[i] = dlsym(h, names[i])))
            return;
    /* POSIX guarantees a function's address survives dlsym's void * */
    memcpy(&fl.set_threads, &f[1], sizeof f[1]);
    memcpy(&fl.set_workers, &f[2], sizeof f[2]);
    memcpy(&fl.reset_workers, &f[3], sizeof f[3]);
    memcpy(&fl.mul, &f[0], sizeof f[0]); /* last: it says all are there */
}

static bool flint_on(void)
{
    if (flint_off)
        return false;
    pthread_once(&flint_once, flint_load);
    return fl.mul != NULL;
}

bool pk_bigmul_flint(bool use)
{
    flint_off = !use;
    return flint_on();
}

const char *pk_bigmul_flint_use(void)
{
    return flint_off                   ? "off"
           : atomic_load(&flint_used)  ? "used"
           : atomic_load(&flint_tried) ? (fl.mul ? "not needed" : "unavailable")
                                       : "not needed";
}

/* r = x * y via FLINT on the calling thread alone (its worker count is
 * per thread; the pool is resized only for a threaded product, which runs alone) */
static void flint_product(mpz_t r, const mpz_t x, const mpz_t y, int threads)
{
    const __mpz_struct *a = mpz_size(x) >= mpz_size(y) ? x : y, *b = a == x ? y : x;
    mp_size_t na = (mp_size_t)mpz_size(a), nb = (mp_size_t)mpz_size(b);
    bool negative = (mpz_sgn(x) < 0) != (mpz_sgn(y) < 0); /* FLINT multiplies magnitudes */
    mpz_t out;
    mpz_init2(out, (mp_bitcnt_t)(na + nb) * GMP_NUMB_BITS);
    int old = 0;
    if (threads > 1)
        fl.set_threads(threads);
    else
        old = fl.set_workers(0);
    fl.mul(mpz_limbs_write(out, na + nb), mpz_limbs_read(a), na, mpz_limbs_read(b), nb);
    atomic_store_explicit(&flint_used, true, memory_order_relaxed);
    if (threads <= 1)
        fl.reset_workers(old);
    mpz_limbs_finish(out, negative ? -(na + nb) : na + nb);
    mpz_swap(r, out);
    mpz_clear(out);
}

void pk_bigmul(mpz_t r, const mpz_t x, const mpz_t y, int threads)
{
    size_t small = mpz_size(x) < mpz_size(y) ? mpz_size(x) : mpz_size(y);
    if (threads > 1 && small < THREADED_MIN_LIMBS)
        threads = 1;
    if (small >= FLINT_MIN_LIMBS && flint_on())
        flint_product(r, x, y, threads);
    else
        mpz_mul(r, x, y);
}

#else /* without FLINT: GMP's products */
bool pk_bigmul_flint(bool use)
{
    (void)use;
    return false;
}

const char *pk_bigmul_flint_use(void)
{
    return "not built";
}

void pk_bigmul(mpz_t r, const mpz_t x, const mpz_t y, int threads)
{
    (void)threads;
    mpz_mul(r, x, y);
}

#endif
