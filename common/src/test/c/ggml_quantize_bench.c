// ggml's quantizers on the rows of nibble's QuantizeBenchmark, one thread: bin/bench-kernels compiles
// this against the libggml that llama-cpp-python ships and runs it beside the JMH benchmarks.
// Usage: ggml_quantize_bench <rows.f32> <rows> <cols> <seconds per type>
// Prints per type: name, GB/s of F32 input over repeated ggml_quantize_chunk calls (each call quantizes
// all rows) as JMH's throughput mode measures Nibble's kernels: all timed calls' bytes over their total
// time, SQNR in dB of the dequantized rows (ggml's own to_float), calls, bits per weight, and the median
// call's GB/s (higher on a loaded machine: a 1 ms call often runs between preemptions, a 1 s JMH
// iteration never does), and GB/s over the thread's CPU time of the timed calls (what KernelCpuTime
// measures for Nibble: the least sensitive to other processes).
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "ggml.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s rows.f32 rows cols seconds\n", argv[0]);
        return 2;
    }
    int64_t rows = atoll(argv[2]), cols = atoll(argv[3]);
    double seconds = atof(argv[4]);
    float *x = malloc(sizeof(float) * rows * cols), *y = malloc(sizeof(float) * cols);
    FILE *f = fopen(argv[1], "rb");
    if (!f || fread(x, sizeof(float), rows * cols, f) != (size_t) (rows * cols)) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 1;
    }
    fclose(f);
    enum ggml_type types[] = {GGML_TYPE_Q4_0, GGML_TYPE_Q8_0, GGML_TYPE_Q4_K};
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        enum ggml_type type = types[t];
        size_t row_size = ggml_row_size(type, cols);
        uint8_t *q = malloc(row_size * rows);
        ggml_quantize_init(type);
        double times[1000];
        int n = 0;
        double start = now(), cpu = 0;
        do { // the first call warms up, then as many as fit in the time given
            double t0 = now(), c0 = cpu_now();
            ggml_quantize_chunk(type, x, q, 0, rows, cols, NULL);
            times[n] = now() - t0;
            if (n++ > 0) {
                cpu += cpu_now() - c0;
            }
        } while (n < 1000 && (now() - start < seconds || n < 4));
        double total = 0;
        for (int k = 1; k < n; k++) {
            total += times[k];
        }
        qsort(times + 1, n - 1, sizeof(double), cmp);
        double median = times[1 + (n - 1) / 2];
        const struct ggml_type_traits *tr = ggml_get_type_traits(type);
        double sig = 0, err = 0;
        for (int64_t r = 0; r < rows; r++) {
            tr->to_float(q + r * row_size, y, cols);
            for (int64_t i = 0; i < cols; i++) {
                double v = x[r * cols + i], d = v - y[i];
                sig += v * v;
                err += d * d;
            }
        }
        printf("%s %.4f %.3f %d %.3f %.4f %.4f\n", ggml_type_name(type), 4.0 * rows * cols * (n - 1) / total / 1e9,
               10 * log10(sig / err), n - 1, 8.0 * row_size / cols, 4.0 * rows * cols / median / 1e9, 4.0 * rows * cols * (n - 1) / cpu / 1e9);
        free(q);
    }
    return 0;
}
