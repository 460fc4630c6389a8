package nibble.common.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import nibble.common.quant.Codebook;
import nibble.common.quant.QuantizedRow;
import nibble.common.quant.Quantizer;
import nibble.common.quant.Scheme;
import org.junit.jupiter.api.Test;

/**
 * {@link MatMul}: the fast product (Vector API kernel or the scalar one) gives exactly the reference's
 * floats for every shape, including rows that do not fill a panel, columns that do not fill a block
 * and token counts that do not fill the six-token kernel; the reference is within its stated error
 * bound of the exact product; packed weights multiply exactly as their dequantized dense matrix.
 */
class MatMulTest {
    private static final int[] ROWS = {1, 5, 16, 17, 40};
    private static final int[] COLS = {1, 3, 8, 37, 256, 300, 600};
    private static final int[] TOKENS = {1, 2, 5, 6, 7, 13, 19};

    static float[] gaussian(SplittableRandom r, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextGaussian() * scale * (i % 11 == 0 ? 20 : 1));
        }
        return a;
    }

    /** γ(n) = n·u/(1 − n·u), u = 2^-24: the bound of n rounded operations in a chain. */
    static double gamma(int n) {
        double u = Math.scalb(1.0, -24);
        return n * u / (1 - n * u);
    }

    @Test
    void fastProductEqualsReferenceBitForBit() {
        SplittableRandom r = new SplittableRandom(5);
        for (int rows : ROWS) {
            for (int cols : COLS) {
                for (int tokens : TOKENS) {
                    float[] w = gaussian(r, rows * cols, 0.1);
                    float[] x = gaussian(r, tokens * cols, 1);
                    float[] ref = new float[tokens * rows];
                    float[] fast = new float[tokens * rows];
                    DenseLinear l = new DenseLinear(w, rows, cols);
                    l.matmulReference(x, tokens, ref);
                    l.matmul(x, tokens, fast);
                    assertArrayEquals(ref, fast, rows + "x" + cols + " times " + tokens + " tokens");
                }
            }
        }
    }

    @Test
    void vectorAndScalarKernelsAgreeBitForBit() {
        org.junit.jupiter.api.Assumptions.assumeTrue(MatMul.vectorized(), "the Vector API kernel does not run in this JVM");
        SplittableRandom r = new SplittableRandom(9);
        for (int kb : new int[] {1, 7, 256}) {
            for (int tokens : TOKENS) {
                for (int k0 : new int[] {0, 2}) {
                    int xStride = kb + 3;
                    int accStride = MatMul.PANEL + 5;
                    float[] panel = gaussian(r, MatMul.KBLOCK * MatMul.PANEL, 0.5);
                    float[] x = gaussian(r, tokens * xStride, 1);
                    float[] a = gaussian(r, 3 + tokens * accStride, 1);
                    float[] b = a.clone();
                    MatMul.panelScalar(panel, kb, x, xStride, k0, tokens, a, 3, accStride);
                    MatMulVector.panel(panel, kb, x, xStride, k0, tokens, b, 3, accStride);
                    assertArrayEquals(a, b, "kb " + kb + ", " + tokens + " tokens, k0 " + k0);
                }
            }
        }
    }

    /**
     * Both products against the exact one (double, exact for these products and good to 2^-53 for
     * the sums): the fused chain is within γ(cols)·Σ|w·x|, the decoder's four-accumulator dot
     * (separate multiply and add) within γ(cols + 1)·Σ|w·x|; so they are within the sum of the two of
     * each other. Also checks the bound is not vacuous: the two do differ somewhere.
     */
    @Test
    void withinTheStatedBoundOfTheExactProductAndOfTheDecoder() {
        SplittableRandom r = new SplittableRandom(3);
        int differ = 0;
        for (int cols : new int[] {64, 576, 1536}) {
            int rows = 33;
            int tokens = 7;
            float[] w = gaussian(r, rows * cols, 0.05);
            float[] x = gaussian(r, tokens * cols, 1);
            DenseLinear l = new DenseLinear(w, rows, cols);
            float[] fast = new float[tokens * rows];
            l.matmul(x, tokens, fast);
            float[] one = new float[rows];
            float[] xt = new float[cols];
            for (int t = 0; t < tokens; t++) {
                System.arraycopy(x, t * cols, xt, 0, cols);
                l.matvec(xt, one);
                for (int i = 0; i < rows; i++) {
                    double exact = 0;
                    double abs = 0;
                    for (int c = 0; c < cols; c++) {
                        double p = (double) w[i * cols + c] * x[t * cols + c];
                        exact += p;
                        abs += Math.abs(p);
                    }
                    double slack = 1e-15 * abs;
                    float got = fast[t * rows + i];
                    assertTrue(Math.abs(got - exact) <= gamma(cols) * abs + slack, "matmul " + got + " vs exact " + exact);
                    assertTrue(Math.abs(one[i] - exact) <= gamma(cols + 1) * abs + slack, "matvec " + one[i] + " vs exact " + exact);
                    assertTrue(Math.abs(got - one[i]) <= (gamma(cols) + gamma(cols + 1)) * abs + slack);
                    differ += got != one[i] ? 1 : 0;
                }
            }
        }
        assertTrue(differ > 0, "the fused product never differed from the decoder's: the test would not notice a change");
    }

    @Test
    void packedMatmulEqualsDenseMatmulOfDequantizedRows() {
        SplittableRandom rnd = new SplittableRandom(11);
        List<Scheme> schemes = List.of(Scheme.group(4, true, 32), Scheme.group(4, false, 128), Scheme.group(4, true, 33),
                Scheme.channel(4, true), Scheme.group(8, true, 32), Scheme.channel(8, false),
                Scheme.group(4, true, 64).withCodebook(Codebook.NF4));
        for (Scheme s : schemes) {
            for (int cols : new int[] {64, 70, 300}) {
                int rows = 21;
                byte[][] codes = new byte[rows][];
                byte[][] scales = new byte[rows][];
                byte[][] zeros = new byte[rows][];
                float[] dense = new float[rows * cols];
                for (int row = 0; row < rows; row++) {
                    float[] w = gaussian(rnd, cols, 0.05);
                    QuantizedRow q = Quantizer.quantize("t", row, w, s);
                    codes[row] = q.codes();
                    scales[row] = q.scales();
                    zeros[row] = q.zeros();
                    System.arraycopy(Quantizer.dequantize(q, s, cols), 0, dense, row * cols, cols);
                }
                QuantizedMatrix m = new QuantizedMatrix(s, rows, cols, codes, scales, zeros);
                for (int tokens : new int[] {1, 6, 11}) {
                    float[] x = gaussian(rnd, tokens * cols, 1);
                    float[] a = new float[tokens * rows];
                    float[] b = new float[tokens * rows];
                    float[] c = new float[tokens * rows];
                    m.matmul(x, tokens, a);
                    new DenseLinear(dense, rows, cols).matmul(x, tokens, b);
                    m.matmulReference(x, tokens, c);
                    assertArrayEquals(b, a, s + " cols " + cols + " tokens " + tokens);
                    assertArrayEquals(c, a, s + " cols " + cols + " tokens " + tokens + " (reference)");
                }
            }
        }
    }

    @Test
    void anExampleByHand() {
        // W = [[1, 2, 3], [4, 5, 6]], tokens (1, 0, -1) and (0, 1, 0)
        DenseLinear l = new DenseLinear(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        float[] out = new float[4];
        l.matmul(new float[] {1, 0, -1, 0, 1, 0}, 2, out);
        assertArrayEquals(new float[] {-2, -2, 2, 5}, out);
        assertEquals(2, l.rows());
    }
}
