import nibble.common.model.MatMul;

/**
 * GFLOP/s of {@link MatMul#multiply} (the prefill's product) on a 576×576 matrix and 64 tokens, one
 * thread, best of six one-second rounds. Run it twice, once with
 * {@code -XX:CompileCommand=dontinline,nibble/common/model/MatMulVector.*}: the Vector API kernel must
 * stay as fast when C2 does not inline Nibble's own methods into one another (docs/BENCHMARKS.md).
 * Usage: java --add-modules jdk.incubator.vector [flags] -cp common/target/nibble-common-*.jar bin/bench-lib/MatMulInlining.java
 */
public class MatMulInlining {
    public static void main(String[] args) {
        int rows = 576;
        int cols = 576;
        int tokens = 64;
        java.util.Random random = new java.util.Random(1);
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = random.nextFloat() - 0.5f;
        }
        float[] x = new float[tokens * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = random.nextFloat();
        }
        float[] out = new float[tokens * rows];
        double best = 0;
        for (int round = 0; round < 6; round++) {
            long start = System.nanoTime();
            int n = 0;
            while (System.nanoTime() - start < 1_000_000_000L) {
                MatMul.multiply(w, cols, rows, cols, x, cols, tokens, out, rows);
                n++;
            }
            best = Math.max(best, 2.0 * rows * cols * tokens * n / ((System.nanoTime() - start) / 1e9) / 1e9);
        }
        System.out.printf("%.1f GFLOP/s, %s%n", best, MatMul.describe());
    }
}
