/* Reference for the distribution benchmark: N crypto_box_seal calls over 32-byte messages, on one core, or split over
 * T threads (the second argument, default 1) to measure what sealing on several cores costs this host in CPU time.
 * Prints the elapsed seconds. Built by Benchmarks/run: cc -O2 Benchmarks/seal_loop.c -lsodium -lpthread */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static unsigned char pk[crypto_box_PUBLICKEYBYTES];

/* Seals *(int *)arg boxes to pk. */
static void *seal_some(void *arg) {
    int n = *(int *)arg;
    unsigned char msg[32], out[32 + crypto_box_SEALBYTES];
    randombytes_buf(msg, sizeof msg);
    for (int i = 0; i < n; i++) {
        msg[0] = (unsigned char)i;
        if (crypto_box_seal(out, msg, sizeof msg, pk) != 0) abort();
    }
    return NULL;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 9998;
    int threads = argc > 2 ? atoi(argv[2]) : 1;
    if (sodium_init() < 0 || n <= 0 || threads <= 0 || threads > 64) return 1;
    unsigned char sk[crypto_box_SECRETKEYBYTES];
    crypto_box_keypair(pk, sk);
    pthread_t tid[64];
    int share[64];
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int t = 0; t < threads; t++) {
        share[t] = n / threads + (t < n % threads ? 1 : 0);
        if (threads == 1) seal_some(&share[t]);
        else if (pthread_create(&tid[t], NULL, seal_some, &share[t]) != 0) return 1;
    }
    for (int t = 0; threads > 1 && t < threads; t++) pthread_join(tid[t], NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%.6f\n", (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
    return 0;
}
