package nibble.common.stats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import nibble.common.InvalidInputException;

/** The exact fixed-point XᵀX totals: any split and merge order gives the same bits, and they equal BigDecimal sums of the per-sequence doubles. */
class HessianAccumulatorTest {

    private static float[] sequence(Random r, int t, int n) {
        float[] x = new float[t * n];
        for (int i = 0; i < x.length; i++) {
            double scale = Math.pow(10, (i % n) % 7 - 3); // channels from 1e-3 to 1e3
            x[i] = (float) (scale * r.nextGaussian());
        }
        return x;
    }

    /** One sequence's entry as the accumulator sums it: four interleaved partial sums over positions. */
    private static double sequenceSum(float[] x, int t, int n, int i, int j) {
        double[] s = new double[4];
        int p = 0;
        for (; p + 3 < t; p += 4) {
            for (int q = 0; q < 4; q++) {
                s[q] += (double) x[(p + q) * n + i] * x[(p + q) * n + j];
            }
        }
        for (; p < t; p++) {
            s[0] += (double) x[p * n + i] * x[p * n + j];
        }
        return (s[0] + s[1]) + (s[2] + s[3]);
    }

    /** Step for the test's sequences: at most 9·14 tokens of |x| below 1e4 (5 sigma of the largest channel scale, 1e3, is 5e3). */
    private static final int E = HessianAccumulator.exponent(9 * 14, 1e4f);

    @Test
    void everySplitAndMergeOrderGivesTheSameBits() {
        Random r = new Random(5);
        int n = 13;
        List<float[]> seqs = new ArrayList<>();
        for (int s = 0; s < 9; s++) {
            seqs.add(sequence(r, 5 + s, n));
        }
        HessianAccumulator.Part all = new HessianAccumulator.Part(0, n, E);
        for (float[] s : seqs) {
            all.add(s, s.length / n);
        }
        double[] expected = all.mean();
        // the BigDecimal sum of the per-sequence doubles, to within the rounding to steps
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n; j++) {
                BigDecimal sum = BigDecimal.ZERO;
                for (float[] s : seqs) {
                    sum = sum.add(new BigDecimal(sequenceSum(s, s.length / n, n, i, j)));
                }
                double exact = sum.divide(BigDecimal.valueOf(all.tokens()), MathContext.DECIMAL128).doubleValue();
                // each sequence's value rounded to a step of 2^E, then the mean rounded
                double bound = seqs.size() * Math.scalb(0.5, E) / all.tokens() + Math.abs(exact) * 1e-15;
                assertEquals(exact, expected[i * n + j], bound, "(" + i + ", " + j + ")");
            }
        }
        for (int trial = 0; trial < 20; trial++) {
            List<float[]> order = new ArrayList<>(seqs);
            Collections.shuffle(order, new Random(trial));
            List<HessianAccumulator.Part> parts = new ArrayList<>();
            int k = 0;
            while (k < order.size()) {
                HessianAccumulator.Part p = new HessianAccumulator.Part(0, n, E);
                int take = 1 + r.nextInt(3);
                for (int q = 0; q < take && k < order.size(); q++, k++) {
                    p.add(order.get(k), order.get(k).length / n);
                }
                parts.add(p);
            }
            while (parts.size() > 1) { // merge random pairs
                int a = r.nextInt(parts.size());
                HessianAccumulator.Part x = parts.remove(a);
                int b = r.nextInt(parts.size());
                parts.set(b, parts.get(b).merge(x));
            }
            assertEquals(all.tokens(), parts.get(0).tokens());
            assertArrayEquals(expected, parts.get(0).mean(), "split " + trial);
        }
    }

    @Test
    void roundsToTheStepAndRefusesWhatExceedsTheBound() {
        int e = HessianAccumulator.exponent(4, 2f); // bound 16: steps of 2^-57
        assertEquals(-57, e);
        HessianAccumulator.Part p = new HessianAccumulator.Part(0, 1, e);
        double[] values = {15.5, -3.5, 0x1p-59, -15.5, 2.25, 0x1p-56, -0x1p-57};
        for (double v : values) {
            p.addExact(0, v);
        }
        p.add(new float[] {1}, 1); // one token: mean = total + 1
        assertEquals(-3.5 + 2.25 + 0x1p-57 + 1, p.mean()[0], 0); // 2^-59 rounds to 0 steps, 2^-56 - 2^-57 is one step
        assertThrows(InvalidInputException.class, () -> p.addExact(0, 0x1p6));
        assertThrows(InvalidInputException.class, () -> p.addExact(0, Double.NaN));
    }
}
