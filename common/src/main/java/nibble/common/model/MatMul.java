package nibble.common.model;

import nibble.common.quant.VectorSupport;

/**
 * Matrix × matrix products for the batched forward pass: {@code out[t][r] = Σ_c W[r][c] · X[t][c]}
 * for a weight matrix {@code W} (rows × cols, row-major, as {@code nn.Linear} stores it) and a block
 * of token rows {@code X} (tokens × cols). Every output element is one chain of fused multiply-adds
 * over {@code c = 0, 1, …, cols-1} starting from +0 ({@link #reference}). The fast path
 * ({@link #multiply}) packs a panel of rows (two vectors' worth: 16 at 256 bits) × 256 columns of
 * {@code W} at a time, column-major, and runs a kernel that keeps the panel's rows × 6 tokens of sums
 * in registers, each vector lane holding one (row, token) sum, so no lane is ever added to another: the result is bit-identical to the
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

    private static final boolean VECTOR = VectorSupport.enabled();
    /** Rows of {@code W} per packed panel: two vectors (16 rows at 256 bits, 32 at 512; 16 for the scalar kernel). */
    static final int PANEL = VECTOR ? MatMulVector.panelRows() : 16;
    /** Columns of {@code W} per packed panel: at most 32 × 256 floats = 32 KiB, about a level-1 cache. */
    static final int KBLOCK = 256;

    /** True when {@link #multiply} runs the Vector API kernel in this JVM. */
    public static boolean vectorized() {
        return VECTOR;
    }

    /** One line for logs and benchmarks: which kernel runs. */
    public static String describe() {
        return VECTOR ? "vector (" + MatMulVector.shape() + ")" : "scalar (" + VectorSupport.describe() + ")";
    }

    /**
     * A weight matrix as the kernel reads it: {@link #pack} writes columns {@code k0 .. k0+kb-1} of
     * rows {@code r0 .. r0+nr-1} column-major into a panel, {@code panel[k·PANEL + j] = W[r0 + j][k0 + k]},
     * rows past {@code nr} zero. A dense matrix copies ({@link #packRows}); a packed one decodes.
     * Calls come panel by panel, each panel's column blocks in order.
     */
    interface Panels {
        void pack(int r0, int nr, int k0, int kb, float[] panel);
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
        multiply((r0, nr, k0, kb, panel) -> packRows(w, r0 * stride, stride, nr, k0, kb, panel), rows, cols, x, xStride, tokens,
                out, outStride);
    }

    /**
     * The fast product over the weights {@code src} packs: panels of {@link #PANEL} rows, each packed
     * {@link #KBLOCK} columns at a time and run against every token, so a weight is read (or decoded)
     * once per call whatever the number of tokens.
     */
    static void multiply(Panels src, int rows, int cols, float[] x, int xStride, int tokens, float[] out, int outStride) {
        if (tokens <= 0) {
            return;
        }
        float[] panel = new float[KBLOCK * PANEL];
        float[] partial = null;
        for (int r0 = 0; r0 < rows; r0 += PANEL) {
            int nr = Math.min(PANEL, rows - r0);
            // a full panel accumulates in place in out; a partial one in a buffer of PANEL per token
            float[] acc = out;
            int accOff = r0;
            int accStride = outStride;
            if (nr < PANEL) {
                partial = partial != null ? partial : new float[tokens * PANEL];
                acc = partial;
                accOff = 0;
                accStride = PANEL;
            }
            for (int k0 = 0; k0 < cols; k0 += KBLOCK) {
                int kb = Math.min(KBLOCK, cols - k0);
                src.pack(r0, nr, k0, kb, panel);
                if (VECTOR) {
                    MatMulVector.panel(panel, kb, x, xStride, k0, tokens, acc, accOff, accStride);
                } else {
                    panelScalar(panel, kb, x, xStride, k0, tokens, acc, accOff, accStride);
                }
            }
            if (nr < PANEL) {
                for (int t = 0; t < tokens; t++) {
                    System.arraycopy(partial, t * PANEL, out, t * outStride + r0, nr);
                }
            }
        }
    }

    /** {@code panel[k·PANEL + j] = w[base + j·stride + k0 + k]}, rows past {@code nr} zero. */
    static void packRows(float[] w, int base, int stride, int nr, int k0, int kb, float[] panel) {
        int src = base + k0;
        for (int k = 0; k < kb; k++) {
            int o = k * PANEL;
            for (int j = 0; j < nr; j++) {
                panel[o + j] = w[src + j * stride + k];
            }
            for (int j = nr; j < PANEL; j++) {
                panel[o + j] = 0f;
            }
        }
    }

    /**
     * The scalar kernel: for each token {@code t} and panel row {@code j}, the sum at {@code
     * acc[off + t·stride + j]} (+0 when {@code k0 = 0}, whatever is there) followed by {@code
     * fma(panel[k·PANEL + j], x[t·xStride + k0 + k], ·)} for k in order.
     */
    static void panelScalar(float[] panel, int kb, float[] x, int xStride, int k0, int tokens, float[] acc, int off, int stride) {
        for (int t = 0; t < tokens; t++) {
            int xo = t * xStride + k0;
            int ao = off + t * stride;
            for (int j = 0; j < PANEL; j++) {
                float s = k0 == 0 ? 0f : acc[ao + j];
                for (int k = 0; k < kb; k++) {
                    s = Math.fma(panel[k * PANEL + j], x[xo + k], s);
                }
                acc[ao + j] = s;
            }
        }
    }
}
