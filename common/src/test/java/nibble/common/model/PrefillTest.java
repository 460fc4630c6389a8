package nibble.common.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import nibble.common.InvalidInputException;
import nibble.common.quant.Scheme;
import org.junit.jupiter.api.Test;

/**
 * The batched forward pass ({@link LlamaModel#prefill}) against the token-at-a-time decoder: the
 * same model, so the same logits up to the products' summation order. The bound: each product
 * element differs by at most about {@code 2·γ(n)·Σ|w·x|} ({@link MatMulTest}), relative errors of a
 * few 1e-7 per layer that the network carries to the logits; measured on stories260K the largest
 * difference is a few 1e-6 of the largest logit, and the tests allow 1e-4, far below what a wrong
 * mask, position or head (differences of order 1) gives.
 */
class PrefillTest {
    static final double TOLERANCE = 1e-4;

    /** The random model of {@link LlamaModelTest} with 256 positions, so a sequence spans several query blocks. */
    static LlamaModel randomModel(RopeLayout layout) throws IOException {
        LocalModels.LocalCheckpoint c = LlamaModelTest.randomCheckpoint(layout);
        LlamaConfig k = c.config();
        LlamaConfig longer = new LlamaConfig(k.hiddenSize(), k.intermediateSize(), k.numLayers(), k.numHeads(), k.numKvHeads(),
                k.vocabSize(), 256, k.tieWordEmbeddings(), k.rmsNormEps(), k.ropeTheta(), layout);
        return LlamaModelTest.build(new LocalModels.LocalCheckpoint(longer, c.tensors()));
    }

    private static int[] tokens(int n, int vocab, int seed) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        int[] t = new int[n];
        t[0] = 1;
        for (int i = 1; i < n; i++) {
            t[i] = r.nextInt(vocab);
        }
        return t;
    }

    private static void assertClose(LlamaModel m, int[] tokens, String what) {
        float[][] prefill = m.logits(tokens);
        float[][] decoded = m.logitsDecoded(tokens);
        double diff = LlamaModelTest.maxRelativeDiff(prefill, decoded);
        int same = 0;
        for (int p = 0; p < tokens.length; p++) {
            same += nibble.common.eval.Divergence.argmax(prefill[p]) == nibble.common.eval.Divergence.argmax(decoded[p]) ? 1 : 0;
        }
        System.out.printf("%s: prefill vs decoder over %d positions: max relative logit difference %.3g, argmax equal at %d%n",
                what, tokens.length, diff, same);
        assertTrue(diff <= TOLERANCE, what + ": max relative difference " + diff);
        assertTrue(same >= tokens.length - 1, what + ": argmax differs at " + (tokens.length - same) + " positions");
    }

    @Test
    void prefillMatchesDecoderOnStories260K() throws IOException {
        LocalModels.LocalCheckpoint c = LocalModels.open(LlamaModelTest.stories260K());
        int[] t = tokens(200, c.config().vocabSize(), 1);
        assertClose(new LlamaModel(c.config(), LlamaWeights.load(c.config(), c.tensors())), t, "stories260K F32");
        WeightSource packed = PackedWeights.of(c.tensors(), (name, shape) -> Scheme.group(4, true, 32));
        LlamaModel int4 = new LlamaModel(c.config(), LlamaWeights.load(c.config(), packed));
        assertClose(int4, t, "stories260K int4-g32");
        // int8 activations round each input to 1 of 255 levels: a last-bit difference can move a value
        // to the next level (a step of absmax/127), so the two passes differ by more; same distributions
        // (llama.cpp's Q8_0 blocks of 32 likewise, the head's input too)
        for (ActivationQuant aq : new ActivationQuant[] {ActivationQuant.INT8_DYNAMIC, ActivationQuant.Q8_0}) {
            LlamaModel q = int4.withActivationQuant(aq);
            float[][] decoded = q.logitsDecoded(t);
            nibble.common.eval.SequenceStats st = nibble.common.eval.SequenceStats.compare(decoded, q.logits(t), t);
            // the rounding's own effect, for scale: the decoder with and without it
            double effect = nibble.common.eval.SequenceStats.compare(int4.logitsDecoded(t), decoded, t).meanKl();
            System.out.printf("stories260K int4-g32, %s activations: prefill vs decoder mean KL %.3g, top-1 agreement %.3f "
                    + "(the rounding itself: mean KL %.3g)%n", aq.label(), st.meanKl(), st.top1Agreement(), effect);
            assertTrue(st.meanKl() < 0.1 * effect, aq + ": mean KL " + st.meanKl() + " against " + effect);
            assertTrue(st.top1Agreement() >= 0.95, aq + ": top-1 agreement " + st.top1Agreement());
        }
        // and dense weights under Q8_0 are not rounded at all: the same floats as without it
        LlamaModel dense = new LlamaModel(c.config(), LlamaWeights.load(c.config(), c.tensors()));
        assertTrue(java.util.Arrays.deepEquals(dense.logits(t), dense.withActivationQuant(ActivationQuant.Q8_0).logits(t)));
    }

    @Test
    void prefillMatchesDecoderWithGroupedQueriesAndBothRopeLayouts() throws IOException {
        for (RopeLayout layout : RopeLayout.values()) {
            LlamaModel m = randomModel(layout);
            // 150 tokens: three query blocks, the last one partial
            assertClose(m, tokens(150, 512, 2), "random model, " + layout);
        }
    }

    @Test
    void aPositionsLogitsDoNotDependOnWhatFollows() throws IOException {
        LlamaModel m = randomModel(RopeLayout.INTERLEAVED);
        int[] t = tokens(130, 512, 3);
        float[][] all = m.logits(t);
        for (int n : new int[] {1, 6, 64, 65, 129}) {
            float[][] prefix = m.logits(java.util.Arrays.copyOf(t, n));
            for (int p = 0; p < n; p++) {
                assertArrayEquals(all[p], prefix[p], "position " + p + " of a prefix of " + n);
            }
        }
    }

    @Test
    void logitsFromAPositionOnAreTheSameFloats() throws IOException {
        LlamaModel m = randomModel(RopeLayout.HALF);
        int[] t = tokens(70, 512, 4);
        float[][] all = m.logits(t);
        float[][] half = m.prefill(t, 35, null);
        for (int p = 0; p < t.length; p++) {
            if (p < 35) {
                assertNull(half[p]);
            } else {
                assertArrayEquals(all[p], half[p]);
            }
        }
        float[][] none = m.prefill(t, t.length, null);
        for (float[] row : none) {
            assertNull(row);
        }
    }

    /** Calibration's contract: every site of every layer, each site's rows in position order, the decoder's inputs. */
    @Test
    void observerSeesEveryTokenOfEverySiteInOrder() throws IOException {
        LlamaModel m = randomModel(RopeLayout.INTERLEAVED);
        int[] t = tokens(20, 512, 5);
        List<String> order = new ArrayList<>();
        List<float[]> seen = new ArrayList<>();
        m.prefill(t, t.length, (layer, site, x, n) -> {
            order.add(layer + " " + site);
            seen.add(java.util.Arrays.copyOf(x, n));
        });
        int layers = m.config().numLayers();
        assertEquals((4 * layers + 1) * t.length, order.size());
        for (int l = 0; l < layers; l++) {
            for (int s = 0; s < 4; s++) {
                for (int p = 0; p < t.length; p++) {
                    assertEquals(l + " " + LinearInputs.Site.values()[s], order.get((4 * l + s) * t.length + p));
                }
            }
        }
        assertEquals("-1 HEAD_IN", order.get(order.size() - 1));
        // the decoder's inputs at the same site and position are the same vectors up to rounding
        List<float[]> decoded = new ArrayList<>();
        KvCache cache = m.newCache(t.length);
        for (int p = 0; p < t.length; p++) {
            m.forward(t[p], p, cache, (layer, site, x, n) -> {
                if (layer == 1 && site == LinearInputs.Site.MLP_HIDDEN) {
                    decoded.add(java.util.Arrays.copyOf(x, n));
                }
            });
        }
        for (int p = 0; p < t.length; p++) {
            float[] a = seen.get((4 + 3) * t.length + p);
            float[] b = decoded.get(p);
            assertEquals(b.length, a.length);
            for (int i = 0; i < a.length; i++) {
                assertEquals(b[i], a[i], 1e-4 * (1 + Math.abs(b[i])), "position " + p + " channel " + i);
            }
        }
    }

    @Test
    void refusesBadInput() throws IOException {
        LlamaModel m = randomModel(RopeLayout.HALF);
        assertThrows(InvalidInputException.class, () -> m.logits(new int[] {1, 512}));
        assertThrows(InvalidInputException.class, () -> m.logits(new int[] {-1}));
        assertThrows(InvalidInputException.class, () -> m.logits(new int[0]));
        assertThrows(InvalidInputException.class, () -> m.logits(new int[m.config().maxPositions() + 1]));
        assertThrows(IllegalArgumentException.class, () -> m.prefill(new int[] {1, 2}, 3, null));
    }
}
