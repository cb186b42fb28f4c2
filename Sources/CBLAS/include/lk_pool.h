#ifndef LK_POOL_H
#define LK_POOL_H

// LoRAKit's compute thread pool: a fixed set of worker pthreads that share one job at a time with the caller.
//
// Decode runs ~250 short parallel jobs per token (each projection, the head, attention), tens of microseconds each,
// so waking a sleeping worker through a futex (and putting the caller to sleep until it is done) costs as much as
// the job: measured on 2 Zen 4 cores, 2-thread bf16 decode was *slower* than 1 thread. Here an idle worker spins on
// the job counter for a short while (`spin_us`, default 200 µs, then it sleeps on a condition variable), the caller
// spins while the last chunks finish, and chunks are claimed dynamically so a late worker never stalls the caller.
// BLAS runs single-threaded inside the pool's jobs (Kernels.gemm splits its products), so no other thread pool
// competes with these spinning workers.

/// Runs chunk `chunk` of a job; `ctx` is the caller's context pointer.
typedef void (*lk_pool_fn)(void *ctx, long chunk);

/// Sets the number of threads a job uses, the caller included (values below 1 mean 1). Spawns missing workers;
/// extra workers stay idle. Returns the count in effect.
int lk_pool_set_threads(int n);

/// The number of threads a job uses, the caller included.
int lk_pool_threads(void);

/// Runs `fn(ctx, c)` for every `c` in `0..<chunks` across the pool's threads and returns when all are done.
/// If another job is running (a nested call from inside a chunk, or a second thread), runs every chunk serially on
/// the calling thread instead. Chunks run in no particular order and concurrently.
void lk_pool_run(long chunks, lk_pool_fn fn, void *ctx);

/// How long an idle worker spins before it sleeps, in microseconds (`LORAKIT_SPIN_US` at start-up, default 200).
/// 0 makes idle workers sleep at once.
void lk_pool_set_spin_us(long us);
long lk_pool_spin_us(void);

#endif
