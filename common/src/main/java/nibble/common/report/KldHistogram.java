package nibble.common.report;

import java.util.Arrays;

/**
 * The distribution of per-token KL divergences, for the report's KLD chart: one bin for exact zeros
 * (identical distributions, where a mean hides how many tokens are untouched) and log-spaced bins above,
 * because KL values span many decades.
 *
 * <p>{@code counts[0]} counts zeros (and the tiny negatives rounding can produce); {@code counts[i + 1]}
 * counts values in {@code [edges[i], edges[i + 1])}, where the first log bin also takes positive values
 * below {@code edges[0]} and the last also takes {@code edges[edges.length - 1]}. So
 * {@code counts.length == edges.length}.
 *
 * @param edges increasing bin edges of the log bins, from {@link #LOWEST} to at least the largest value
 * @param counts the zero bin then one count per log bin
 */
public record KldHistogram(double[] edges, long[] counts) {

    /** The lower edge of the first log bin, in nats. */
    public static final double LOWEST = 1e-6;

    /** The least upper edge, one decade above {@link #LOWEST}, so that the log bins never collapse. */
    public static final double LEAST_TOP = 1e-5;

    /** Log bins {@link #of(double[])} uses. */
    public static final int DEFAULT_BINS = 30;

    public KldHistogram {
        edges = edges.clone();
        counts = counts.clone();
        if (edges.length < 2 || counts.length != edges.length) {
            throw new IllegalArgumentException("a histogram needs at least two edges and one count per edge, got "
                    + edges.length + " edges and " + counts.length + " counts");
        }
    }

    /** A copy of the edges. */
    @Override
    public double[] edges() {
        return edges.clone();
    }

    /** A copy of the counts. */
    @Override
    public long[] counts() {
        return counts.clone();
    }

    /** Values counted. */
    public long total() {
        long t = 0;
        for (long c : counts) {
            t += c;
        }
        return t;
    }

    /** {@link #of(double[], int)} with {@link #DEFAULT_BINS} log bins. */
    public static KldHistogram of(double[] kl) {
        return of(kl, DEFAULT_BINS);
    }

    /**
     * Bins per-token KL values into a zero bin and {@code bins} log-spaced bins from {@link #LOWEST} to the
     * largest value (or to {@link #LEAST_TOP} when every value is smaller).
     */
    public static KldHistogram of(double[] kl, int bins) {
        if (bins < 1) {
            throw new IllegalArgumentException("need at least one bin, got " + bins);
        }
        double max = 0;
        for (double v : kl) {
            if (!Double.isFinite(v)) {
                throw new IllegalArgumentException("KL divergence " + v + " is not finite");
            }
            max = Math.max(max, v);
        }
        double lo = Math.log10(LOWEST);
        double hi = Math.log10(Math.max(max, LEAST_TOP));
        double[] edges = new double[bins + 1];
        for (int i = 0; i <= bins; i++) {
            edges[i] = Math.pow(10, lo + (hi - lo) * i / bins);
        }
        edges[0] = LOWEST;
        edges[bins] = Math.max(max, LEAST_TOP); // exact, whatever pow rounds to
        long[] counts = new long[bins + 1];
        for (double v : kl) {
            counts[v <= 0 ? 0 : 1 + logBin(edges, v)]++;
        }
        return new KldHistogram(edges, counts);
    }

    /** The log bin of a positive value: the last i with edges[i] ≤ v, clamped to 0..bins−1. */
    private static int logBin(double[] edges, double v) {
        int i = Arrays.binarySearch(edges, v);
        int bin = i >= 0 ? i : -i - 2;
        return Math.max(0, Math.min(edges.length - 2, bin));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KldHistogram h && Arrays.equals(edges, h.edges) && Arrays.equals(counts, h.counts);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(edges) + Arrays.hashCode(counts);
    }

    @Override
    public String toString() {
        return "KldHistogram[edges=" + Arrays.toString(edges) + ", counts=" + Arrays.toString(counts) + "]";
    }
}
