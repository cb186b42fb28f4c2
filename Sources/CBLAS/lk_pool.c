#include "lk_pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define LK_POOL_MAX_WORKERS 255

struct lk_job {
    lk_pool_fn fn;
    void *ctx;
    long chunks;
    _Atomic long next;  // next chunk to claim
    _Atomic long done;  // chunks finished
};

// Every atomic below is sequentially consistent: the two hand-offs (a worker announcing it sleeps while the caller
// publishes a job; a worker entering a job while the caller retires it) are Dekker-style and need the total order.
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static _Atomic long generation;            // bumped once per published job
static _Atomic(struct lk_job *) current;  // the published job, NULL between jobs
static _Atomic long inside;                // workers that may hold a pointer to `current`
static _Atomic int sleepers;               // workers waiting on `wake`
static _Atomic int busy;                   // a job is running
static _Atomic int threads = 1;            // threads per job, the caller included
static _Atomic long spin_ns = -1;          // -1: not read from the environment yet
static int alive[LK_POOL_MAX_WORKERS];     // guarded by `mutex`

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/// Spins (then yields, for a preempted worker) until `*counter` reaches `target`.
static void wait_for(_Atomic long *counter, long target) {
    for (unsigned i = 1; atomic_load(counter) != target; i++) {
        if (i < 4096) cpu_relax(); else sched_yield();
    }
}

static long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)t.tv_sec * 1000000000L + t.tv_nsec;
}

static long spin_budget_ns(void) {
    long ns = atomic_load(&spin_ns);
    if (ns >= 0) return ns;
    const char *env = getenv("LORAKIT_SPIN_US");
    long us = env ? strtol(env, NULL, 10) : 200;
    ns = (us < 0 ? 0 : us) * 1000L;
    atomic_store(&spin_ns, ns);
    return ns;
}

void lk_pool_set_spin_us(long us) { atomic_store(&spin_ns, (us < 0 ? 0 : us) * 1000L); }
long lk_pool_spin_us(void) { return spin_budget_ns() / 1000L; }
int lk_pool_threads(void) { return atomic_load(&threads); }

static void run_chunks(struct lk_job *job) {
    long c;
    while ((c = atomic_fetch_add(&job->next, 1)) < job->chunks) {
        job->fn(job->ctx, c);
        atomic_fetch_add(&job->done, 1);
    }
}

/// Waits until `generation` moves past `seen`: spins for the budget, then sleeps. Returns the new generation.
static long await_job(long seen) {
    long budget = spin_budget_ns();
    if (budget > 0) {
        long start = now_ns();
        for (unsigned i = 1;; i++) {
            long g = atomic_load(&generation);
            if (g != seen) return g;
            cpu_relax();
            if ((i & 255) == 0 && now_ns() - start > budget) break;
        }
    }
    pthread_mutex_lock(&mutex);
    atomic_fetch_add(&sleepers, 1);
    long g;
    while ((g = atomic_load(&generation)) == seen) pthread_cond_wait(&wake, &mutex);
    atomic_fetch_sub(&sleepers, 1);
    pthread_mutex_unlock(&mutex);
    return g;
}

static void *worker_main(void *arg) {
    int index = (int)(intptr_t)arg;
    long seen = atomic_load(&generation);
    for (;;) {
        seen = await_job(seen);
        if (index >= atomic_load(&threads) - 1) {  // the thread count went down: retire (re-checked under the lock)
            pthread_mutex_lock(&mutex);
            if (index >= atomic_load(&threads) - 1) {
                alive[index] = 0;
                pthread_mutex_unlock(&mutex);
                return NULL;
            }
            pthread_mutex_unlock(&mutex);
        }
        atomic_fetch_add(&inside, 1);
        struct lk_job *job = atomic_load(&current);
        if (job) run_chunks(job);
        atomic_fetch_sub(&inside, 1);
    }
}

int lk_pool_set_threads(int n) {
    if (n < 1) n = 1;
    if (n > LK_POOL_MAX_WORKERS + 1) n = LK_POOL_MAX_WORKERS + 1;
    pthread_mutex_lock(&mutex);
    for (int i = 0; i < n - 1; i++) {
        if (alive[i]) continue;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 8u << 20);  // Swift code runs here: give it a main-thread-sized stack
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_t thread;
        if (pthread_create(&thread, &attr, worker_main, (void *)(intptr_t)i) == 0) alive[i] = 1;
        pthread_attr_destroy(&attr);
    }
    int spawned = 1;
    while (spawned < n && alive[spawned - 1]) spawned++;
    atomic_store(&threads, spawned);
    atomic_fetch_add(&generation, 1);  // wake workers above the new count so they retire
    pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&mutex);
    return spawned;
}

void lk_pool_run(long chunks, lk_pool_fn fn, void *ctx) {
    if (chunks <= 0) return;
    int expected = 0;
    if (chunks == 1 || atomic_load(&threads) <= 1 || !atomic_compare_exchange_strong(&busy, &expected, 1)) {
        for (long c = 0; c < chunks; c++) fn(ctx, c);
        return;
    }
    struct lk_job job = {.fn = fn, .ctx = ctx, .chunks = chunks};
    atomic_store(&job.next, 0);
    atomic_store(&job.done, 0);
    atomic_store(&current, &job);
    atomic_fetch_add(&generation, 1);
    if (atomic_load(&sleepers) > 0) {
        pthread_mutex_lock(&mutex);
        pthread_cond_broadcast(&wake);
        pthread_mutex_unlock(&mutex);
    }
    run_chunks(&job);
    wait_for(&job.done, chunks);
    atomic_store(&current, NULL);
    wait_for(&inside, 0);
    atomic_store(&busy, 0);
}
