package nibble.common.quant;

import java.io.Serializable;
import java.util.Arrays;
import nibble.common.InvalidInputException;

/**
 * GPTQ (Frantar et al., 2022): a row's columns are quantized one at a time, and each column's
 * rounding error is spread over the columns not yet quantized so that the layer's output error
 * {@code (w - w')ᵀ H (w - w')}, with {@code H} the mean {@code XᵀX} of the layer's input, stays
 * small. Rows are independent given {@code H}, so a tensor's rows can go to any task that holds the
 * layer's {@link Factor}.
 *
 * <p>The result is stored in the scheme's ordinary layout (for {@code int4} g32 symmetric F16, the
 * layout of GGUF Q4_0), so it dequantizes, runs and exports like any row of that scheme. A group's
 * scale (and zero-point) is fixed when the column loop first reaches one of the group's columns,
 * from the group's values at that moment (already corrected by the columns before it), with the
 * scheme's range method: min/max ({@code d = m / -8}, ggml's Q4_0 reference) or the clip search,
 * its errors weighted by {@code diag(H)} (the input channels' mean x²). Codes are
 * {@code clamp(rint(x·(1/d)) + zp)} with the stored scale, as {@link UniformCodec} computes them.
 *
 * <p>The factor ({@link #factor}): dead input channels ({@code H[c][c] = 0}) get weight 0 and
 * diagonal 1; {@code λ = damp · mean(diag H)} is added to the diagonal; optionally the columns are
 * taken in activation order (largest {@code H[c][c]} first, ties by index); then {@code U}, the
 * upper Cholesky factor of {@code (H + λI)⁻¹} in that order, computed as the inverse of the
 * upper-triangular {@code R} with {@code H = R Rᵀ} (the Cholesky factor of the reversed matrix, read
 * backwards), which avoids forming the inverse.
 *
 * <p>{@link #quantizeReference} is the textbook loop (after each column, every later column is
 * corrected at once); {@link #quantize} defers corrections to columns after the current block of
 * {@link #BLOCK} columns and applies them per block ("lazy batch" updates), over several rows at
 * a time so that a block of {@code U} is read once per batch of rows. Each weight receives the same
 * corrections in the same order in both, so they give identical bytes (tested).
 */
public final class Gptq {
    /** Columns per lazy-update block. */
    public static final int BLOCK = 32;

    private Gptq() {
    }

    /**
     * GPTQ's settings: {@code damp}, the fraction of the mean diagonal added to {@code H}'s diagonal
     * (default 0.01), and {@code actOrder}, columns in decreasing {@code H[c][c]} (default false).
     */
    public record Options(double damp, boolean actOrder) implements Serializable {
        public static final Options DEFAULT = new Options(0.01, false);

        public Options {
            if (!(damp >= 0 && damp <= 1)) {
                throw new InvalidInputException("gptq damp must be in [0, 1], got " + damp);
            }
        }
    }

    /**
     * One layer input's factor: {@code u} ({@code n×n} row-major, upper triangle used) is the upper
     * Cholesky factor of the damped inverse Hessian in quantization order, {@code order[k]} the
     * column quantized k-th, {@code dead[c]} channels calibration never saw non-zero, {@code diag[c]}
     * the undamped {@code H[c][c]} (weights of the clip search).
     */
    public record Factor(int n, double[] u, int[] order, boolean[] dead, double[] diag) implements Serializable {
    }

    /** The factor of {@code h} ({@code n×n} row-major, symmetric, positive semi-definite). */
    public static Factor factor(double[] h, int n, Options options) {
        if (h.length != (long) n * n) {
            throw new IllegalArgumentException("a Hessian of " + h.length + " values for " + n + " channels");
        }
        double[] diag = new double[n];
        boolean[] dead = new boolean[n];
        double mean = 0;
        for (int c = 0; c < n; c++) {
            diag[c] = h[c * n + c];
            if (!(diag[c] >= 0) || Double.isInfinite(diag[c])) {
                throw new InvalidInputException("Hessian diagonal " + c + " is " + diag[c]);
            }
            dead[c] = diag[c] == 0;
            mean += dead[c] ? 1 : diag[c];
        }
        mean /= n;
        double lambda = options.damp() * mean;
        Integer[] boxed = new Integer[n];
        for (int c = 0; c < n; c++) {
            boxed[c] = c;
        }
        if (options.actOrder()) {
            Arrays.sort(boxed, (a, b) -> a.equals(b) ? 0 : Double.compare(diag[b], diag[a]) != 0 ? Double.compare(diag[b], diag[a])
                    : Integer.compare(a, b));
        }
        int[] order = new int[n];
        for (int k = 0; k < n; k++) {
            order[k] = boxed[k];
        }
        // A = reversed, permuted, damped H: A[i][j] = Hp[n-1-i][n-1-j]
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++) {
            int ci = order[n - 1 - i];
            for (int j = 0; j <= i; j++) {
                int cj = order[n - 1 - j];
                double v = dead[ci] || dead[cj] ? (ci == cj ? 1 : 0) : h[ci * n + cj];
                if (i == j) {
                    v += lambda;
                }
                a[i * n + j] = v;
            }
        }
        choleskyLower(a, n);
        double[] m = lowerInverse(a, n);
        // U = J M J: U[i][j] = M[n-1-i][n-1-j], upper triangular
        double[] u = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n; j++) {
                u[i * n + j] = m[(n - 1 - i) * n + (n - 1 - j)];
            }
        }
        return new Factor(n, u, order, dead, diag);
    }

    /** In place: the lower Cholesky factor of the symmetric matrix whose lower triangle {@code a} holds. */
    static void choleskyLower(double[] a, int n) {
        for (int j = 0; j < n; j++) {
            int rj = j * n;
            double s = a[rj + j];
            for (int k = 0; k < j; k++) {
                s -= a[rj + k] * a[rj + k];
            }
            if (!(s > 0)) {
                throw new InvalidInputException("the damped Hessian is not positive definite at column " + j
                        + " (raise the recipe's gptq damp)");
            }
            double d = Math.sqrt(s);
            a[rj + j] = d;
            for (int i = j + 1; i < n; i++) {
                int ri = i * n;
                double t = a[ri + j];
                for (int k = 0; k < j; k++) {
                    t -= a[ri + k] * a[rj + k];
                }
                a[ri + j] = t / d;
            }
        }
    }

    /** The inverse of the lower-triangular {@code l}, row by row (each row a sum of earlier rows). */
    static double[] lowerInverse(double[] l, int n) {
        double[] m = new double[n * n];
        for (int i = 0; i < n; i++) {
            int ri = i * n;
            for (int k = 0; k < i; k++) {
                double f = l[ri + k];
                int rk = k * n;
                for (int j = 0; j <= k; j++) {
                    m[ri + j] += f * m[rk + j];
                }
            }
            double inv = 1 / l[ri + i];
            for (int j = 0; j < i; j++) {
                m[ri + j] *= -inv;
            }
            m[ri + i] = inv;
        }
        return m;
    }

    // ---------------------------------------------------------------- reference

    /** The textbook column loop for one row: quantize column {@code order[k]}, correct every later column. */
    public static QuantizedRow quantizeReference(String tensor, long row, float[] x, Scheme s, Factor f) {
        Row r = new Row(tensor, row, x, s, f);
        int n = f.n();
        for (int k = 0; k < n; k++) {
            double e = r.quantizeColumn(k);
            int uk = k * n;
            for (int j = k + 1; j < n; j++) {
                r.w[j] -= e * f.u()[uk + j];
            }
        }
        return r.result();
    }

    // ---------------------------------------------------------------- fast

    /** One row, as {@link #quantize(String, long, float[][], Scheme, Factor)} with a batch of one. */
    public static QuantizedRow quantize(String tensor, long row, float[] x, Scheme s, Factor f) {
        return quantize(tensor, row, new float[][] {x}, s, f)[0];
    }

    /**
     * Rows {@code firstRow, firstRow+1, ...} of a tensor at once, with lazy block updates: within a
     * block of {@link #BLOCK} columns each row is corrected column by column; the block's
     * corrections to later columns are applied after it, row by row, each later column receiving
     * them in column order as in {@link #quantizeReference}. Same bytes as the reference.
     */
    public static QuantizedRow[] quantize(String tensor, long firstRow, float[][] xs, Scheme s, Factor f) {
        int n = f.n();
        double[] u = f.u();
        Row[] rows = new Row[xs.length];
        for (int i = 0; i < xs.length; i++) {
            rows[i] = new Row(tensor, firstRow + i, xs[i], s, f);
        }
        double[] e = new double[BLOCK];
        for (int b0 = 0; b0 < n; b0 += BLOCK) {
            int b1 = Math.min(n, b0 + BLOCK);
            for (Row r : rows) {
                double[] w = r.w;
                r.block(b0, b1, e);
                for (int k = b0; k < b1; k++) {
                    double ek = r.quantizeColumn(k);
                    e[k - b0] = ek;
                    int uk = k * n;
                    for (int j = k + 1; j < b1; j++) {
                        w[j] -= ek * u[uk + j];
                    }
                }
                for (int k = b0; k < b1; k++) {
                    double ek = e[k - b0];
                    int uk = k * n;
                    for (int j = b1; j < n; j++) {
                        w[j] -= ek * u[uk + j];
                    }
                }
            }
        }
        QuantizedRow[] out = new QuantizedRow[rows.length];
        for (int i = 0; i < rows.length; i++) {
            out[i] = rows[i].result();
        }
        return out;
    }

    /** {@code (x - x')ᵀ H (x - x')} for one row ({@code h} {@code n×n} row-major). */
    public static double outputError(float[] x, float[] xq, double[] h, int n) {
        double[] d = new double[n];
        for (int c = 0; c < n; c++) {
            d[c] = (double) x[c] - xq[c];
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            double t = 0;
            int ri = i * n;
            for (int j = 0; j < n; j++) {
                t += h[ri + j] * d[j];
            }
            sum += d[i] * t;
        }
        return sum;
    }

    /** One row in progress: the corrected weights in quantization order, each group's scale once fixed, the codes. */
    private static final class Row {
        final String tensor;
        final long row;
        final Scheme s;
        final Factor f;
        final RowLayout layout;
        final double[] w;
        final int[] position;
        final int[] codes;
        final float[] scale;
        final int[] zp;
        final boolean[] fixed;
        final int qmin;
        final int qmax;
        /** Columns {@code [blockStart, k)} have corrections to columns from {@code blockEnd} on not yet applied ({@code pending}). */
        int blockStart;
        int blockEnd;
        double[] pending;

        Row(String tensor, long row, float[] x, Scheme s, Factor f) {
            if (x.length != f.n()) {
                throw new IllegalArgumentException("tensor '" + tensor + "' row " + row + " has " + x.length
                        + " columns; its Hessian has " + f.n());
            }
            if (s.codebook() != Codebook.UNIFORM || s.granularity() == Granularity.TENSOR) {
                throw new IllegalArgumentException("GPTQ needs a uniform codebook with channel or group granularity: " + s);
            }
            Quantizer.requireFinite(tensor, row, x);
            this.tensor = tensor;
            this.row = row;
            this.s = s;
            this.f = f;
            layout = RowLayout.of(s, x.length);
            int n = f.n();
            w = new double[n];
            position = new int[n];
            for (int k = 0; k < n; k++) {
                int c = f.order()[k];
                position[c] = k;
                w[k] = f.dead()[c] ? 0 : x[c];
            }
            codes = new int[n];
            int groups = layout.groupCount();
            scale = new float[groups];
            zp = new int[groups];
            fixed = new boolean[groups];
            qmin = s.qmin();
            qmax = s.qmax();
            blockEnd = n;
        }

        /** The fast path's current block and its pending corrections. */
        void block(int from, int to, double[] corrections) {
            blockStart = from;
            blockEnd = to;
            pending = corrections;
        }

        /** Quantizes the k-th column in order (fixing its group's scale first if needed); its error divided by {@code U[k][k]}. */
        double quantizeColumn(int k) {
            int c = f.order()[k];
            int g = c / layout.groupLength();
            if (!fixed[g]) {
                fix(g, k);
            }
            float x = (float) w[k];
            float inv = ReferenceGroup.inverse(scale[g]);
            int q = (int) Math.max(qmin, Math.min(qmax, Math.rint(x * inv) + zp[g]));
            codes[c] = q;
            float xq = (float) (q - zp[g]) * scale[g];
            return (w[k] - xq) / f.u()[k * f.n() + k];
        }

        /**
         * The group's scale and zero-point from its values as the reference has them before column
         * {@code k} (pending corrections applied in column order), by the scheme's range method.
         */
        private void fix(int g, int k) {
            int from = layout.groupStart(g);
            int to = layout.groupEnd(g);
            float[] v = new float[to - from];
            double[] weights = s.range() == RangeMethod.MSE ? new double[to - from] : null;
            for (int c = from; c < to; c++) {
                int p = position[c];
                double value = w[p];
                if (p >= blockEnd) {
                    for (int j = blockStart; j < k; j++) {
                        value -= pending[j - blockStart] * f.u()[j * f.n() + p];
                    }
                }
                v[c - from] = (float) value;
                if (weights != null) {
                    weights[c - from] = f.diag()[c];
                }
            }
            Scheme one = new Scheme(s.bits(), s.symmetric(), Granularity.GROUP, to - from, Codebook.UNIFORM, s.range(), 0,
                    s.scaleFormat(), weights != null ? Importance.ACTIVATIONS : Importance.NONE);
            RowLayout l = RowLayout.of(one, to - from);
            QuantizedRow q = UniformCodec.INSTANCE.quantizeReference(tensor, row, v, l, null, weights);
            scale[g] = l.scale(q.scales(), 0);
            zp[g] = l.hasZeros() ? l.zeroPoint(q.zeros(), 0) : 0;
            if (!Float.isFinite(scale[g])) {
                throw Quantizer.scaleOverflow(tensor, row, g, -Math.abs(scale[g]), Math.abs(scale[g]), s.scaleFormat());
            }
            fixed[g] = true;
        }

        QuantizedRow result() {
            byte[] scales = layout.newScales();
            byte[] zeros = layout.newZeros();
            for (int g = 0; g < layout.groupCount(); g++) {
                layout.putScale(scales, g, scale[g]);
                if (zeros != null) {
                    layout.putZeroPoint(zeros, g, zp[g]);
                }
            }
            return new QuantizedRow(layout.packCodes(codes), scales, zeros);
        }
    }
}
