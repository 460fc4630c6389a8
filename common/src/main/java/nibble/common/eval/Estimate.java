package nibble.common.eval;

import java.io.Serializable;
import java.util.function.DoubleUnaryOperator;

/**
 * A mean over sequences with a 95% confidence interval, {@code mean ± 1.96·s/√n} with {@code s} the
 * sample standard deviation (normal approximation). With one sequence the interval is unknown (NaN).
 */
public record Estimate(double mean, double low, double high, int n) implements Serializable {

    /** The mean and interval of {@code values}, one per sequence. */
    public static Estimate of(double[] values) {
        int n = values.length;
        if (n == 0) {
            throw new IllegalArgumentException("no values");
        }
        double sum = 0;
        for (double v : values) {
            sum += v;
        }
        double mean = sum / n;
        if (n == 1) {
            return new Estimate(mean, Double.NaN, Double.NaN, 1);
        }
        double ss = 0;
        for (double v : values) {
            ss += (v - mean) * (v - mean);
        }
        double half = 1.96 * Math.sqrt(ss / (n - 1)) / Math.sqrt(n);
        return new Estimate(mean, mean - half, mean + half, n);
    }

    /** {@code f} applied to the mean and both ends: the interval of a monotone increasing transform. */
    public Estimate map(DoubleUnaryOperator f) {
        return new Estimate(f.applyAsDouble(mean), f.applyAsDouble(low), f.applyAsDouble(high), n);
    }
}
