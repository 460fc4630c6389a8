package nibble.common.stats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import nibble.common.json.Json;
import org.junit.jupiter.api.Test;

class StatsTest {

    @Test
    void channelStatsMatchSortBasedComputation() {
        SplittableRandom r = new SplittableRandom(7);
        for (int t = 0; t < 300; t++) {
            int n = 1 + r.nextInt(t < 100 ? 20 : 5000);
            float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = r.nextInt(10) == 0 ? (float) r.nextInt(5) : (float) (r.nextGaussian() * Math.exp(r.nextGaussian())); // ties and tails
            }
            ChannelStats s = ChannelStats.of(x);
            float[] abs = new float[n];
            double sum = 0;
            for (int i = 0; i < n; i++) {
                abs[i] = Math.abs(x[i]);
                sum += x[i];
            }
            Arrays.sort(abs);
            float[] sorted = x.clone();
            Arrays.sort(sorted);
            assertEquals(sorted[0], s.min());
            assertEquals(sorted[n - 1], s.max());
            assertEquals(abs[n - 1], s.absMax());
            assertEquals(abs[(int) Math.ceil(0.99 * n - 1e-9) - 1], s.p99Abs(), "n=" + n);
            assertEquals(abs[(int) Math.ceil(0.999 * n - 1e-9) - 1], s.p999Abs(), "n=" + n);
            double mean = sum / n;
            double m2 = 0;
            double m4 = 0;
            for (float v : x) {
                m2 += (v - mean) * (v - mean);
                m4 += Math.pow(v - mean, 4);
            }
            assertEquals(mean, s.mean(), 1e-9 * (1 + Math.abs(mean)));
            assertEquals(Math.sqrt(m2 / n), s.std(), 1e-9 * (1 + s.std()));
            double kurt = m2 == 0 ? 0 : (m4 / n) / ((m2 / n) * (m2 / n)) - 3;
            assertEquals(kurt, s.kurtosis(), 1e-6 * (1 + Math.abs(kurt)));
        }
        assertEquals(ChannelStats.nearestRank(99.9, 1000), 999);
        assertEquals(ChannelStats.nearestRank(99, 100), 99);
        assertEquals(ChannelStats.nearestRank(99.9, 10), 10);
    }

    @Test
    void gaussianHasNearZeroExcessKurtosisAndConstantHasZero() {
        SplittableRandom r = new SplittableRandom(8);
        float[] x = new float[200_000];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        assertEquals(0, ChannelStats.of(x).kurtosis(), 0.05);
        float[] c = new float[10];
        Arrays.fill(c, 2f);
        assertEquals(0, ChannelStats.of(c).kurtosis());
        assertEquals(0, ChannelStats.of(c).std());
    }

    @Test
    void tensorStatsMergeChannelsAndFindOutliers() {
        SplittableRandom r = new SplittableRandom(9);
        List<ChannelStats> channels = new ArrayList<>();
        List<Float> all = new ArrayList<>();
        for (int c = 0; c < 21; c++) {
            float[] x = new float[100 + c];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (r.nextDouble() * 2 - 1) * (c == 4 || c == 17 ? 10 : 1);
                all.add(x[i]);
            }
            channels.add(ChannelStats.of(x));
        }
        TensorStats t = TensorStats.of(channels);
        assertArrayEquals(new int[] {4, 17}, t.outlierChannels());
        double mean = all.stream().mapToDouble(Float::doubleValue).average().orElseThrow();
        double var = all.stream().mapToDouble(v -> (v - mean) * (v - mean)).sum() / all.size();
        assertEquals(all.size(), t.count());
        assertEquals(mean, t.mean(), 1e-9);
        assertEquals(Math.sqrt(var), t.std(), 1e-9);
        assertTrue(t.medianChannelAbsMax() > 0.9 && t.medianChannelAbsMax() <= 1);
        assertEquals(0, TensorStats.of(channels, 20).outlierChannels().length);
    }

    /**
     * The Vector API path of {@link ErrorStats#add} against {@link ErrorStats#addReference}, bit for
     * bit: every length up to 70 (tails of 0-3, rows below and above the vector minimum) and long
     * rows, with values over twelve orders of magnitude so a sum taken in another order would show.
     */
    @Test
    void errorStatsVectorPathGivesTheReferenceDoubles() {
        assertTrue(nibble.common.quant.VectorSupport.enabled(), nibble.common.quant.VectorSupport.describe());
        java.util.Random g = new java.util.Random(11);
        int[] lengths = java.util.stream.IntStream.concat(java.util.stream.IntStream.rangeClosed(0, 70),
                java.util.stream.IntStream.of(2048, 4099, 11008)).toArray();
        for (int n : lengths) {
            float[] x = new float[n];
            float[] y = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = (float) (g.nextGaussian() * Math.pow(10, g.nextInt(13) - 6));
                y[i] = g.nextInt(8) == 0 ? x[i] : x[i] + (float) (0.05 * x[i] * g.nextGaussian());
            }
            ErrorStats vector = new ErrorStats().add(x, y).add(y, x);
            ErrorStats reference = new ErrorStats().addReference(x, y).addReference(y, x);
            String at = "n " + n;
            assertEquals(reference.count(), vector.count(), at);
            assertEquals(Double.doubleToRawLongBits(reference.sumSqError()), Double.doubleToRawLongBits(vector.sumSqError()), at);
            assertEquals(Double.doubleToRawLongBits(reference.sumSqSignal()), Double.doubleToRawLongBits(vector.sumSqSignal()), at);
            assertEquals(Double.doubleToRawLongBits(reference.maxAbsError()), Double.doubleToRawLongBits(vector.maxAbsError()), at);
            assertEquals(Double.doubleToRawLongBits(reference.cosine()), Double.doubleToRawLongBits(vector.cosine()), at);
        }
    }

    /** The four partial sums against one plain loop in double, on every row length up to 37 and a long row; NaN propagates to the maximum. */
    @Test
    void errorStatsAgreeWithAPlainLoop() {
        java.util.Random g = new java.util.Random(5);
        int[] lengths = java.util.stream.IntStream.concat(java.util.stream.IntStream.rangeClosed(0, 37), java.util.stream.IntStream.of(4099, 4100))
                .toArray();
        for (int n : lengths) {
            float[] x = new float[n];
            float[] y = new float[n];
            double sse = 0, sss = 0, max = 0;
            for (int i = 0; i < n; i++) {
                x[i] = (float) g.nextGaussian();
                y[i] = x[i] + (float) (0.1 * g.nextGaussian());
                double e = (double) x[i] - y[i];
                sse += e * e;
                sss += (double) x[i] * x[i];
                max = Math.max(max, Math.abs(e));
            }
            ErrorStats got = new ErrorStats().add(x, y);
            assertEquals(n, got.count());
            assertEquals(sse, got.sumSqError(), 1e-12 * sse, "n " + n);
            assertEquals(sss, got.sumSqSignal(), 1e-12 * sss, "n " + n);
            assertEquals(max, got.maxAbsError(), 0, "n " + n);
            if (n > 0) {
                y[g.nextInt(n)] = Float.NaN;
                assertTrue(Double.isNaN(new ErrorStats().add(x, y).maxAbsError()), "n " + n);
            }
        }
    }

    @Test
    void errorStatsMergeAndEdgeCases() {
        float[] x = {1f, -2f, 3f, 0.5f};
        float[] y = {1.1f, -2f, 2.9f, 0.5f};
        ErrorStats all = new ErrorStats().add(x, y).add(y, x);
        ErrorStats merged = new ErrorStats().add(x, y).merge(new ErrorStats().add(y, x));
        assertEquals(all.mse(), merged.mse(), 0);
        assertEquals(all.sqnrDb(), merged.sqnrDb(), 0);
        assertEquals(all.cosine(), merged.cosine(), 0);
        assertEquals(8, merged.count());
        assertEquals(0.1f, merged.maxAbsError(), 1e-6);
        double noise = (0.1f - 0f) * 0; // computed below directly
        double sx = 1 + 4 + 9 + 0.25;
        double se = (1.1f - 1f) * (double) (1.1f - 1f) + (2.9f - 3f) * (double) (2.9f - 3f);
        assertEquals(10 * Math.log10(sx / se), new ErrorStats().add(x, y).sqnrDb(), 1e-9 + noise);
        ErrorStats exact = new ErrorStats().add(x, x);
        assertEquals(Double.POSITIVE_INFINITY, exact.sqnrDb());
        assertEquals(1.0, exact.cosine(), 1e-12);
        assertEquals(null, Json.finite(exact.sqnrDb()));
        ErrorStats zeros = new ErrorStats().add(new float[3], new float[3]);
        assertEquals(1.0, zeros.cosine());
        assertEquals(0.0, zeros.mse());
        assertTrue(Double.isNaN(new ErrorStats().mse()));
    }
}
