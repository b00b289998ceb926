/* Reference for the distribution benchmark: N crypto_box_seal calls over 32-byte messages on one core.
 * Prints the elapsed seconds. Built by Benchmarks/run: cc -O2 Benchmarks/seal_loop.c -lsodium */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 9998;
    if (sodium_init() < 0 || n <= 0) return 1;
    unsigned char pk[crypto_box_PUBLICKEYBYTES], sk[crypto_box_SECRETKEYBYTES];
    unsigned char msg[32], out[32 + crypto_box_SEALBYTES];
    crypto_box_keypair(pk, sk);
    randombytes_buf(msg, sizeof msg);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < n; i++) {
        msg[0] = (unsigned char)i;
        crypto_box_seal(out, msg, sizeof msg, pk);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%.6f\n", (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
    return 0;
}
