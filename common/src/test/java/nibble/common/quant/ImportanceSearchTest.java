package nibble.common.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import nibble.common.InvalidInputException;

/** The importance-weighted clip search: reference and fast path agree, it never loses on the weighted error, equal weights change nothing. */
class ImportanceSearchTest {
    private static final List<Scheme> SCHEMES = List.of(
            Scheme.group(4, true, 32).withRange(RangeMethod.MSE).withImportance(Importance.ACTIVATIONS),
            Scheme.group(4, false, 32).withRange(RangeMethod.MSE).withImportance(Importance.ACTIVATIONS),
            Scheme.group(8, true, 32).withRange(RangeMethod.MSE).withImportance(Importance.ACTIVATIONS),
            Scheme.group(4, true, 20).withRange(RangeMethod.MSE).withImportance(Importance.ACTIVATIONS),
            Scheme.channel(4, true).withRange(RangeMethod.MSE).withImportance(Importance.ACTIVATIONS),
            Scheme.group(4, true, 64).withCodebook(Codebook.NF4).withRange(RangeMethod.MSE).withImportance(Importance.ACTIVATIONS),
            Scheme.group(4, true, 20).withCodebook(Codebook.NF4).withRange(RangeMethod.MSE).withImportance(Importance.ACTIVATIONS),
            Scheme.group(4, true, 32).withCodebook(Codebook.LOG2).withRange(RangeMethod.MSE).withImportance(Importance.ACTIVATIONS));

    /** Weights like mean x² of real activations: log-normal over channels, a few outlier channels, some zeros. */
    private static double[] importance(SplittableRandom r, int n) {
        double[] w = new double[n];
        for (int i = 0; i < n; i++) {
            double z = Rows.gauss(r);
            w[i] = r.nextInt(40) == 0 ? 0 : Math.exp(1.5 * z) * (r.nextInt(25) == 0 ? 100 : 1);
        }
        return w;
    }

    private static float[] row(SplittableRandom r, int n) {
        return r.nextBoolean() ? Rows.studentT(r, n, 3, 0.05) : Rows.gaussian(r, n, 0.02);
    }

    @Test
    void fastPathGivesTheReferenceBytes() {
        SplittableRandom r = new SplittableRandom(11);
        for (Scheme s : SCHEMES) {
            for (int i = 0; i < 400; i++) {
                int n = 1 + r.nextInt(200);
                float[] x = row(r, n);
                double[] w = importance(r, n);
                QuantizedRow ref = Quantizer.quantizeReference("t", i, x, s, null, w);
                QuantizedRow fast = Quantizer.quantize("t", i, x, s, null, w);
                assertArrayEquals(ref.codes(), fast.codes(), s + " row " + i);
                assertArrayEquals(ref.scales(), fast.scales(), s + " row " + i);
                assertArrayEquals(ref.zeros(), fast.zeros(), s + " row " + i);
            }
        }
    }

    @Test
    void neverWorseOnTheWeightedErrorAndBetterSomewhere() {
        SplittableRandom r = new SplittableRandom(12);
        for (Scheme s : SCHEMES) {
            Scheme plain = s.withImportance(Importance.NONE);
            int better = 0;
            int groups = 0;
            for (int i = 0; i < 300; i++) {
                int n = 64 + r.nextInt(200);
                float[] x = row(r, n);
                double[] w = importance(r, n);
                float[] weighted = Quantizer.dequantize(Quantizer.quantize("t", i, x, s, null, w), s, n);
                float[] unweighted = Quantizer.dequantize(Quantizer.quantize("t", i, x, plain, null), plain, n);
                RowLayout layout = RowLayout.of(s, n);
                for (int g = 0; g < layout.groupCount(); g++) {
                    double ew = weightedError(x, weighted, w, layout.groupStart(g), layout.groupEnd(g));
                    double eu = weightedError(x, unweighted, w, layout.groupStart(g), layout.groupEnd(g));
                    assertTrue(ew <= eu, s + " row " + i + " group " + g + ": " + ew + " > " + eu);
                    better += ew < eu ? 1 : 0;
                    groups++;
                }
            }
            assertTrue(better > groups / 20, s + ": better in only " + better + " of " + groups + " groups");
        }
    }

    @Test
    void equalWeightsGiveTheUnweightedBytes() {
        SplittableRandom r = new SplittableRandom(13);
        for (Scheme s : SCHEMES) {
            Scheme plain = s.withImportance(Importance.NONE);
            for (double c : new double[] {1.0, 4.0, 0.25}) { // powers of two scale every error exactly
                for (int i = 0; i < 200; i++) {
                    int n = 1 + r.nextInt(200);
                    float[] x = row(r, n);
                    double[] w = new double[n];
                    java.util.Arrays.fill(w, c);
                    QuantizedRow a = Quantizer.quantize("t", i, x, s, null, w);
                    QuantizedRow b = Quantizer.quantize("t", i, x, plain, null);
                    assertArrayEquals(b.codes(), a.codes());
                    assertArrayEquals(b.scales(), a.scales());
                    assertArrayEquals(b.zeros(), a.zeros());
                }
            }
        }
    }

    @Test
    void badImportanceAndSchemesAreRefused() {
        Scheme s = SCHEMES.get(0);
        float[] x = new float[64];
        assertTrue(assertThrows(InvalidInputException.class, () -> Quantizer.quantize("t", 3, x, s, null, null))
                .getMessage().contains("there are none for this tensor"));
        assertTrue(assertThrows(InvalidInputException.class, () -> Quantizer.quantize("t", 3, x, s, null, new double[63]))
                .getMessage().contains("63 channels"));
        double[] nan = new double[64];
        nan[5] = Double.NaN;
        assertThrows(InvalidInputException.class, () -> Quantizer.quantize("t", 3, x, s, null, nan));
        assertThrows(InvalidInputException.class, () -> Scheme.group(4, true, 32).withImportance(Importance.ACTIVATIONS));
        assertThrows(InvalidInputException.class,
                () -> Scheme.group(4, true, 64).withCodebook(Codebook.NF4).withImportance(Importance.ACTIVATIONS));
    }

    @Test
    void recipeSpellsIt() {
        Recipe r = Recipe.load("int4-g32-imatrix");
        assertEquals(Scheme.group(4, true, 32).withRange(RangeMethod.MSE).withImportance(Importance.ACTIVATIONS), r.defaultScheme());
        assertEquals(Scheme.group(8, true, 32), r.schemeFor("lm_head.weight", new long[] {10, 64}));
        Scheme s = r.defaultScheme();
        assertEquals(s, SchemeJson.read(SchemeJson.write(s), "manifest"));
        assertEquals("activations", SchemeJson.write(s).get("importance").asText());
        assertTrue(!SchemeJson.write(s.withImportance(Importance.NONE)).has("importance"));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Recipe.parse(
                "{\"default\": {\"bits\": 4, \"group_size\": 32,\n \"importance\": \"activations\"}}", "r.json"));
        assertTrue(e.getMessage().contains("needs range mse"), e.getMessage());
        e = assertThrows(InvalidInputException.class, () -> Recipe.parse(
                "{\"default\": {\"bits\": 4, \"group_size\": 32, \"range\": \"mse\", \"importance\": \"weights\"}}", "r.json"));
        assertTrue(e.getMessage().contains("unknown importance 'weights'"), e.getMessage());
    }

    @Test
    void nf4RecipeSpellsIt() {
        Recipe r = Recipe.load("nf4-g64-imatrix");
        Scheme s = Scheme.group(4, true, 64).withCodebook(Codebook.NF4).withRange(RangeMethod.MSE).withImportance(Importance.ACTIVATIONS);
        assertEquals(s, r.defaultScheme());
        assertEquals(s, SchemeJson.read(SchemeJson.write(s), "manifest"));
    }

    private static double weightedError(float[] x, float[] y, double[] w, int from, int to) {
        double e = 0;
        for (int i = from; i < to; i++) {
            double d = (double) x[i] - y[i];
            e += w[i] * d * d;
        }
        return e;
    }
}
