import java.lang.management.ManagementFactory;
import java.util.Random;
import nibble.common.quant.Quantizer;
import nibble.common.quant.Scheme;

/**
 * GB/s and bytes allocated per row of {@link Quantizer#quantize} for schemes whose kernels use
 * different {@code ByteVector} shapes: the 8-bit encoder's 64-bit bytes (asymmetric int8) and
 * {@code UniformBlocks}' 256-bit bytes (symmetric int4/int8 groups), run in the order given, to see
 * whether mixing byte shapes in one JVM costs the intrinsics as mixing float shapes does
 * (docs/DESIGN-NOTES.md, "One vector shape per JVM"). 64 rows of 4096 seeded Gaussian floats, best
 * of 300 passes, one thread. Arguments: any of {@code int8asym int8ch int4 int8sym}, in order.
 * Usage: java --add-modules jdk.incubator.vector -cp common/target/classes bin/bench-lib/ByteShapes.java int4 int8sym int8asym
 */
public class ByteShapes {
    public static void main(String[] args) {
        float[][] rows = new float[64][4096];
        Random random = new Random(7);
        for (float[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                row[i] = (float) random.nextGaussian();
            }
        }
        for (String step : args) {
            Scheme s = switch (step) {
                case "int8asym" -> Scheme.group(8, false, 128);
                case "int8ch" -> Scheme.channel(8, false);
                case "int4" -> Scheme.group(4, true, 32);
                case "int8sym" -> Scheme.group(8, true, 32);
                default -> throw new IllegalArgumentException("unknown scheme " + step + " (int8asym, int8ch, int4, int8sym)");
            };
            run(step, s, rows);
        }
    }

    private static void run(String label, Scheme s, float[][] rows) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        double best = 0;
        long perRow = 0;
        for (int pass = 0; pass < 300; pass++) {
            long a0 = threads.getCurrentThreadAllocatedBytes();
            long t0 = System.nanoTime();
            for (float[] row : rows) {
                Quantizer.quantize("t", 0, row, s);
            }
            long t1 = System.nanoTime();
            perRow = (threads.getCurrentThreadAllocatedBytes() - a0) / rows.length;
            best = Math.max(best, rows.length * 4096 * 4.0 / (t1 - t0));
        }
        System.out.printf("%-9s best %5.2f GB/s of F32, %5d bytes allocated per row%n", label, best, perRow);
    }
}
