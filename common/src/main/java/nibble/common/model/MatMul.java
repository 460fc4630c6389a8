package nibble.common.model;

import nibble.common.quant.VectorSupport;

/**
 * Matrix × matrix products for the batched forward pass: {@code out[t][r] = Σ_c W[r][c] · X[t][c]}
 * for a weight matrix {@code W} (rows × cols, row-major, as {@code nn.Linear} stores it) and a block
 * of token rows {@code X} (tokens × cols). Every output element is one chain of fused multiply-adds
 * over {@code c = 0, 1, …, cols-1} starting from +0 ({@link #reference}). The fast path
 * ({@link #multiply}) packs 16 rows × 256 columns of {@code W} at a time into a column-major panel
 * and runs a kernel that keeps 16 rows × 6 tokens of sums in registers, each vector lane holding one
 * (row, token) sum, so no lane is ever added to another: the result is bit-identical to the
 * reference whatever the blocking, the vector width or the number of tokens in a call (tested), and
 * the Vector API ({@code -Dnibble.vector=false} or a JVM without the module runs a scalar kernel with
 * the same result) changes only the speed.
 *
 * <p>Against the exact product, each element's error is at most {@code γ(cols)·Σ_c |W[r][c]·X[t][c]|}
 * with {@code γ(n) = n·u/(1 − n·u)}, {@code u = 2^-24} (one rounding per fused multiply-add); the
 * token-at-a-time decoder ({@link DenseLinear#dot}) has the same kind of bound with another order,
 * so the two differ by at most twice that.
 */
public final class MatMul {
    private MatMul() {
    }

    /** Rows of {@code W} per packed panel (two 8-float vectors). */
    static final int PANEL = 16;
    /** Columns of {@code W} per packed panel: 16 × 256 floats = 16 KiB, inside a level-1 cache. */
    static final int KBLOCK = 256;

    private static final boolean VECTOR = VectorSupport.enabled() && MatMulVector.ready();

    /** True when {@link #multiply} runs the Vector API kernel in this JVM. */
    public static boolean vectorized() {
        return VECTOR;
    }

    /**
     * Where the rows of a weight matrix come from, {@link #PANEL} at a time: a dense matrix hands out
     * its own array, a quantized one decodes the rows into a scratch array of its own.
     */
    interface Rows {
        /** The array holding rows {@code r0 .. r0+n-1} one after another, each {@code stride} floats apart. */
        float[] rows(int r0, int n);

        /** Where row {@code r0} starts in the array {@link #rows} returned for it. */
        int offset(int r0);
    }

    /**
     * The definition: {@code out[outOff + t·outStride + r] = fma-chain over c of w[r·cols + c]·x[t·xStride + c]}
     * for {@code w} row-major, rows × cols.
     */
    public static void reference(float[] w, int rows, int cols, float[] x, int xStride, int tokens, float[] out, int outStride) {
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < rows; r++) {
                float s = 0f;
                for (int c = 0; c < cols; c++) {
                    s = Math.fma(w[r * cols + c], x[t * xStride + c], s);
                }
                out[t * outStride + r] = s;
            }
        }
    }

    /** {@link #reference} for a dense row-major {@code w}, with rows {@code stride} apart (≥ cols). */
    public static void multiply(float[] w, int stride, int rows, int cols, float[] x, int xStride, int tokens, float[] out,
                                int outStride) {
        multiply(new Rows() {
            @Override
            public float[] rows(int r0, int n) {
                return w;
            }

            @Override
            public int offset(int r0) {
                return r0 * stride;
            }
        }, stride, rows, cols, x, xStride, tokens, out, outStride);
    }

    /**
     * The fast product over rows from {@code src} (rows {@code stride} apart in the array it gives):
     * panels of {@link #PANEL} rows, each packed {@link #KBLOCK} columns at a time and run against
     * every token, so a weight is read (or decoded) once per call whatever the number of tokens.
     */
    static void multiply(Rows src, int stride, int rows, int cols, float[] x, int xStride, int tokens, float[] out, int outStride) {
        if (tokens <= 0) {
            return;
        }
        float[] panel = new float[KBLOCK * PANEL];
        float[] acc = new float[tokens * PANEL];
        for (int r0 = 0; r0 < rows; r0 += PANEL) {
            int nr = Math.min(PANEL, rows - r0);
            float[] w = src.rows(r0, nr);
            int base = src.offset(r0);
            java.util.Arrays.fill(acc, 0f);
            for (int k0 = 0; k0 < cols; k0 += KBLOCK) {
                int kb = Math.min(KBLOCK, cols - k0);
                pack(w, base, stride, nr, k0, kb, panel);
                if (VECTOR) {
                    MatMulVector.panel(panel, kb, x, xStride, k0, tokens, acc);
                } else {
                    panelScalar(panel, kb, x, xStride, k0, tokens, acc);
                }
            }
            for (int t = 0; t < tokens; t++) {
                System.arraycopy(acc, t * PANEL, out, t * outStride + r0, nr);
            }
        }
    }

    /** {@code panel[k·16 + j] = w[base + j·stride + k0 + k]}, rows past {@code nr} zero. */
    private static void pack(float[] w, int base, int stride, int nr, int k0, int kb, float[] panel) {
        for (int j = 0; j < nr; j++) {
            int src = base + j * stride + k0;
            for (int k = 0; k < kb; k++) {
                panel[k * PANEL + j] = w[src + k];
            }
        }
        for (int j = nr; j < PANEL; j++) {
            for (int k = 0; k < kb; k++) {
                panel[k * PANEL + j] = 0f;
            }
        }
    }

    /** The scalar kernel: {@code acc[t·16 + j] = fma(panel[k·16 + j], x[t·xStride + k0 + k], acc[t·16 + j])} for k in order. */
    static void panelScalar(float[] panel, int kb, float[] x, int xStride, int k0, int tokens, float[] acc) {
        for (int t = 0; t < tokens; t++) {
            int xo = t * xStride + k0;
            int ao = t * PANEL;
            for (int j = 0; j < PANEL; j++) {
                float s = acc[ao + j];
                for (int k = 0; k < kb; k++) {
                    s = Math.fma(panel[k * PANEL + j], x[xo + k], s);
                }
                acc[ao + j] = s;
            }
        }
    }
}
