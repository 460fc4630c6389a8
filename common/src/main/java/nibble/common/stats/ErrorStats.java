package nibble.common.stats;

import java.io.Serializable;
import nibble.common.quant.VectorSupport;

/**
 * Reconstruction error of quantized values against the originals, accumulated over rows and
 * mergeable (Spark combines per-partition results with {@link #merge}). Sums are kept in double.
 *
 * <p>SQNR is {@code 10 log10(sum x^2 / sum (x - x')^2)} in dB: {@code +Infinity} when the noise is
 * zero (exact reconstruction, e.g. an all-zero tensor), {@code -Infinity} for noise on a zero
 * signal, NaN when empty. JSON has no infinities, so writers should emit such values as
 * {@code null} (see {@code Json.finite}). Cosine similarity of two zero vectors is 1 (identical);
 * of a zero and a nonzero vector, 0.
 */
public final class ErrorStats implements Serializable {
    private static final long serialVersionUID = 1L;

    private long count;
    private double sumSqError;
    private double sumSqSignal;
    private double sumSqRecon;
    private double dot;
    private double maxAbsError;

    /**
     * Adds one row: original values and their reconstruction. The row's sums are taken in four
     * interleaved partial sums (element i into sum i mod 4, the tail after the last whole four in
     * order), which break the loop's dependency chains (1.6× on 2048-value rows); the row's totals
     * are then added to this one's. The order is fixed, so the same rows give the same doubles, with
     * the Vector API path ({@link ErrorVector}) or without it ({@link #addReference}).
     */
    public ErrorStats add(float[] original, float[] reconstructed) {
        if (original.length != reconstructed.length) {
            throw new IllegalArgumentException("lengths differ: " + original.length + " vs " + reconstructed.length);
        }
        if (VectorSupport.enabled() && original.length >= VECTOR_MIN) {
            ErrorVector.add(this, original, reconstructed);
            return this;
        }
        return addReference(original, reconstructed);
    }

    /** Rows shorter than this take the scalar loop: the vector one's set-up and lane sums would cost more. */
    static final int VECTOR_MIN = 16;

    /** The plain definition of {@link #add}, in scalar code. */
    public ErrorStats addReference(float[] original, float[] reconstructed) {
        if (original.length != reconstructed.length) {
            throw new IllegalArgumentException("lengths differ: " + original.length + " vs " + reconstructed.length);
        }
        double e0 = 0, e1 = 0, e2 = 0, e3 = 0;
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        double r0 = 0, r1 = 0, r2 = 0, r3 = 0;
        double d0 = 0, d1 = 0, d2 = 0, d3 = 0;
        double max = 0;
        int whole = original.length & ~3;
        for (int i = 0; i < whole; i += 4) {
            double x0 = original[i], x1 = original[i + 1], x2 = original[i + 2], x3 = original[i + 3];
            double y0 = reconstructed[i], y1 = reconstructed[i + 1], y2 = reconstructed[i + 2], y3 = reconstructed[i + 3];
            double f0 = x0 - y0, f1 = x1 - y1, f2 = x2 - y2, f3 = x3 - y3;
            e0 += f0 * f0;
            e1 += f1 * f1;
            e2 += f2 * f2;
            e3 += f3 * f3;
            s0 += x0 * x0;
            s1 += x1 * x1;
            s2 += x2 * x2;
            s3 += x3 * x3;
            r0 += y0 * y0;
            r1 += y1 * y1;
            r2 += y2 * y2;
            r3 += y3 * y3;
            d0 += x0 * y0;
            d1 += x1 * y1;
            d2 += x2 * y2;
            d3 += x3 * y3;
            max = Math.max(max, Math.max(Math.max(Math.abs(f0), Math.abs(f1)), Math.max(Math.abs(f2), Math.abs(f3))));
        }
        return addRow(original, reconstructed, whole, (e0 + e1) + (e2 + e3), (s0 + s1) + (s2 + s3), (r0 + r1) + (r2 + r3),
                (d0 + d1) + (d2 + d3), max);
    }

    /** Adds a row whose whole fours gave these sums and maximum: the tail from {@code whole} on, in order, then the totals. */
    ErrorStats addRow(float[] original, float[] reconstructed, int whole, double sse, double sss, double ssr, double d, double max) {
        for (int i = whole; i < original.length; i++) {
            double x = original[i];
            double y = reconstructed[i];
            double e = x - y;
            sse += e * e;
            sss += x * x;
            ssr += y * y;
            d += x * y;
            max = Math.max(max, Math.abs(e));
        }
        sumSqError += sse;
        sumSqSignal += sss;
        sumSqRecon += ssr;
        dot += d;
        maxAbsError = Math.max(maxAbsError, max);
        count += original.length;
        return this;
    }

    /** Adds {@code other} into this one and returns this. */
    public ErrorStats merge(ErrorStats other) {
        count += other.count;
        sumSqError += other.sumSqError;
        sumSqSignal += other.sumSqSignal;
        sumSqRecon += other.sumSqRecon;
        dot += other.dot;
        maxAbsError = Math.max(maxAbsError, other.maxAbsError);
        return this;
    }

    public long count() {
        return count;
    }

    /** Mean squared error; NaN when empty. */
    public double mse() {
        return count == 0 ? Double.NaN : sumSqError / count;
    }

    /** Signal-to-quantization-noise ratio in dB; see the class comment for the edge cases. */
    public double sqnrDb() {
        if (count == 0) {
            return Double.NaN;
        }
        if (sumSqError == 0) {
            return Double.POSITIVE_INFINITY;
        }
        return 10 * Math.log10(sumSqSignal / sumSqError);
    }

    /** Σ (x − x')², the noise energy. */
    public double sumSqError() {
        return sumSqError;
    }

    /** Σ x², the signal energy. */
    public double sumSqSignal() {
        return sumSqSignal;
    }

    public double maxAbsError() {
        return maxAbsError;
    }

    /** Cosine similarity of the original and reconstructed vectors; NaN when empty. */
    public double cosine() {
        if (count == 0) {
            return Double.NaN;
        }
        if (sumSqSignal == 0 || sumSqRecon == 0) {
            return sumSqSignal == sumSqRecon ? 1.0 : 0.0;
        }
        return dot / (Math.sqrt(sumSqSignal) * Math.sqrt(sumSqRecon));
    }

    @Override
    public String toString() {
        return String.format("n=%d mse=%.4g sqnr=%.2fdB maxAbs=%.4g cos=%.6f", count, mse(), sqnrDb(), maxAbsError, cosine());
    }
}
