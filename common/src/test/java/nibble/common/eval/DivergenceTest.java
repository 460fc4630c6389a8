package nibble.common.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class DivergenceTest {

    @Test
    void modelAgainstItselfHasNoDivergence() {
        float[] p = {1.5f, -2f, 0.25f, 3f};
        Divergence d = Divergence.of(p, p.clone(), 3);
        assertEquals(0.0, d.kl());
        assertTrue(d.top1Agrees());
        assertTrue(d.top1CorrectP());
        assertTrue(d.top1CorrectQ());
        assertEquals(d.logProbP(), d.logProbQ());
    }

    @Test
    void handComputedTwoTokenCase() {
        // P = softmax(0, 0) = (1/2, 1/2); Q = softmax(ln 3, 0) = (3/4, 1/4).
        float[] p = {0f, 0f};
        float[] q = {(float) Math.log(3), 0f};
        Divergence d = Divergence.of(p, q, 1);
        double expectedKl = 0.5 * Math.log(0.5 / 0.75) + 0.5 * Math.log(0.5 / 0.25);
        assertEquals(expectedKl, d.kl(), 1e-7);
        assertEquals(Math.log(0.5), d.logProbP(), 1e-12);
        assertEquals(Math.log(0.25), d.logProbQ(), 1e-7);
        assertTrue(d.top1Agrees()); // both pick token 0 (P ties resolve to the lowest id)
        assertFalse(d.top1CorrectP());
        assertFalse(d.top1CorrectQ());
    }

    @Test
    void nonFiniteLogitsAreRefusedNotScoredAsAPerfectMatch() {
        // before: logSoftmax of NaN is NaN, "p > 0" is false, so KL came out 0 and both argmaxes 0
        float[] ok = {0.5f, 1f, -1f};
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            float[] q = {0.5f, bad, -1f};
            NonFiniteLogitsException e = assertThrows(NonFiniteLogitsException.class, () -> Divergence.of(ok, q, 0));
            assertEquals("quantized", e.model());
            assertTrue(e.getMessage().contains("the quantized model's logits are not finite (" + bad + " for token 1)"), e.getMessage());
            assertEquals("original", assertThrows(NonFiniteLogitsException.class, () -> Divergence.of(q, ok, 0)).model());
        }
    }

    @Test
    void aSequenceNamesTheModelAndPositionOfTheFirstNonFiniteLogit() {
        float[][] p = {{1f, 0f}, {1f, 0f}, {1f, 0f}};
        float[][] q = {{1f, 0f}, {0f, 1f}, {Float.NaN, Float.NaN}};
        SequenceStats fine = SequenceStats.compare(p, new float[][] {{1f, 0f}, {0f, 1f}, {1f, 0f}}, new int[] {1, 0, 0});
        assertEquals(2, fine.tokens());
        // the last position's logits predict nothing, so they are not scored
        assertEquals(2, SequenceStats.compare(p, q, new int[] {1, 0, 0}).tokens());
        float[][] q2 = {{1f, 0f}, {Float.NaN, 0f}, {1f, 0f}};
        NonFiniteLogitsException e = assertThrows(NonFiniteLogitsException.class, () -> SequenceStats.compare(p, q2, new int[] {1, 0, 0}));
        assertEquals(1, e.position());
        assertTrue(e.getMessage().equals("the quantized model's logits at position 1 are not finite (NaN for token 0)"), e.getMessage());
        assertTrue(e instanceof nibble.common.InvalidInputException, "bad input: exit 3");
    }

    @Test
    void largeLogitsStayFinite() {
        float[] p = {1000f, 0f};
        float[] q = {0f, 1000f};
        Divergence d = Divergence.of(p, q, 0);
        assertEquals(0.0, d.logProbP(), 1e-12);
        assertEquals(-1000.0, d.logProbQ(), 1e-9);
        assertEquals(1000.0, d.kl(), 1e-9);
        assertFalse(d.top1Agrees());
    }

    @Test
    void summaryOfIdenticalModels() {
        float[][] logits = {{0f, 1f, 2f}, {2f, 1f, 0f}, {0f, 0f, 5f}};
        int[] tokens = {0, 2, 0};
        SequenceStats s = SequenceStats.compare(logits, logits, tokens);
        assertEquals(2, s.tokens());
        assertEquals(0.0, s.meanKl());
        assertEquals(1.0, s.top1Agreement());
        assertEquals(1.0, s.top1AccuracyP());
        Summary sum = Summary.of(List.of(s, s));
        assertEquals(0.0, sum.kl().mean());
        assertEquals(0.0, sum.klMedian());
        assertEquals(0.0, sum.klP99());
        assertEquals(1.0, sum.top1Agreement().mean());
        assertEquals(sum.perplexityP().mean(), sum.perplexityQ().mean());
        // NLL at position 0 (next = 2): -log softmax(0,1,2)[2]; position 1 (next = 0): the same by symmetry.
        double nll = -(2 - Math.log(1 + Math.E + Math.exp(2)));
        assertEquals(nll, sum.nllP().mean(), 1e-12);
        assertEquals(Math.exp(nll), sum.perplexityP().mean(), 1e-12);
        assertEquals(nll, sum.nllP().low(), 1e-12); // identical sequences: zero spread
    }

    @Test
    void estimateAndQuantilesByHand() {
        Estimate e = Estimate.of(new double[] {1, 2, 3, 4});
        double s = Math.sqrt(((1.5 * 1.5) * 2 + 0.5 * 0.5 * 2) / 3); // sample std = 1.2910
        assertEquals(2.5, e.mean(), 1e-12);
        assertEquals(2.5 - 1.96 * s / 2, e.low(), 1e-12);
        assertEquals(2.5 + 1.96 * s / 2, e.high(), 1e-12);
        assertTrue(Double.isNaN(Estimate.of(new double[] {1}).low()));

        double[] sorted = new double[100];
        for (int i = 0; i < 100; i++) {
            sorted[i] = i + 1;
        }
        assertEquals(50, Summary.nearestRank(sorted, 50));
        assertEquals(99, Summary.nearestRank(sorted, 99));
        assertEquals(1, Summary.nearestRank(sorted, 0));
        assertEquals(2, Summary.nearestRank(new double[] {1, 2, 3}, 50));
        assertEquals(3, Summary.nearestRank(new double[] {1, 2, 3}, 99));
    }

    @Test
    void perplexityIntervalIsExpOfNllInterval() {
        SequenceStats a = new SequenceStats(1, 1.0, 1.0, 0.1, 1, 1, 1, new double[] {0.1});
        SequenceStats b = new SequenceStats(1, 2.0, 3.0, 0.3, 0, 0, 1, new double[] {0.3});
        Summary s = Summary.of(List.of(a, b));
        assertEquals(Math.exp(1.5), s.perplexityP().mean(), 1e-12);
        assertEquals(Math.exp(s.nllP().low()), s.perplexityP().low(), 1e-12);
        assertEquals(Math.exp(s.nllQ().high()), s.perplexityQ().high(), 1e-12);
        assertEquals(0.2, s.kl().mean(), 1e-12);
        assertEquals(0.1, s.klMedian());
        assertEquals(0.3, s.klP99());
        assertEquals(2, s.tokens());
    }
}
