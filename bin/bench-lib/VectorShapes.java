import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import nibble.common.model.MatMul;

/**
 * GFMA/s of {@link MatMul#multiply} (1536×576, 64 tokens, one thread) after the JVM has first run
 * fused multiply-adds on other {@code FloatVector} shapes, to show why every kernel uses one shape
 * (docs/DESIGN-NOTES.md, "One vector shape per JVM"). Argument: the shapes to run first, {@code none},
 * {@code 128}, {@code 256}, {@code 512} or a combination such as {@code 128+256}; add
 * {@code -Dnibble.matmul.bits=512} for a 512-bit matmul.
 * Usage: java --add-modules jdk.incubator.vector [flags] -cp common/target/classes bin/bench-lib/VectorShapes.java 128
 */
public class VectorShapes {
    public static void main(String[] args) {
        int rows = 1536;
        int cols = 576;
        int tokens = 64;
        java.util.Random random = new java.util.Random(1);
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) random.nextGaussian() * 0.02f;
        }
        float[] x = new float[tokens * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        float[] out = new float[tokens * rows];
        float sink = 0;
        for (String shape : args[0].split("\\+")) {
            if (!shape.equals("none")) {
                VectorSpecies<Float> s = FloatVector.SPECIES_PREFERRED.withShape(jdk.incubator.vector.VectorShape.forBitSize(Integer.parseInt(shape)));
                for (int i = 0; i < 20000; i++) {
                    sink += dot(s, x);
                }
            }
        }
        double best = 0;
        for (int round = 0; round < 30; round++) {
            long t0 = System.nanoTime();
            MatMul.multiply(w, cols, rows, cols, x, cols, tokens, out, rows);
            best = Math.max(best, (double) rows * cols * tokens / (System.nanoTime() - t0));
        }
        System.out.printf("first %-8s matmul %s-bit: best of 30 calls %.2f GFMA/s (checksum of the warm-up %.0f)%n", args[0],
                System.getProperty("nibble.matmul.bits", "256"), best, sink);
    }

    private static float dot(VectorSpecies<Float> s, float[] a) {
        FloatVector acc = FloatVector.zero(s);
        for (int i = 0; i + s.length() <= a.length; i += s.length()) {
            acc = FloatVector.fromArray(s, a, i).fma(FloatVector.fromArray(s, a, i), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
