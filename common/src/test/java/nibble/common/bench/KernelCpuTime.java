package nibble.common.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

import nibble.common.quant.Quantizer;
import nibble.common.quant.QuantizedRow;
import nibble.common.quant.Scheme;
import nibble.common.quant.VectorSupport;

/**
 * For bin/bench-kernels on a loaded machine: the {@link QuantizeBenchmark} kernels timed by the
 * thread's CPU time instead of the wall clock, so that time the thread spends preempted by other
 * processes does not count (the ggml harness reports the same figure). Each kernel warms up for
 * {@code warm} seconds of CPU time (C2 compiles the vector kernels slowly when the cores are
 * shared), then quantizes all rows repeatedly for {@code measure} seconds of CPU time; prints the
 * kernel's name and GB/s of F32 input over that CPU time. Which path runs is the JVM's ({@link
 * VectorSupport}; {@code -Dnibble.vector=false} for the scalar one). Usage: {@code KernelCpuTime
 * <warm s> <measure s> <benchmark>...}.
 */
public final class KernelCpuTime {
    private KernelCpuTime() {
    }

    public static void main(String[] args) {
        double warm = Double.parseDouble(args[0]);
        double measure = Double.parseDouble(args[1]);
        float[][] rows = QuantizeBenchmark.data();
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long sink = 0;
        System.out.println("# kernels: " + VectorSupport.describe());
        for (int a = 2; a < args.length; a++) {
            Scheme s = QuantizeBenchmark.scheme(args[a]);
            for (int phase = 0; phase < 2; phase++) {
                double limit = phase == 0 ? warm : measure;
                long t0 = mx.getCurrentThreadCpuTime();
                long passes = 0;
                long used;
                do {
                    for (int i = 0; i < rows.length; i++) {
                        QuantizedRow q = Quantizer.quantize("bench", i, rows[i], s);
                        sink += q.codes()[i % q.codes().length];
                    }
                    passes++;
                    used = mx.getCurrentThreadCpuTime() - t0;
                } while (used < limit * 1e9);
                if (phase == 1) {
                    System.out.printf("%s %.4f%n", args[a], passes * QuantizeBenchmark.INPUT_BYTES / (used * 1e-9) / 1e9);
                }
            }
        }
        System.out.println("# " + (sink == 42 ? "" : "done"));
    }
}
