package nibble.common.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import nibble.common.model.LlamaConfig;
import nibble.common.model.LlamaModel;
import nibble.common.model.LlamaWeights;
import nibble.common.model.LocalModels;
import nibble.common.model.Sampler;
import nibble.common.stats.ActivationAccumulator;
import nibble.common.stats.HessianAccumulator;

/**
 * GPTQ: the factor inverts the damped Hessian, the lazy-block fast path gives the reference's bytes,
 * and on real layers of stories260K with a Hessian from real activations its output error
 * {@code tr(ΔW H ΔWᵀ)} is below round-to-nearest's and the importance-weighted search's.
 */
class GptqTest {

    /** A PSD matrix like a real XᵀX: t random vectors with channel scales spread over two decades, one dead channel. */
    static double[] hessian(SplittableRandom r, int n, int t) {
        double[] scale = new double[n];
        for (int c = 0; c < n; c++) {
            scale[c] = Math.exp(1.2 * Rows.gauss(r));
        }
        scale[n / 3] = 0;
        double[] h = new double[n * n];
        double[] x = new double[n];
        for (int k = 0; k < t; k++) {
            double common = Rows.gauss(r);
            for (int c = 0; c < n; c++) {
                x[c] = scale[c] * (Rows.gauss(r) + 0.5 * common);
            }
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    h[i * n + j] += x[i] * x[j] / t;
                }
            }
        }
        return h;
    }

    @Test
    void recipesSetGptqOptionsAndTheBuiltInRecipeIsQ4_0Gptq() {
        Recipe r = Recipe.parse("{\"default\": {\"bits\": 4, \"group_size\": 32, \"importance\": \"hessian\"},\n"
                + " \"gptq\": {\"damp\": 0.05, \"act_order\": true}}", "r.json");
        assertEquals(new Gptq.Options(0.05, true), r.gptq());
        assertEquals(Importance.HESSIAN, r.defaultScheme().importance());
        assertEquals(Gptq.Options.DEFAULT, Recipe.parse("{\"default\": {\"bits\": 4}}", "r.json").gptq());
        String bad = org.junit.jupiter.api.Assertions.assertThrows(nibble.common.InvalidInputException.class, () -> Recipe.parse(
                "{\"default\": {\"bits\": 4},\n \"gptq\": {\"damp\": 2}}", "r.json")).getMessage();
        assertTrue(bad.contains("r.json line 2") && bad.contains("damp"), bad);
        org.junit.jupiter.api.Assertions.assertThrows(nibble.common.InvalidInputException.class, () -> Recipe.parse(
                "{\"default\": {\"bits\": 4, \"group_size\": 32, \"codebook\": \"nf4\", \"importance\": \"hessian\"}}", "r.json"));
        Recipe builtIn = Recipe.load("int4-g32-gptq");
        Scheme s = (Scheme) builtIn.schemeFor("model.layers.0.mlp.down_proj.weight", new long[] {576, 1536});
        assertEquals(Scheme.group(4, true, 32).withRange(RangeMethod.MSE).withImportance(Importance.HESSIAN), s);
        assertEquals(new Gptq.Options(0.01, true), builtIn.gptq());
    }

    @Test
    void factorIsTheUpperCholeskyFactorOfTheDampedInverse() {
        SplittableRandom r = new SplittableRandom(3);
        int n = 48;
        double[] h = hessian(r, n, 30); // rank-deficient: damping makes it definite
        for (boolean act : new boolean[] {false, true}) {
            Gptq.Factor f = Gptq.factor(h, n, new Gptq.Options(0.01, act));
            double mean = 0;
            for (int c = 0; c < n; c++) {
                mean += h[c * n + c] == 0 ? 1 : h[c * n + c];
            }
            double lambda = 0.01 * mean / n;
            // Hp (permuted, dead channel's diagonal 1, damped) times UᵀU is the identity
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int k = 0; k < n; k++) {
                        double uu = 0;
                        for (int m = 0; m <= Math.min(k, j); m++) {
                            uu += f.u()[m * n + k] * f.u()[m * n + j];
                        }
                        int ci = f.order()[i];
                        int ck = f.order()[k];
                        double hp = f.dead()[ci] || f.dead()[ck] ? (ci == ck ? 1 : 0) : h[ci * n + ck];
                        if (i == k) {
                            hp += lambda;
                        }
                        s += hp * uu;
                    }
                    assertEquals(i == j ? 1 : 0, s, 1e-7, "act order " + act + " (" + i + ", " + j + ")");
                }
                for (int j = 0; j < i; j++) {
                    assertEquals(0, f.u()[i * n + j], "upper triangular");
                }
                assertTrue(f.u()[i * n + i] > 0);
            }
            if (act) {
                for (int k = 1; k < n; k++) {
                    assertTrue(f.diag()[f.order()[k - 1]] >= f.diag()[f.order()[k]], "activation order: largest diagonal first");
                }
            }
        }
    }

    @Test
    void lazyBlockFastPathGivesTheReferenceBytes() {
        SplittableRandom r = new SplittableRandom(17);
        List<Scheme> schemes = List.of(Scheme.group(4, true, 32), Scheme.group(4, false, 32), Scheme.group(8, true, 32),
                Scheme.group(4, true, 20), Scheme.group(4, true, 128), Scheme.channel(4, true),
                Scheme.group(4, true, 32).withRange(RangeMethod.MSE));
        int checked = 0;
        for (int n : new int[] {64, 96, 200}) {
            double[] h = hessian(r, n, 2 * n);
            for (boolean act : new boolean[] {false, true}) {
                Gptq.Factor f = Gptq.factor(h, n, new Gptq.Options(0.01, act));
                assertArrayEquals(f.u(), Gptq.factor(h.clone(), n, new Gptq.Options(0.01, act)).u(), "deterministic factor");
                for (Scheme s : schemes) {
                    if (s.granularity() == Granularity.GROUP && s.groupSize() > n) {
                        continue;
                    }
                    Scheme g = s.withImportance(Importance.HESSIAN);
                    float[][] rows = new float[7][];
                    for (int i = 0; i < rows.length; i++) {
                        rows[i] = i % 2 == 0 ? Rows.studentT(r, n, 3, 0.05) : Rows.gaussian(r, n, 0.02);
                    }
                    QuantizedRow[] batch = Gptq.quantize("t", 0, rows, g, f);
                    for (int i = 0; i < rows.length; i++) {
                        QuantizedRow ref = Gptq.quantizeReference("t", i, rows[i], g, f);
                        assertEquals(ref, batch[i], g + " act " + act + " n " + n + " row " + i);
                        assertEquals(ref, Gptq.quantize("t", i, rows[i], g, f));
                        checked++;
                    }
                }
            }
        }
        assertTrue(checked > 200);
    }

    @Test
    void beatsRoundToNearestAndTheImportanceSearchOnRealLayersOfStories260K() throws Exception {
        Path model = Path.of(System.getProperty("nibble.shared.dir", "../../shared"), "models", "stories260K.bin");
        Assumptions.assumeTrue(Files.exists(model), "stories260K is absent");
        LocalModels.LocalCheckpoint c = LocalModels.open(model);
        LlamaConfig config = c.config();
        LlamaModel m = new LlamaModel(config, LlamaWeights.load(config, c.tensors()));
        HessianAccumulator calibration = hessians(m, config, 1000);
        HessianAccumulator heldOut = hessians(m, config, 2000);
        Scheme rtn = Scheme.group(4, true, 32);
        Scheme imatrix = rtn.withRange(RangeMethod.MSE).withImportance(Importance.ACTIVATIONS);
        Scheme gptq = rtn.withImportance(Importance.HESSIAN);
        ActivationAccumulator names = new ActivationAccumulator(config);
        Map<String, double[]> totals = new LinkedHashMap<>();
        for (String k : List.of("rtn", "imatrix", "gptq", "rtn held out", "imatrix held out", "gptq held out")) {
            totals.put(k, new double[1]);
        }
        int tensors = 0;
        long started = System.nanoTime();
        for (int i = 0; i < calibration.inputs() - 1; i++) { // the head is the tied embedding, kept in 8 bits by the recipes
            HessianAccumulator.Part part = calibration.parts().get(i);
            int n = part.channels();
            double[] h = part.mean();
            double[] hh = heldOut.parts().get(i).mean();
            double[] diag = new double[n];
            for (int ch = 0; ch < n; ch++) {
                diag[ch] = h[ch * n + ch];
            }
            Gptq.Factor f = Gptq.factor(h, n, Gptq.Options.DEFAULT);
            for (String name : names.tensors(i, true)) {
                float[] w = c.tensors().tensor(name);
                int rows = w.length / n;
                double[] e = new double[6];
                for (int row = 0; row < rows; row++) {
                    float[] x = java.util.Arrays.copyOfRange(w, row * n, (row + 1) * n);
                    float[] a = Quantizer.dequantize(Quantizer.quantize(name, row, x, rtn), rtn, n);
                    float[] b = Quantizer.dequantize(Quantizer.quantize(name, row, x, imatrix, null, diag), imatrix, n);
                    float[] q = Quantizer.dequantize(Gptq.quantize(name, row, x, gptq, f), gptq, n);
                    e[0] += Gptq.outputError(x, a, h, n);
                    e[1] += Gptq.outputError(x, b, h, n);
                    e[2] += Gptq.outputError(x, q, h, n);
                    e[3] += Gptq.outputError(x, a, hh, n);
                    e[4] += Gptq.outputError(x, b, hh, n);
                    e[5] += Gptq.outputError(x, q, hh, n);
                }
                System.out.printf("stories260K %-36s tr(dW H dW^T): rtn %.4g  imatrix %.4g  gptq %.4g  (held-out H: %.4g %.4g %.4g)%n",
                        name, e[0], e[1], e[2], e[3], e[4], e[5]);
                assertTrue(e[2] < e[1] && e[1] < e[0], name + ": GPTQ < importance search < round-to-nearest on its own H");
                int k = 0;
                for (double[] t : totals.values()) {
                    t[0] += e[k++];
                }
                tensors++;
            }
        }
        System.out.printf("stories260K, %d tensors, quantized three ways in %.2f s; totals %s%n", tensors,
                (System.nanoTime() - started) / 1e9, totals.entrySet().stream().map(x -> x.getKey() + " " + String.format("%.4g", x.getValue()[0])).toList());
        assertEquals(5 * 7, tensors);
        assertTrue(totals.get("gptq held out")[0] < totals.get("imatrix held out")[0], "on held-out activations too");
        assertTrue(totals.get("imatrix held out")[0] < totals.get("rtn held out")[0]);
    }

    /** Hessians of 16 sequences of 128 tokens sampled from the model with seeds from {@code seed}. */
    private static HessianAccumulator hessians(LlamaModel m, LlamaConfig config, long seed) {
        List<int[]> sequences = new ArrayList<>();
        for (int s = 0; s < 16; s++) {
            sequences.add(Sampler.sample(m, 128, seed + s, 1.0f));
        }
        ActivationAccumulator first = new ActivationAccumulator(config); // calibration's first pass: the bounds
        for (int[] tokens : sequences) {
            first.addSequence(m, tokens, "sequence");
        }
        int[] exponents = new int[first.inputs()];
        for (int i = 0; i < exponents.length; i++) {
            float max = 0;
            for (float v : first.stats(i).maxAbs()) {
                max = Math.max(max, v);
            }
            exponents[i] = HessianAccumulator.exponent(first.tokens(), max);
        }
        HessianAccumulator acc = new HessianAccumulator(config, exponents);
        for (int[] tokens : sequences) {
            var cache = m.newCache(tokens.length);
            for (int p = 0; p < tokens.length; p++) {
                m.forward(tokens[p], p, cache, acc);
            }
            acc.endSequence("sequence");
        }
        return acc;
    }
}
