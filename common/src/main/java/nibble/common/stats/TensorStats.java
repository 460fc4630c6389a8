package nibble.common.stats;

import java.io.Serializable;
import java.util.Arrays;
import java.util.List;

/**
 * A tensor's statistics merged from its channels' {@link ChannelStats}: overall min/max/absmax,
 * mean and population std (combined exactly from the per-channel moments), the median channel
 * absmax and the outlier channels, those whose absmax exceeds {@code k} times that median
 * ({@link #DEFAULT_OUTLIER_FACTOR} = 5, a common threshold for "activation/weight outlier" channels;
 * with a zero median every nonzero channel counts). The median of an even count is the mean of the
 * two middle values.
 */
public record TensorStats(int channels, long count, float min, float max, float absMax, double mean, double std,
        float medianChannelAbsMax, double maxChannelKurtosis, int[] outlierChannels) implements Serializable {

    public static final double DEFAULT_OUTLIER_FACTOR = 5.0;

    public static TensorStats of(List<ChannelStats> channels) {
        return of(channels, DEFAULT_OUTLIER_FACTOR);
    }

    /** Merges channel statistics, listed in channel order (outliers are reported as indices into the list). */
    public static TensorStats of(List<ChannelStats> channels, double outlierFactor) {
        int c = channels.size();
        long count = 0;
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        double sum = 0;
        double maxKurt = Double.NEGATIVE_INFINITY;
        float[] absMax = new float[c];
        for (int i = 0; i < c; i++) {
            ChannelStats s = channels.get(i);
            count += s.count();
            if (s.count() > 0) {
                min = Math.min(min, s.min());
                max = Math.max(max, s.max());
                maxKurt = Math.max(maxKurt, s.kurtosis());
            }
            sum += s.mean() * s.count();
            absMax[i] = s.absMax();
        }
        if (count == 0) {
            return new TensorStats(c, 0, 0f, 0f, 0f, 0, 0, 0f, 0, new int[0]);
        }
        double mean = sum / count;
        double m2 = 0;
        for (ChannelStats s : channels) {
            double d = s.mean() - mean;
            m2 += s.count() * (s.std() * s.std() + d * d);
        }
        float[] sorted = absMax.clone();
        Arrays.sort(sorted);
        float median = c % 2 == 1 ? sorted[c / 2] : (float) ((sorted[c / 2 - 1] + (double) sorted[c / 2]) / 2);
        int[] outliers = new int[c];
        int k = 0;
        for (int i = 0; i < c; i++) {
            if (absMax[i] > outlierFactor * median) {
                outliers[k++] = i;
            }
        }
        return new TensorStats(c, count, min, max, Math.max(-min, max), mean, Math.sqrt(m2 / count), median, maxKurt,
                Arrays.copyOf(outliers, k));
    }
}
