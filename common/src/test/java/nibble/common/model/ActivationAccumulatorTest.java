package nibble.common.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import nibble.common.stats.ActivationAccumulator;

/** Activation statistics: the observer changes no logit, the statistics are right, and any split of the sequences merges to the same bits. */
class ActivationAccumulatorTest {

    private static List<int[]> sequences(int n) {
        Random r = new Random(7);
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int[] t = new int[5 + r.nextInt(12)];
            for (int p = 0; p < t.length; p++) {
                t[p] = r.nextInt(512);
            }
            out.add(t);
        }
        return out;
    }

    @Test
    void observingChangesNoLogit() throws Exception {
        LlamaModel m = LlamaModelTest.build(LlamaModelTest.randomCheckpoint(RopeLayout.INTERLEAVED));
        int[] tokens = sequences(1).get(0);
        float[][] plain = m.logits(tokens);
        ActivationAccumulator acc = new ActivationAccumulator(m.config());
        float[][] observed = m.prefill(tokens, 0, acc);
        for (int p = 0; p < tokens.length; p++) {
            assertArrayEquals(plain[p], observed[p]);
        }
        acc.endSequence("s");
        assertEquals(tokens.length, acc.tokens());
        assertEquals(1, acc.sequences());
        // the token-at-a-time decoder keeps its observer too
        float[][] decoded = m.logitsDecoded(tokens);
        KvCache cache = m.newCache(tokens.length);
        for (int p = 0; p < tokens.length; p++) {
            assertArrayEquals(decoded[p], m.forward(tokens[p], p, cache, acc));
        }
    }

    @Test
    void statisticsAreTheMomentsOfTheInputs() throws Exception {
        LlamaModel m = LlamaModelTest.build(LlamaModelTest.randomCheckpoint(RopeLayout.INTERLEAVED));
        List<int[]> seqs = sequences(3);
        // every input the model shows, recorded raw: the definition the accumulator must match
        List<float[]> seen = new ArrayList<>();
        int target = 2 * ActivationAccumulator.SITES + 3; // layer 1's down_proj input (hidden width)
        ActivationAccumulator acc = new ActivationAccumulator(m.config());
        int tokens = 0;
        for (int[] s : seqs) {
            m.prefill(s, s.length, (layer, site, x, n) -> {
                acc.observe(layer, site, x, n);
                if (acc.input(layer, site) == target - ActivationAccumulator.SITES) {
                    seen.add(java.util.Arrays.copyOf(x, n));
                }
            });
            acc.endSequence("s");
            tokens += s.length;
        }
        ActivationAccumulator.InputStats st = acc.stats(target - ActivationAccumulator.SITES);
        assertEquals(tokens, st.count());
        assertEquals(48, st.meanSq().length);
        for (int c = 0; c < 48; c++) {
            double sq = 0;
            double abs = 0;
            float max = 0;
            for (float[] x : seen) {
                sq += (double) x[c] * x[c];
                abs += Math.abs(x[c]);
                max = Math.max(max, Math.abs(x[c]));
            }
            assertEquals(sq / tokens, st.meanSq()[c], 1e-12 * sq / tokens);
            assertEquals(abs / tokens, st.meanAbs()[c], 1e-12 * abs / tokens);
            assertEquals(max, st.maxAbs()[c]);
            assertTrue(st.meanSq()[c] > 0);
        }
        // the untied head's input is lm_head's; q, k, v share one input
        assertEquals(List.of("lm_head.weight"), acc.tensors(acc.input(-1, LinearInputs.Site.HEAD_IN), false));
        assertEquals(3, acc.tensors(acc.input(0, LinearInputs.Site.ATTENTION_IN), false).size());
        assertEquals(2 * 7 + 1, acc.measured(false).size());
    }

    @Test
    void everySplitAndMergeOrderGivesTheSameBits() throws Exception {
        LlamaModel m = LlamaModelTest.build(LlamaModelTest.randomCheckpoint(RopeLayout.INTERLEAVED));
        List<int[]> seqs = sequences(9);
        ActivationAccumulator one = new ActivationAccumulator(m.config());
        for (int i = 0; i < seqs.size(); i++) {
            one.addSequence(m, seqs.get(i), "s" + i);
        }
        for (int parts : new int[] {2, 3, 9}) {
            List<ActivationAccumulator> partials = new ArrayList<>();
            for (int p = 0; p < parts; p++) {
                partials.add(new ActivationAccumulator(m.config()));
            }
            for (int i = 0; i < seqs.size(); i++) {
                partials.get(i % parts).addSequence(m, seqs.get(i), "s" + i);
            }
            ActivationAccumulator merged = roundTrip(partials.get(parts - 1));
            for (int p = parts - 2; p >= 0; p--) { // reverse order, and through serialization as Spark sends them
                merged = merged.merge(roundTrip(partials.get(p)));
            }
            assertEquals(one.tokens(), merged.tokens());
            assertEquals(one.sequences(), merged.sequences());
            for (int i = 0; i < one.inputs(); i++) {
                assertArrayEquals(one.stats(i).meanSq(), merged.stats(i).meanSq(), "input " + i + ", " + parts + " parts");
                assertArrayEquals(one.stats(i).meanAbs(), merged.stats(i).meanAbs());
                assertArrayEquals(one.stats(i).maxAbs(), merged.stats(i).maxAbs());
            }
        }
    }

    private static ActivationAccumulator roundTrip(ActivationAccumulator a) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(a);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return (ActivationAccumulator) in.readObject();
        }
    }
}
