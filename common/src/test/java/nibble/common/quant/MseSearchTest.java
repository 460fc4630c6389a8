package nibble.common.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import nibble.common.InvalidInputException;

/**
 * The vector MSE search's pruning ({@link UniformVector#search}, {@link UniformBlocks#runMse}): the
 * ratio-only clipped bound is a lower bound of the reference's error for its candidate and every
 * later one, tight where a group is its extreme alone; and the search keeps the reference's choice
 * on corpora where the later blocks win, where errors tie, and on a large random corpus.
 */
class MseSearchTest {
    private static final float[] R = Quantizer.CLIP_RATIOS;

    @Test
    void clippedBoundIsALowerBoundOfEveryLaterCandidatesError() {
        SplittableRandom r = new SplittableRandom(31);
        int checked = 0;
        for (int t = 0; t < 20000; t++) {
            Scheme s = Scheme.group(t % 2 == 0 ? 4 : 8, true, 32).withScaleFormat(t % 3 == 0 ? ScaleFormat.F32 : ScaleFormat.F16);
            int n = 1 + r.nextInt(40);
            double mag = Math.scalb(1.0, -30 + r.nextInt(42)); // scales from F16 subnormal to large
            float[] x = switch (t % 4) {
                case 0 -> Rows.studentT(r, n, 1 + r.nextInt(4), mag);
                case 1 -> Rows.gaussian(r, n, mag);
                case 2 -> Rows.grid(r, n);
                default -> extremeAlone(r, n, (float) mag);
            };
            float gmin = min(x);
            float gmax = max(x);
            float lo = Math.min(gmin, 0f);
            float hi = Math.max(gmax, 0f);
            double previous = 0;
            for (int k = 1; k < R.length; k++) {
                float sc = UniformCodec.scale(s, lo * R[k], hi * R[k], false);
                if (!Float.isFinite(sc)) {
                    continue;
                }
                double e = UniformCodec.error(x, 0, n, sc, 0, s.qmin(), s.qmax());
                double bound = UniformVector.clippedBound(k, lo, hi, -s.qmin(), gmin, gmax);
                assertTrue(bound <= e, () -> s + " k " + " bound " + bound + " > error " + e);
                assertTrue(bound >= previous, "later candidates' bounds do not shrink");
                previous = bound;
                checked++;
            }
        }
        assertTrue(checked > 400000);
    }

    @Test
    void clippedBoundIsTightWhenTheGroupIsItsExtreme() {
        Scheme s = Scheme.group(4, true, 32);
        SplittableRandom r = new SplittableRandom(32);
        for (int t = 0; t < 1000; t++) {
            float m = (float) ((r.nextBoolean() ? 1 : -1) * Math.scalb(1 + r.nextDouble(), -8 + r.nextInt(16)));
            float[] x = {m};
            float lo = Math.min(m, 0f);
            float hi = Math.max(m, 0f);
            for (int k = 10; k < R.length; k++) { // ratio <= 0.8: the whole error is the clipped part
                double e = UniformCodec.error(x, 0, 1, UniformCodec.scale(s, lo * R[k], hi * R[k], false), 0, -8, 7);
                double bound = UniformVector.clippedBound(k, lo, hi, 8, m, m);
                assertTrue(bound >= 0.98 * e && bound <= e, m + " k " + k + ": " + bound + " vs " + e);
            }
        }
    }

    /** Groups whose best clip is small (the later blocks win), ties, tiny and F16-subnormal scales: the reference's bytes. */
    @Test
    void laterBlocksAndTiesKeepTheReferenceChoice() {
        SplittableRandom r = new SplittableRandom(33);
        int[] wins = new int[R.length];
        for (int t = 0; t < 600; t++) {
            Scheme s = Scheme.group(t % 3 == 0 ? 8 : 4, true, t % 5 == 0 ? 16 : t % 2 == 0 ? 1024 : 32).withRange(RangeMethod.MSE)
                    .withScaleFormat(t % 4 == 0 ? ScaleFormat.F32 : ScaleFormat.F16);
            int len = s.groupSize();
            int n = len * 8 * (1 + r.nextInt(3)) + (t % 2 == 0 ? 0 : r.nextInt(2 * len));
            float[] x = new float[n];
            for (int from = 0; from < n; from += len) {
                float[] g = switch (r.nextInt(5)) {
                    case 0 -> clustered(r, len, (float) Math.scalb(1.0, -20 + r.nextInt(24)));
                    case 4 -> halfSteps(r, len, (float) Math.scalb(1.0, -20 + r.nextInt(24)));
                    case 1 -> extremeAlone(r, len, (float) Math.scalb(1.0, -26 + r.nextInt(30)));
                    case 2 -> fewValues(r, len);
                    default -> Rows.studentT(r, len, 1 + r.nextInt(5), Math.scalb(1.0, -12 + r.nextInt(12)));
                };
                System.arraycopy(g, 0, x, from, Math.min(len, n - from));
            }
            QuantizedRow ref = Quantizer.quantizeReference("t", t, x, s, null);
            QuantizedRow vector = Quantizer.quantizeVector("t", t, x, s, null);
            assertArrayEquals(ref.scales(), vector.scales(), s + " row " + t + ": scales");
            assertArrayEquals(ref.codes(), vector.codes(), s + " row " + t + ": codes");
            assertEquals(ref, Quantizer.quantizeScalar("t", t, x, s, null), s + " row " + t + ": scalar");
            if (s.bits() == 4 && s.groupSize() == 1024) {
                for (int from = 0; from + len <= n; from += len) {
                    wins[referenceChoice(s, x, from, from + len)]++;
                }
            }
        }
        int late = 0;
        for (int k = 2 * UniformVector.LANES; k < R.length; k++) {
            late += wins[k];
        }
        assertTrue(late > 100, "candidates of the blocks after the second win: " + late); // they were evaluated, not pruned
    }

    /** int4-g32-mse (Q4_0) on 3000 random rows of 256: student-t, gaussian, power-of-two grids, few distinct values. */
    @Test
    void largeRandomCorpusGivesTheReferenceBytes() {
        Scheme s = Scheme.group(4, true, 32).withRange(RangeMethod.MSE);
        SplittableRandom r = new SplittableRandom(34);
        for (int t = 0; t < 3000; t++) {
            float[] x = switch (t % 4) {
                case 0 -> Rows.studentT(r, 256, 2 + r.nextInt(5), 0.02);
                case 1 -> Rows.gaussian(r, 256, 0.05);
                case 2 -> Rows.grid(r, 256);
                default -> fewValues(r, 256);
            };
            QuantizedRow ref = Quantizer.quantizeReference("t", t, x, s, null);
            QuantizedRow vector = Quantizer.quantizeVector("t", t, x, s, null);
            assertArrayEquals(ref.scales(), vector.scales(), "row " + t + ": scales");
            assertArrayEquals(ref.codes(), vector.codes(), "row " + t + ": codes");
        }
    }

    /**
     * One {@link UniformVector.Candidates} serves a whole row: the blocks of candidates a group's
     * search does not make still hold another group's. Here every slot is first filled with a scale
     * that fits the group better than any real candidate (and errors of 0): the choice must still be
     * the reference's, also when ties send it to the exact path, and for a group past 2^20 values.
     */
    @Test
    void candidatesLeftFromAnotherGroupNeverWin() {
        Scheme s = Scheme.group(4, true, 32).withRange(RangeMethod.MSE);
        SplittableRandom r = new SplittableRandom(35);
        UniformVector.Candidates c = new UniformVector.Candidates();
        for (int t = 0; t < 4001; t++) {
            float[] x = t == 4000 ? Rows.studentT(r, (1 << 20) + 3, 3, 0.02)
                    : t % 2 == 0 ? fewValues(r, 32) : Rows.studentT(r, 32, 1 + r.nextInt(4), 0.02);
            float gmin = min(x);
            float gmax = max(x);
            float lo = Math.min(gmin, 0f);
            float hi = Math.max(gmax, 0f);
            if (lo == 0f && hi == 0f) {
                continue;
            }
            float better = betterScale(s, x, lo, hi);
            java.util.Arrays.fill(c.scale, better);
            java.util.Arrays.fill(c.inv, 1f / better);
            java.util.Arrays.fill(c.err, 0f);
            int k = UniformVector.search(x, 0, x.length, s, lo, hi, false, gmin, gmax, c);
            assertEquals(referenceChoice(s, x, 0, x.length), k, "group " + t);
        }
    }

    private static float min(float[] x) {
        float m = Float.POSITIVE_INFINITY;
        for (float v : x) {
            m = Math.min(m, v);
        }
        return m;
    }

    private static float max(float[] x) {
        float m = Float.NEGATIVE_INFINITY;
        for (float v : x) {
            m = Math.max(m, v);
        }
        return m;
    }

    /** A scale on a fine grid around the candidates' with a lower error than every candidate's (or the best candidate's). */
    private static float betterScale(Scheme s, float[] x, float lo, float hi) {
        int k = referenceChoice(s, x, 0, x.length);
        float best = UniformCodec.scale(s, lo * R[k], hi * R[k], false);
        double bestErr = UniformCodec.error(x, 0, x.length, best, 0, s.qmin(), s.qmax());
        for (int j = 0; j <= 200 && x.length <= 64; j++) {
            float r = 0.4f + 0.6f * j / 200;
            float sc = UniformCodec.scale(s, lo * r, hi * r, false);
            double e = UniformCodec.error(x, 0, x.length, sc, 0, s.qmin(), s.qmax());
            if (e < bestErr) {
                best = sc;
                bestErr = e;
            }
        }
        return best;
    }

    /**
     * Symmetric MSE schemes of 4 and 8 bits, groups of 8-128, F16 and F32 scales, on 6000 rows of
     * 1-1200 values (student-t, gaussian, a coarse grid, sparse outliers, half steps) at magnitudes
     * from 2^-28 to 2^15: the reference's bytes (one Candidates per row, groups eight at a time and
     * one at a time). A one-off run of the same generator on 180,000 rows agreed too.
     */
    @Test
    void mixedSchemesRandomCorpusGivesTheReferenceBytes() {
        SplittableRandom r = new SplittableRandom(36);
        int[] sizes = {8, 16, 32, 64, 128};
        for (int t = 0; t < 6000; t++) {
            Scheme s = Scheme.group(r.nextInt(3) == 0 ? 8 : 4, true, sizes[r.nextInt(sizes.length)]).withRange(RangeMethod.MSE)
                    .withScaleFormat(r.nextInt(4) == 0 ? ScaleFormat.F32 : ScaleFormat.F16);
            int n = 1 + r.nextInt(1200);
            double mag = Math.scalb(1.0, -28 + r.nextInt(44));
            int kind = r.nextInt(5);
            float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                double v = switch (kind) {
                    case 0 -> {
                        double chi2 = 0;
                        for (int k = 0; k < 3; k++) {
                            double g = r.nextGaussian();
                            chi2 += g * g;
                        }
                        yield r.nextGaussian() / Math.sqrt(chi2 / 3);
                    }
                    case 1 -> r.nextGaussian();
                    case 2 -> (r.nextInt(17) - 8) / 8.0;
                    case 3 -> r.nextDouble() < 0.05 ? 20 * r.nextGaussian() : 0.1 * r.nextGaussian();
                    default -> (r.nextBoolean() ? 1 : -1) * (2 * r.nextInt(8) - 7) / 16.0 * (r.nextDouble() < 0.02 ? 8 : 1);
                };
                x[i] = (float) (v * mag);
            }
            int row = t;
            QuantizedRow ref;
            try {
                ref = Quantizer.quantizeReference("t", t, x, s, null);
            } catch (InvalidInputException e) { // an F16 scale overflows: the same error
                assertEquals(e.getMessage(), assertThrows(InvalidInputException.class, () -> Quantizer.quantizeVector("t", row, x, s, null))
                        .getMessage());
                continue;
            }
            QuantizedRow vector = Quantizer.quantizeVector("t", t, x, s, null);
            assertArrayEquals(ref.scales(), vector.scales(), s + " row " + t + ": scales");
            assertArrayEquals(ref.codes(), vector.codes(), s + " row " + t + ": codes");
        }
    }

    /** The reference's clip choice for one group: the first least double error. */
    private static int referenceChoice(Scheme s, float[] x, int from, int to) {
        float lo = 0f;
        float hi = 0f;
        for (int i = from; i < to; i++) {
            lo = Math.min(lo, x[i]);
            hi = Math.max(hi, x[i]);
        }
        int best = 0;
        double bestErr = Double.POSITIVE_INFINITY;
        for (int k = 0; k < R.length; k++) {
            double e = UniformCodec.error(x, from, to, UniformCodec.scale(s, lo * R[k], hi * R[k], false), 0, s.qmin(), s.qmax());
            if (e < bestErr) {
                best = k;
                bestErr = e;
            }
        }
        return best;
    }

    /** One extreme value {@code ±m}, the rest much smaller (or none): small clips pay the extreme alone. */
    private static float[] extremeAlone(SplittableRandom r, int n, float m) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextGaussian() * m * 0.02);
        }
        x[r.nextInt(n)] = r.nextBoolean() ? m : -m;
        return x;
    }

    /** Values clustered near a random fraction of the extreme: the best clip puts the cluster on the grid, often a small ratio. */
    private static float[] clustered(SplittableRandom r, int n, float m) {
        float c = (float) (0.3 + 0.5 * r.nextDouble());
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) ((r.nextBoolean() ? 1 : -1) * m * (c + 0.01 * r.nextGaussian()));
        }
        x[r.nextInt(n)] = m;
        return x;
    }

    /**
     * One extreme {@code ±m}, the rest odd multiples of {@code m/16} below {@code m/2} (slightly
     * jittered or not): at ratio 1 they all sit half a step off the grid, at ratio 1/2 on it, so in
     * long groups (1024) the smallest ratios win despite clipping the extreme.
     */
    private static float[] halfSteps(SplittableRandom r, int n, float m) {
        boolean jitter = r.nextBoolean();
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (2 * r.nextInt(8) - 7) * m / 16 * (jitter ? (float) (1 + 0.01 * r.nextGaussian()) : 1f);
        }
        x[r.nextInt(n)] = r.nextBoolean() ? m : -m;
        return x;
    }

    /** A few distinct values on a coarse grid: many candidates give the same codes, so errors tie exactly. */
    private static float[] fewValues(SplittableRandom r, int n) {
        float step = Math.scalb(1f, -r.nextInt(10));
        int spread = 1 + r.nextInt(9);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (r.nextInt(2 * spread + 1) - spread) * step;
        }
        return x;
    }
}
