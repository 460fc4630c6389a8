package nibble.common.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

import nibble.common.quant.QuantizedRow;
import nibble.common.quant.Quantizer;
import nibble.common.quant.Scheme;
import nibble.common.quant.VectorSupport;

/**
 * For bin/bench-warmup: what a kernel costs in a fresh JVM, before and after the JIT has compiled
 * it. A Spark executor quantizes each of its rows once, so a kernel's cost to a job is its
 * cumulative time from the first row, not its steady speed: the Vector API paths run boxed and
 * hundreds of times slower until C2 compiles them. Quantizes the {@link QuantizeBenchmark} rows
 * (256 × 4096 F32, 4 MiB) in passes and prints, after passes 1, 2, 4, ... , the cumulative CPU time
 * of this thread, then the steady time of one pass. Which path runs is the JVM's ({@code
 * -Dnibble.vector=false} for the scalar one). Usage: {@code KernelWarmup <benchmark> <passes>}.
 */
public final class KernelWarmup {
    private KernelWarmup() {
    }

    public static void main(String[] args) {
        Scheme s = QuantizeBenchmark.scheme(args[0]);
        int passes = Integer.parseInt(args[1]);
        float[][] rows = QuantizeBenchmark.data();
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long start = mx.getCurrentThreadCpuTime();
        long last = 0;
        long sink = 0;
        System.out.println("# " + args[0] + ", kernels: " + VectorSupport.describe());
        for (int p = 1; p <= passes; p++) {
            long t0 = mx.getCurrentThreadCpuTime();
            for (int i = 0; i < rows.length; i++) {
                QuantizedRow q = Quantizer.quantize("bench", i, rows[i], s);
                sink += q.codes()[0];
            }
            long t1 = mx.getCurrentThreadCpuTime();
            last = t1 - t0;
            if (Integer.bitCount(p) == 1) {
                System.out.printf("pass %d (%d MB of F32): cumulative %.1f ms%n", p, p * QuantizeBenchmark.INPUT_BYTES / 1_000_000,
                        (t1 - start) / 1e6);
            }
        }
        System.out.printf("steady pass %.2f ms (%.2f GB/s) [%d]%n", last / 1e6, QuantizeBenchmark.INPUT_BYTES / (double) last, sink);
    }
}
