/* stat_loop PATH N [SECONDS] - calls stat(PATH) N times (after a short
 * warm-up) in 10 batches, each cut short after a tenth of SECONDS
 * (default 2), and prints the median of the batches' mean nanoseconds per
 * call: a burst of load from other processes spoils a batch, not the
 * figure. Compiled on the fly by scripts/bench.sh. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#define BATCHES 10

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: stat_loop PATH N [SECONDS]\n");
        return 2;
    }
    long n = strtol(argv[2], NULL, 10);
    if (n < BATCHES) {
        fprintf(stderr, "stat_loop: N must be at least %d\n", BATCHES);
        return 2;
    }
    double seconds = argc == 4 ? strtod(argv[3], NULL) : 2.0;
    long long budget = (long long)(seconds * 1e9 / BATCHES);
    struct stat st;
    for (int i = 0; i < 100; i++) {
        if (stat(argv[1], &st) < 0) {
            perror(argv[1]);
            return 1;
        }
    }
    double mean[BATCHES];
    for (int b = 0; b < BATCHES; b++) {
        long long start = now_ns();
        long done = 0;
        while (done < n / BATCHES) {
            if (stat(argv[1], &st) < 0) {
                perror(argv[1]);
                return 1;
            }
            /* Look at the clock every 64 calls only. */
            if ((++done & 63) == 0 && now_ns() - start > budget)
                break;
        }
        mean[b] = (double)(now_ns() - start) / (double)done;
    }
    qsort(mean, BATCHES, sizeof mean[0], compare);
    printf("%.1f\n", (mean[BATCHES / 2 - 1] + mean[BATCHES / 2]) / 2);
    return 0;
}
