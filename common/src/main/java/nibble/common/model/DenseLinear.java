package nibble.common.model;

/** A {@link Linear} over a row-major float matrix. Sums in a fixed order, so results are reproducible. */
public final class DenseLinear implements Linear {
    private final float[] w;
    private final int rows;
    private final int cols;

    /** Wraps {@code w} (not copied): {@code rows * cols} values, row-major. */
    public DenseLinear(float[] w, int rows, int cols) {
        if (rows <= 0 || cols <= 0 || (long) rows * cols != w.length) {
            throw new IllegalArgumentException("matrix of " + w.length + " values is not " + rows + " x " + cols);
        }
        this.w = w;
        this.rows = rows;
        this.cols = cols;
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    @Override
    public void matvec(float[] x, float[] out) {
        for (int r = 0; r < rows; r++) {
            out[r] = dot(w, r * cols, x, cols);
        }
    }

    @Override
    public void matmul(float[] x, int tokens, float[] out) {
        MatMul.multiply(w, cols, rows, cols, x, cols, tokens, out, rows);
    }

    @Override
    public void matmulReference(float[] x, int tokens, float[] out) {
        MatMul.reference(w, rows, cols, x, cols, tokens, out, rows);
    }

    /** {@code w[base, base+n) · x[0, n)} with four accumulators in a fixed order; every Linear sums this way. */
    static float dot(float[] w, int base, float[] x, int n) {
        int n4 = n & ~3;
        float s0 = 0;
        float s1 = 0;
        float s2 = 0;
        float s3 = 0;
        int c = 0;
        for (; c < n4; c += 4) {
            s0 += w[base + c] * x[c];
            s1 += w[base + c + 1] * x[c + 1];
            s2 += w[base + c + 2] * x[c + 2];
            s3 += w[base + c + 3] * x[c + 3];
        }
        for (; c < n; c++) {
            s0 += w[base + c] * x[c];
        }
        return (s0 + s1) + (s2 + s3);
    }
}
