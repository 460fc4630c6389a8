package nibble.common.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import nibble.common.model.LlamaConfig;
import nibble.common.model.LlamaModel;
import nibble.common.model.LlamaWeights;
import nibble.common.model.RopeLayout;
import nibble.common.model.TensorSource;
import org.junit.jupiter.api.Test;

/** AWQ's scales, their search and their folds: the folded float model computes what the original does. */
class AwqTest {
    private static final Scheme Q4_0 = Scheme.group(4, true, 32);

    /** 64 wide, 96 hidden, 2 layers, 4 heads over 2 key-value heads (grouped-query attention), untied head. */
    private static final LlamaConfig CONFIG = new LlamaConfig(64, 96, 2, 4, 2, 300, 64, false, 1e-5, 10000, RopeLayout.HALF);

    private static float[] random(String name) {
        Random r = new Random(name.hashCode());
        int dim = CONFIG.hiddenSize();
        int n = name.equals("model.embed_tokens.weight") || name.equals("lm_head.weight") ? CONFIG.vocabSize() * dim
                : name.endsWith("norm.weight") ? dim
                : name.contains("mlp") ? CONFIG.intermediateSize() * dim
                : name.contains("k_proj") || name.contains("v_proj") ? CONFIG.kvDim() * dim : dim * dim;
        float[] t = new float[n];
        for (int i = 0; i < n; i++) {
            t[i] = name.endsWith("norm.weight") ? 1 + 0.2f * (float) r.nextGaussian() : 0.15f * (float) r.nextGaussian();
        }
        return t;
    }

    /** Heavy-tailed positive magnitudes: most channels near 1, a few 20-50 times larger. */
    private static double[] magnitudes(int n, long seed) {
        Random r = new Random(seed);
        double[] m = new double[n];
        for (int c = 0; c < n; c++) {
            m[c] = Math.exp(0.5 * r.nextGaussian()) * (r.nextInt(16) == 0 ? 20 + 30 * r.nextDouble() : 1);
        }
        return m;
    }

    private static TensorSource folded(TensorSource src, Map<String, AwqFolds.TensorFold> folds) {
        return name -> {
            float[] t = src.tensor(name);
            AwqFolds.TensorFold f = folds.get(name);
            if (f == null) {
                return t;
            }
            int cols = f.rowDivisor() != null ? t.length / f.rowDivisor().length
                    : (f.columnScale() != null ? f.columnScale() : f.columnDivisor()).length;
            float[] out = new float[t.length];
            for (int r = 0; r < t.length / cols; r++) {
                float[] row = f.apply(r, java.util.Arrays.copyOfRange(t, r * cols, (r + 1) * cols));
                System.arraycopy(row, 0, out, r * cols, cols);
            }
            return out;
        };
    }

    @Test
    void theFoldedFloatModelComputesTheOriginalsLogitsUpToRounding() throws Exception {
        TensorSource src = AwqTest::random;
        List<AwqFolds.Group> groups = AwqFolds.groups(CONFIG, t -> true);
        assertEquals(4 * CONFIG.numLayers(), groups.size());
        List<float[]> scales = new ArrayList<>();
        for (int i = 0; i < groups.size(); i++) {
            AwqFolds.Group g = groups.get(i);
            scales.add(Awq.scales(g.scaleMagnitudes(magnitudes(g.columns(), i)), 0.8));
        }
        Map<String, AwqFolds.TensorFold> folds = AwqFolds.folds(groups, scales);
        // q, k, v, o, gate, up, down scaled in columns; both norms per layer; up and v also in rows; nothing else
        assertEquals(9 * CONFIG.numLayers(), folds.size());
        assertTrue(folds.get("model.layers.1.mlp.up_proj.weight").rowDivisor() != null);
        assertTrue(folds.get("model.layers.1.self_attn.v_proj.weight").rowDivisor().length == CONFIG.kvDim());
        assertFalse(folds.containsKey("model.norm.weight") || folds.containsKey("lm_head.weight")
                || folds.containsKey("model.embed_tokens.weight"));
        // o's columns of heads 0 and 1 share key-value head 0: the same scale
        float[] oCols = folds.get("model.layers.0.self_attn.o_proj.weight").columnScale();
        int hd = CONFIG.headDim();
        for (int d = 0; d < hd; d++) {
            assertEquals(oCols[d], oCols[hd + d]);
            assertEquals(oCols[2 * hd + d], oCols[3 * hd + d]);
        }

        LlamaModel original = new LlamaModel(CONFIG, LlamaWeights.load(CONFIG, src));
        LlamaModel scaled = new LlamaModel(CONFIG, LlamaWeights.load(CONFIG, folded(src, folds)));
        assertFalse(java.util.Arrays.equals(src.tensor("model.layers.0.mlp.down_proj.weight"),
                folded(src, folds).tensor("model.layers.0.mlp.down_proj.weight")));
        int[] tokens = new Random(3).ints(24, 0, CONFIG.vocabSize()).toArray();
        float[][] a = original.logits(tokens);
        float[][] b = scaled.logits(tokens);
        double worst = 0;
        double spread = 0;
        for (int p = 0; p < tokens.length; p++) {
            for (int v = 0; v < a[p].length; v++) {
                worst = Math.max(worst, Math.abs(a[p][v] - b[p][v]));
                spread = Math.max(spread, Math.abs(a[p][v]));
            }
        }
        System.out.printf("folded model: largest logit difference %.3g (largest |logit| %.3g)%n", worst, spread);
        assertTrue(worst <= 1e-4 * spread, "largest logit difference " + worst + " of " + spread);
    }

    @Test
    void scalesAreOneAtAlphaZeroAndStraddleOne() {
        double[] m = magnitudes(96, 1);
        for (float s : Awq.scales(m, 0)) {
            assertEquals(1f, s);
        }
        float[] s = Awq.scales(m, 0.5);
        float lo = Float.MAX_VALUE;
        float hi = 0;
        for (float x : s) {
            lo = Math.min(lo, x);
            hi = Math.max(hi, x);
        }
        assertEquals(1.0, Math.sqrt((double) lo * hi), 1e-6);
        assertTrue(hi / lo > 3, "scales spread " + hi / lo);
        // a dead channel gets the floor, not zero
        m[5] = 0;
        assertTrue(Awq.scales(m, 0.5)[5] > 0);
        for (float x : Awq.scales(new double[8], 0.5)) {
            assertEquals(1f, x);
        }
    }

    @Test
    void theSearchNeverLosesToNoScalingAndHelpsWhenActivationsHaveOutliers() {
        int cols = 128;
        Random r = new Random(11);
        float[][] w = new float[2][96 * cols];
        for (float[] m : w) {
            for (int i = 0; i < m.length; i++) {
                m[i] = (float) r.nextGaussian() * 0.1f;
            }
        }
        double[] meanAbs = magnitudes(cols, 5);
        double[] meanSq = new double[cols];
        for (int c = 0; c < cols; c++) {
            meanSq[c] = 1.3 * meanAbs[c] * meanAbs[c];
        }
        Awq.Choice c = Awq.search(w, cols, meanAbs, meanSq, null, Q4_0.withRange(RangeMethod.MSE), Awq.Options.DEFAULT);
        System.out.printf("search: alpha %.2f, error %.5g, unscaled %.5g%n", c.alpha(), c.error(), c.unscaledError());
        assertTrue(c.alpha() > 0, "alpha " + c.alpha());
        assertTrue(c.error() < 0.9 * c.unscaledError(), c.error() + " vs " + c.unscaledError());
        assertEquals(Awq.error(w, cols, c.scales(), meanSq, Q4_0), c.error());
        assertEquals(Awq.error(w, cols, Awq.scales(meanAbs, 0), meanSq, Q4_0), c.unscaledError());
        // deterministic, and every grid point is no better than the choice
        Awq.Choice again = Awq.search(w, cols, meanAbs, meanSq, null, Q4_0, Awq.Options.DEFAULT);
        assertArrayEquals(c.scales(), again.scales());
        for (int k = 0; k < 20; k++) {
            assertTrue(Awq.error(w, cols, Awq.scales(meanAbs, k / 20.0), meanSq, Q4_0) >= c.error());
        }
        // uniform activations: nothing to gain, alpha 0 (s = 1) is kept
        double[] flat = new double[cols];
        java.util.Arrays.fill(flat, 1.0);
        Awq.Choice none = Awq.search(w, cols, flat, flat, null, Q4_0, Awq.Options.DEFAULT);
        assertEquals(none.unscaledError(), none.error());
    }

    @Test
    void scaledImportanceDividesBySquaredScales() {
        double[] w = Awq.scaledImportance(new double[] {4, 9, 1}, new float[] {2, 0.5f, 1});
        assertArrayEquals(new double[] {1, 36, 1}, w);
    }

    @Test
    void theBuiltInRecipeScalesWithTwentyGridPointsAndABadGridIsRefused() {
        Recipe r = Recipe.load("int4-g32-awq");
        assertEquals(20, r.awq().grid());
        assertEquals(Importance.ACTIVATIONS, ((Scheme) r.schemeFor("model.layers.0.mlp.down_proj.weight", new long[] {64, 96})).importance());
        assertEquals(null, Recipe.load("int4-g32-imatrix").awq());
        // a plan from the AWQ recipe keeps its AWQ settings
        BudgetPlan plan = BudgetPlan.choose(java.util.List.of(), new Budget(Budget.Metric.KLD, 0.1));
        assertEquals(20, Recipe.parse(new String(plan.recipeJson(r, "int4-g32-awq"), java.nio.charset.StandardCharsets.UTF_8),
                "plan.json").awq().grid());
        nibble.common.InvalidInputException e = org.junit.jupiter.api.Assertions.assertThrows(nibble.common.InvalidInputException.class,
                () -> Recipe.parse("{\"default\": {\"bits\": 4},\n \"awq\": {\"grid\": 0}}", "r.json"));
        assertTrue(e.getMessage().contains("r.json line 2") && e.getMessage().contains("grid"), e.getMessage());
    }
}
