import java.lang.management.ManagementFactory;
import java.util.Random;
import nibble.common.stats.ErrorStats;

/**
 * GB/s (of one F32 array) and bytes allocated per row of {@link ErrorStats#add}, the per-row error
 * of quantize, on one thread: 20,000 rows of 4096 values per round, 8 rounds. Its own JVM, so it
 * measures the kernel beside no other vector shape. The first round includes the JIT's warm-up.
 * Usage: java --add-modules jdk.incubator.vector -cp common/target/classes bin/bench-lib/ErrorRows.java
 */
public class ErrorRows {
    public static void main(String[] args) {
        int n = 4096;
        float[] x = new float[n];
        float[] y = new float[n];
        Random random = new Random(1);
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextGaussian();
            y[i] = x[i] + (float) (random.nextGaussian() * 0.01);
        }
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        int rows = 20_000;
        for (int round = 0; round < 8; round++) {
            ErrorStats s = new ErrorStats();
            long a0 = threads.getCurrentThreadAllocatedBytes();
            long t0 = System.nanoTime();
            for (int k = 0; k < rows; k++) {
                s.add(x, y);
            }
            long t1 = System.nanoTime();
            System.out.printf("round %d: %.2f GB/s, %d bytes allocated per row%n", round, (double) n * 4 * rows / (t1 - t0),
                    (threads.getCurrentThreadAllocatedBytes() - a0) / rows);
        }
    }
}
