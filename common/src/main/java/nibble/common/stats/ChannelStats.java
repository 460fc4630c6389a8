package nibble.common.stats;

import java.io.Serializable;

/**
 * Statistics of one channel (row) of weights, to pick recipes and clip values.
 *
 * <p>{@code std} is the population standard deviation; {@code kurtosis} is <em>excess</em> kurtosis
 * ({@code m4 / m2^2 - 3}, 0 for a Gaussian; defined as 0 when the variance is 0). {@code p99Abs} and
 * {@code p999Abs} are exact nearest-rank percentiles of |w|: the {@link #nearestRank}-th smallest
 * |w|, found by selection, not a full sort. An empty row has count 0 and zeros everywhere.
 */
public record ChannelStats(long count, float min, float max, float absMax, double mean, double std, double kurtosis,
        float p99Abs, float p999Abs) implements Serializable {

    public static ChannelStats of(float[] row) {
        int n = row.length;
        if (n == 0) {
            return new ChannelStats(0, 0f, 0f, 0f, 0, 0, 0, 0f, 0f);
        }
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        double sum = 0;
        for (float v : row) {
            min = Math.min(min, v);
            max = Math.max(max, v);
            sum += v;
        }
        double mean = sum / n;
        double m2 = 0;
        double m4 = 0;
        for (float v : row) {
            double d = v - mean;
            double d2 = d * d;
            m2 += d2;
            m4 += d2 * d2;
        }
        m2 /= n;
        m4 /= n;
        double kurtosis = m2 == 0 ? 0 : m4 / (m2 * m2) - 3;
        float[] abs = new float[n];
        for (int i = 0; i < n; i++) {
            abs[i] = Math.abs(row[i]);
        }
        int k99 = nearestRank(99, n) - 1;
        int k999 = nearestRank(99.9, n) - 1;
        float p99 = Select.kth(abs, 0, n, k99);
        float p999 = Select.kth(abs, k99, n, k999); // everything before k99 is already <= abs[k99]
        return new ChannelStats(n, min, max, Math.max(-min, max), mean, Math.sqrt(m2), kurtosis, p99, p999);
    }

    /** The 1-based nearest rank of percentile {@code p} among {@code n} values: {@code ceil(p/100 * n)}, at least 1. */
    public static int nearestRank(double p, int n) {
        long r = (long) Math.ceil(p * n / 100.0 - 1e-9);
        return (int) Math.max(1, Math.min(n, r));
    }
}
