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

    @Test
    void everySplitAndMergeOrderGivesTheSameBits() {
        Random r = new Random(5);
        int n = 13;
        List<float[]> seqs = new ArrayList<>();
        for (int s = 0; s < 9; s++) {
            seqs.add(sequence(r, 5 + s, n));
        }
        HessianAccumulator.Part all = new HessianAccumulator.Part(0, n);
        for (float[] s : seqs) {
            all.add(s, s.length / n);
        }
        double[] expected = all.mean();
        // exact: equals the BigDecimal sum of the per-sequence doubles, rounded once (to within the two roundings of mean())
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n; j++) {
                BigDecimal sum = BigDecimal.ZERO;
                for (float[] s : seqs) {
                    sum = sum.add(new BigDecimal(sequenceSum(s, s.length / n, n, i, j)));
                }
                double exact = sum.divide(BigDecimal.valueOf(all.tokens()), MathContext.DECIMAL128).doubleValue();
                assertEquals(exact, expected[i * n + j], Math.abs(exact) * 1e-15 + 1e-18, "(" + i + ", " + j + ")");
            }
        }
        for (int trial = 0; trial < 20; trial++) {
            List<float[]> order = new ArrayList<>(seqs);
            Collections.shuffle(order, new Random(trial));
            List<HessianAccumulator.Part> parts = new ArrayList<>();
            int k = 0;
            while (k < order.size()) {
                HessianAccumulator.Part p = new HessianAccumulator.Part(0, n);
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
    void negativeTinyAndLargeValuesAddExactly() {
        HessianAccumulator.Part p = new HessianAccumulator.Part(0, 1);
        double[] values = {1e18, -3.5, 1e-30, -1e18, 2.25, 0x1p-64, -0x1p-64};
        for (double v : values) {
            p.addExact(0, v);
        }
        p.add(new float[] {1}, 1); // one token: mean = total + 1
        assertEquals(-3.5 + 2.25 + 1, p.mean()[0], 0);
        assertThrows(InvalidInputException.class, () -> p.addExact(0, 1e19));
        assertThrows(InvalidInputException.class, () -> p.addExact(0, Double.NaN));
    }
}
