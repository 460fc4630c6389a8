package nibble.common.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import nibble.common.eval.Estimate;
import nibble.common.eval.Summary;
import nibble.common.stats.ErrorStats;
import org.junit.jupiter.api.Test;

class ReportModelTest {

    @Test
    void gatePassesWhenEveryMetricIsWithinItsThreshold() {
        Summary s = Samples.summary(5.0, 5.2, 0.01, 0.95); // +4% perplexity
        Gate g = Gate.check(s, new Gate.Thresholds(0.02, 0.05, 0.9));
        assertTrue(g.passed());
        assertEquals(List.of(), g.failures());
        assertTrue(Gate.check(s, Gate.Thresholds.NONE).passed());
    }

    @Test
    void eachExceededThresholdIsAFailureNamingMetricValueAndThreshold() {
        Summary s = Samples.summary(5.0, 5.5, 0.0321, 0.875); // +10% perplexity
        Gate kld = Gate.check(s, new Gate.Thresholds(0.02, null, null));
        assertFalse(kld.passed());
        assertEquals(List.of("mean KLD 0.0321 nats/token exceeds max_kld 0.02"), kld.failures());

        Gate ppl = Gate.check(s, new Gate.Thresholds(null, 0.05, null));
        assertEquals(1, ppl.failures().size());
        String f = ppl.failures().get(0);
        assertTrue(f.startsWith("perplexity increase +10.000% (5.0000 → 5.5000) exceeds max_ppl_increase +5.000%"), f);

        Gate top1 = Gate.check(s, new Gate.Thresholds(null, null, 0.9));
        assertEquals(List.of("top-1 agreement 0.875 is below min_top1 0.9"), top1.failures());

        Gate all = Gate.check(s, new Gate.Thresholds(0.02, 0.05, 0.9));
        assertEquals(3, all.failures().size());
        assertTrue(all.failures().get(0).contains("max_kld"));
        assertTrue(all.failures().get(1).contains("max_ppl_increase"));
        assertTrue(all.failures().get(2).contains("min_top1"));
    }

    @Test
    void thresholdsAreInclusiveAndNaNMetricsFail() {
        Summary s = Samples.summary(4.0, 4.0, 0.02, 0.9);
        assertTrue(Gate.check(s, new Gate.Thresholds(0.02, 0.0, 0.9)).passed());
        Summary nan = Samples.summary(4.0, 4.0, Double.NaN, Double.NaN);
        assertEquals(2, Gate.check(nan, new Gate.Thresholds(1.0, null, 0.0)).failures().size());
    }

    @Test
    void failureNumbersAreShort() {
        assertEquals("0.0321", Gate.num(0.0321));
        assertEquals("1.2346e-05", Gate.num(1.23456789e-5));
        assertEquals("3", Gate.num(3.0));
        assertEquals("100", Gate.num(100.0));
        assertEquals("NaN", Gate.num(Double.NaN));
    }

    @Test
    void missingModelLevelFailsOnlyWhenThresholdsAreSet() {
        Gate g = Gate.check(null, new Gate.Thresholds(null, null, 0.9));
        assertEquals(List.of(Gate.UNAVAILABLE), g.failures());
        assertEquals("model-level metrics unavailable", Gate.UNAVAILABLE);
        assertTrue(Gate.check(null, Gate.Thresholds.NONE).passed());
    }

    @Test
    void thresholdsAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> new Gate.Thresholds(-0.1, null, null));
        assertThrows(IllegalArgumentException.class, () -> new Gate.Thresholds(Double.NaN, null, null));
        assertThrows(IllegalArgumentException.class, () -> new Gate.Thresholds(null, -1.0, null));
        assertThrows(IllegalArgumentException.class, () -> new Gate.Thresholds(null, null, 1.5));
    }

    @Test
    void layerIndexIsParsedFromTheName() {
        assertEquals(12, TensorError.layerOf("model.layers.12.mlp.up_proj.weight"));
        assertEquals(0, TensorError.layerOf("model.layers.0.input_layernorm.weight"));
        assertEquals(3, TensorError.layerOf("language_model.model.layers.3.self_attn.q_proj.weight"));
        assertNull(TensorError.layerOf("model.embed_tokens.weight"));
        assertNull(TensorError.layerOf("lm_head.weight"));
        assertNull(TensorError.layerOf("xmodel.layers.1.w"));
        assertNull(TensorError.layerOf("model.layers.99999999999.w"));
    }

    @Test
    void layersAggregateSignalAndNoiseExactly() {
        List<TensorError> tensors = List.of(
                new TensorError("model.layers.1.a", 1, "int4 g32", 4.5, 100, 0.02, 20.0, 0.5, 0.99, 200, 2),
                new TensorError("model.layers.0.a", 0, "int4 g32", 4.5, 10, 0.1, 10.0, 0.5, 0.99, 10, 1),
                new TensorError("model.layers.0.b", 0, "int4 g32", 4.5, 30, 1.0 / 10, 29.5, 0.5, 0.99, 990, 3),
                new TensorError("model.layers.0.norm", 0, "keep", 16, 60, 0, null, 0, 1, 1000, 0),
                new TensorError("model.layers.2.norm", 2, "keep", 16, 8, 0, null, 0, 1, 8, 0),
                new TensorError("lm_head.weight", null, "int8", 8.25, 1000, 5, 3.0, 9, 0.9, 5000, 5000));
        List<LayerError> layers = LayerError.of(tensors);
        assertEquals(3, layers.size());
        LayerError l0 = layers.get(0);
        assertEquals(0, l0.layer());
        assertEquals(100, l0.elements());
        assertEquals(4.0 / 100, l0.mse());
        assertEquals(10 * Math.log10(2000.0 / 4.0), l0.sqnrDb()); // 26.9897 dB
        LayerError l1 = layers.get(1);
        assertEquals(new LayerError(1, 100, 0.02, 20.0), l1);
        assertEquals(new LayerError(2, 8, 0.0, null), layers.get(2)); // no noise: exact
    }

    @Test
    void energiesComeFromErrorStatsOrAreRecoveredFromManifestMetrics() {
        ErrorStats e = new ErrorStats().add(new float[] {1, 2, 3, 4}, new float[] {1, 2, 3, 3.5f});
        TensorError t = TensorError.of("model.layers.7.mlp.down_proj.weight", "int4 g32", 4.5, e);
        assertEquals(7, t.layer());
        assertEquals(30.0, t.sumSqSignal());
        assertEquals(0.25, t.sumSqError());
        assertEquals(4, t.elements());
        assertEquals(10 * Math.log10(120), t.sqnrDb(), 1e-12);

        TensorError m = TensorError.fromMetrics(t.name(), t.scheme(), 4.5, 4, t.mse(), t.sqnrDb(), 0.5, t.cosine());
        assertEquals(30.0, m.sumSqSignal(), 1e-12);
        assertEquals(0.25, m.sumSqError(), 1e-15);
        TensorError exact = TensorError.fromMetrics("model.layers.7.norm", "keep", 16, 4, 0, null, 0, 1);
        assertTrue(Double.isNaN(exact.sumSqSignal()));
        LayerError l = LayerError.of(List.of(m, exact)).get(0);
        assertEquals(8, l.elements());
        assertEquals(10 * Math.log10(120), l.sqnrDb(), 1e-9); // the unknown signal adds nothing
    }

    @Test
    void histogramCountsEveryValueAndZerosSeparately() {
        double[] kl = {0, 0, 0, -1e-18, 1e-9, 1e-6, 2e-6, 1e-4, 3e-3, 0.01, 0.5, 0.5, 2.0};
        KldHistogram h = KldHistogram.of(kl, 6);
        double[] edges = h.edges();
        long[] counts = h.counts();
        assertEquals(7, edges.length);
        assertEquals(7, counts.length);
        assertEquals(KldHistogram.LOWEST, edges[0]);
        assertEquals(2.0, edges[6]);
        for (int i = 1; i < edges.length; i++) {
            assertTrue(edges[i] > edges[i - 1]);
            assertEquals(Math.log10(edges[1] / edges[0]), Math.log10(edges[i] / edges[i - 1]), 1e-9); // log-spaced
        }
        assertEquals(4, counts[0]); // three zeros and a rounding negative
        assertEquals(kl.length, h.total());
        for (int b = 1; b < counts.length; b++) {
            long expected = 0;
            for (double v : kl) {
                boolean first = b == 1 && v > 0 && v < edges[0];
                boolean last = b == counts.length - 1 && v == edges[edges.length - 1];
                if (first || last || (v >= edges[b - 1] && v < edges[b])) {
                    expected++;
                }
            }
            assertEquals(expected, counts[b], "bin " + b);
        }
        assertEquals(3, counts[1]); // 1e-9 (below the lowest edge), 1e-6 and 2e-6
        assertEquals(3, counts[6]); // 0.5, 0.5 and the maximum 2.0 itself
    }

    @Test
    void histogramOfTinyOrNoValuesAndBadInput() {
        KldHistogram zeros = KldHistogram.of(new double[] {0, 0});
        assertEquals(KldHistogram.DEFAULT_BINS + 1, zeros.counts().length);
        assertEquals(2, zeros.counts()[0]);
        assertEquals(2, zeros.total());
        assertEquals(1e-5, zeros.edges()[KldHistogram.DEFAULT_BINS]);
        assertEquals(0, KldHistogram.of(new double[0]).total());
        assertThrows(IllegalArgumentException.class, () -> KldHistogram.of(new double[] {Double.NaN}));
        assertThrows(IllegalArgumentException.class, () -> KldHistogram.of(new double[] {1}, 0));
        KldHistogram h = KldHistogram.of(new double[] {1e-3});
        h.counts()[1] = 99; // copies: the record stays immutable
        assertArrayEquals(KldHistogram.of(new double[] {1e-3}).counts(), h.counts());
        assertEquals(KldHistogram.of(new double[] {1e-3}), h);
    }

    @Test
    void reportDerivesGateAndLayers() {
        EvalReport r = Samples.realistic(new Gate.Thresholds(1e-9, null, null), true);
        assertFalse(r.gate().passed());
        assertEquals(4, r.layers().size());
        assertEquals("none", r.activationsLabel());
        assertEquals(16, r.model().summary().sequences());
        Estimate kl = r.model().summary().kl();
        assertTrue(kl.low() < kl.mean() && kl.mean() < kl.high());
    }
}
