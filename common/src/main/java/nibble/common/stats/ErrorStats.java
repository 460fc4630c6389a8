package nibble.common.stats;

import java.io.Serializable;

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

    /** Adds one row: original values and their reconstruction. */
    public ErrorStats add(float[] original, float[] reconstructed) {
        if (original.length != reconstructed.length) {
            throw new IllegalArgumentException("lengths differ: " + original.length + " vs " + reconstructed.length);
        }
        // Locals and a compare instead of Math.max: the sums keep their order (same doubles), and the
        // maximum is the same for the finite values quantize measures; Math.max's NaN/-0 handling sat
        // on the loop's critical path (a quarter of quantize's CPU time in a JFR profile, issue 12).
        double sse = sumSqError;
        double sss = sumSqSignal;
        double ssr = sumSqRecon;
        double d = dot;
        double max = maxAbsError;
        for (int i = 0; i < original.length; i++) {
            double x = original[i];
            double y = reconstructed[i];
            double e = x - y;
            sse += e * e;
            sss += x * x;
            ssr += y * y;
            d += x * y;
            double a = Math.abs(e);
            if (a > max || a != a) { // NaN propagates as Math.max would
                max = a;
            }
        }
        sumSqError = sse;
        sumSqSignal = sss;
        sumSqRecon = ssr;
        dot = d;
        maxAbsError = max;
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
