package nibble.common.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import nibble.common.DType;
import nibble.common.InvalidInputException;
import nibble.common.eval.Divergence;
import nibble.common.eval.SequenceStats;
import nibble.common.eval.Summary;
import nibble.common.quant.Scheme;
import nibble.common.synth.SyntheticCheckpoint;
import nibble.common.synth.SyntheticSpec;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LlamaModelTest {
    /** Tokens of the fixed test sequence: BOS, then ids spread over a 512-token vocabulary. */
    private static final int[] TOKENS = {1, 403, 29, 500, 7, 7, 311, 2, 96, 444, 13, 258, 81, 190, 3, 499};

    static Path stories260K() {
        Path p = Path.of(System.getProperty("nibble.shared.dir", "../../shared"), "models", "stories260K.bin")
                .toAbsolutePath().normalize();
        if (!Files.exists(p)) {
            System.out.println("skipping: " + p + " not found (set -Dnibble.shared.dir)");
        }
        Assumptions.assumeTrue(Files.exists(p), p + " not found (set -Dnibble.shared.dir)");
        return p;
    }

    /** A small random model in memory, with grouped-query attention and an untied head. */
    static LocalModels.LocalCheckpoint randomCheckpoint(RopeLayout layout) {
        LlamaConfig c = new LlamaConfig(32, 48, 2, 4, 2, 512, 64, false, 1e-5, 10000, layout);
        return new LocalModels.LocalCheckpoint(c, name -> {
            Random r = new Random(name.hashCode());
            int n = name.equals("model.embed_tokens.weight") || name.equals("lm_head.weight") ? 512 * 32
                    : name.endsWith("norm.weight") ? 32
                    : name.contains("mlp") ? 48 * 32
                    : name.contains("k_proj") || name.contains("v_proj") ? 16 * 32 : 32 * 32;
            float[] t = new float[n];
            for (int i = 0; i < n; i++) {
                t[i] = name.endsWith("norm.weight") ? 1 + 0.1f * (float) r.nextGaussian() : 0.2f * (float) r.nextGaussian();
            }
            return t;
        });
    }

    static LlamaModel build(LocalModels.LocalCheckpoint c) throws IOException {
        return new LlamaModel(c.config(), LlamaWeights.load(c.config(), c.tensors()));
    }

    /**
     * The checkpoint with each head's q/k rows moved from interleaved pairs to halves (row 2i to i,
     * row 2i+1 to i + headDim/2), as Hugging Face's conversion script does, and the layout set to HALF.
     */
    static LocalModels.LocalCheckpoint toHalfLayout(LocalModels.LocalCheckpoint c) {
        LlamaConfig cfg = c.config();
        int hd = cfg.headDim();
        int dim = cfg.hiddenSize();
        return new LocalModels.LocalCheckpoint(cfg.withRopeLayout(RopeLayout.HALF), name -> {
            float[] t = c.tensors().tensor(name);
            if (!name.endsWith("q_proj.weight") && !name.endsWith("k_proj.weight")) {
                return t;
            }
            float[] out = new float[t.length];
            int rows = t.length / dim;
            for (int head = 0; head < rows / hd; head++) {
                for (int i = 0; i < hd / 2; i++) {
                    for (int j = 0; j < 2; j++) {
                        int from = head * hd + 2 * i + j;
                        int to = head * hd + j * (hd / 2) + i;
                        System.arraycopy(t, from * dim, out, to * dim, dim);
                    }
                }
            }
            return out;
        });
    }

    static double maxRelativeDiff(float[][] a, float[][] b) {
        double worst = 0;
        for (int p = 0; p < a.length; p++) {
            double scale = 1e-6;
            for (float v : b[p]) {
                scale = Math.max(scale, Math.abs(v));
            }
            for (int i = 0; i < a[p].length; i++) {
                worst = Math.max(worst, Math.abs(a[p][i] - b[p][i]) / scale);
            }
        }
        return worst;
    }

    @Test
    void cacheDecodingEqualsFullRecomputation() throws IOException {
        LlamaModel m = build(randomCheckpoint(RopeLayout.INTERLEAVED));
        float[][] cached = m.logits(TOKENS);
        float[][] full = m.logitsFullRecompute(TOKENS);
        for (int p = 0; p < TOKENS.length; p++) {
            assertArrayEquals(full[p], cached[p], "position " + p);
        }
    }

    @Test
    void cacheDecodingEqualsFullRecomputationOnStories260K() throws IOException {
        LlamaModel m = LocalModels.load(stories260K());
        float[][] cached = m.logits(TOKENS);
        float[][] full = m.logitsFullRecompute(TOKENS);
        assertTrue(maxRelativeDiff(cached, full) <= 1e-5);
        for (int p = 0; p < TOKENS.length; p++) {
            assertArrayEquals(full[p], cached[p], "position " + p);
        }
    }

    @Test
    void ropeLayoutsAgreeOnPermutedWeights() throws IOException {
        LocalModels.LocalCheckpoint c = randomCheckpoint(RopeLayout.INTERLEAVED);
        double diff = maxRelativeDiff(build(toHalfLayout(c)).logits(TOKENS), build(c).logits(TOKENS));
        assertTrue(diff <= 1e-5, "max relative difference " + diff);
        // Without the permutation the layouts are different models.
        LlamaModel wrong = build(new LocalModels.LocalCheckpoint(c.config().withRopeLayout(RopeLayout.HALF), c.tensors()));
        assertTrue(maxRelativeDiff(wrong.logits(TOKENS), build(c).logits(TOKENS)) > 1e-3);
    }

    @Test
    void ropeLayoutsAgreeOnStories260K() throws IOException {
        LocalModels.LocalCheckpoint c = LocalModels.open(stories260K());
        assertEquals(RopeLayout.INTERLEAVED, c.config().ropeLayout());
        double diff = maxRelativeDiff(build(toHalfLayout(c)).logits(TOKENS), build(c).logits(TOKENS));
        System.out.printf("stories260K: HALF (permuted) vs INTERLEAVED max relative logit difference %.3g%n", diff);
        assertTrue(diff <= 1e-5, "max relative difference " + diff);
    }

    @Test
    void int8ActivationsStayCloseOnStories260K() throws IOException {
        LlamaModel m = LocalModels.load(stories260K());
        LlamaModel q = m.withActivationQuant(ActivationQuant.INT8_DYNAMIC);
        List<SequenceStats> seqs = new ArrayList<>();
        double cosSum = 0;
        double minCos = 1;
        int positions = 0;
        double maxDiff = 0;
        for (long seed = 0; seed < 4; seed++) {
            int[] tokens = Sampler.sample(m, 64, seed, 1.0f);
            float[][] a = m.logits(tokens);
            float[][] b = q.logits(tokens);
            seqs.add(SequenceStats.compare(a, b, tokens));
            maxDiff = Math.max(maxDiff, maxRelativeDiff(b, a));
            for (int p = 0; p < a.length; p++) {
                double c = cosine(a[p], b[p]);
                cosSum += c;
                minCos = Math.min(minCos, c);
                positions++;
            }
        }
        Summary s = Summary.of(seqs);
        double meanCos = cosSum / positions;
        System.out.printf("stories260K INT8_DYNAMIC vs NONE over %d tokens: logit cosine mean %.4f (min %.4f), top-1 "
                + "agreement %.3f, mean KL %.4f (p99 %.4f), perplexity %.3f -> %.3f%n", s.tokens(), meanCos, minCos,
                s.top1Agreement().mean(), s.kl().mean(), s.klP99(), s.perplexityP().mean(), s.perplexityQ().mean());
        assertTrue(maxDiff > 0, "int8 activations changed nothing");
        assertTrue(meanCos > 0.99, "mean cosine " + meanCos);
        assertTrue(s.top1Agreement().mean() >= 0.8, "top-1 agreement " + s.top1Agreement().mean());
        assertTrue(s.kl().mean() < 0.05, "mean KL " + s.kl().mean());
    }

    @Test
    void q8_0ActivationsRoundOnlyQuantizedLayers() throws IOException {
        LlamaModel m = LocalModels.load(stories260K());
        int[] tokens = Sampler.sample(m, 16, 3, 1.0f);
        // Dense weights: llama.cpp multiplies F32 weights by float inputs, and so does Q8_0 mode.
        assertTrue(Arrays.deepEquals(m.logits(tokens), m.withActivationQuant(ActivationQuant.Q8_0).logits(tokens)));
        assertTrue(ActivationQuant.Q8_0.rounds(new QuantizedMatrix(int8Rows(), 1, 32, new byte[1][32], new byte[1][2],
                new byte[1][]), false));
        assertFalse(ActivationQuant.Q8_0.rounds(new DenseLinear(new float[32], 1, 32), false));
        assertTrue(ActivationQuant.Q8_0.rounds(new QuantizedMatrix(int8Rows(), 1, 32, new byte[1][32], new byte[1][2],
                new byte[1][]), true));
        assertFalse(ActivationQuant.INT8_DYNAMIC.rounds(new DenseLinear(new float[32], 1, 32), true));
    }

    private static Scheme int8Rows() {
        return Scheme.group(8, true, 32);
    }

    private static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }

    @Test
    void samplingRefusesNonFiniteLogits() throws IOException {
        // finite weights whose activations overflow: the final norm's weights at 3e38
        LocalModels.LocalCheckpoint c = randomCheckpoint(RopeLayout.HALF);
        LocalModels.LocalCheckpoint huge = new LocalModels.LocalCheckpoint(c.config(), name -> {
            float[] t = c.tensors().tensor(name);
            if (name.equals("model.norm.weight")) {
                java.util.Arrays.fill(t, 3e38f);
            }
            return t;
        });
        nibble.common.eval.NonFiniteLogitsException e = assertThrows(nibble.common.eval.NonFiniteLogitsException.class,
                () -> Sampler.sample(build(huge), 8, 1, 1.0f));
        assertEquals(0, e.position());
    }

    @Test
    void samplingIsDeterministic() throws IOException {
        LlamaModel m = build(randomCheckpoint(RopeLayout.HALF));
        int[] a = Sampler.sample(m, 20, 5, 1.0f);
        assertArrayEquals(a, Sampler.sample(m, 20, 5, 1.0f));
        assertEquals(Sampler.BOS, a[0]);
        assertEquals(20, a.length);
        assertNotEquals(List.of(a), List.of(Sampler.sample(m, 20, 6, 1.0f)));
        int[] greedy = Sampler.sample(m, 10, 1, 0f);
        assertArrayEquals(greedy, Sampler.sample(m, 10, 2, 0f));
        float[][] logits = m.logits(greedy);
        for (int p = 0; p + 1 < greedy.length; p++) {
            assertEquals(Divergence.argmax(logits[p]), greedy[p + 1]);
        }
    }

    @Test
    void loadsSyntheticHuggingFaceCheckpoints(@TempDir Path dir) throws IOException {
        for (DType dtype : DType.values()) {
            for (boolean tied : new boolean[] {false, true}) {
                Path d = dir.resolve(dtype + "-" + tied);
                Files.createDirectories(d);
                SyntheticSpec spec = SyntheticSpec.preset("tiny").withDtype(dtype).withTieWordEmbeddings(tied);
                SyntheticCheckpoint.write(d, spec, tied ? 0 : 100_000);
                LlamaModel m = LocalModels.load(d);
                assertEquals(RopeLayout.HALF, m.config().ropeLayout());
                assertEquals(tied, m.config().tieWordEmbeddings());
                float[] logits = m.forward(1, 0, m.newCache(4));
                assertEquals(spec.vocabSize(), logits.length);
                for (float v : logits) {
                    assertTrue(Float.isFinite(v));
                }
            }
        }
    }

    @Test
    void refusesBadInput() throws IOException {
        LocalModels.LocalCheckpoint c = randomCheckpoint(RopeLayout.HALF);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> LlamaWeights.load(c.config(),
                name -> name.endsWith("layers.1.mlp.up_proj.weight") ? new float[3] : c.tensors().tensor(name)));
        assertTrue(e.getMessage().startsWith("tensor 'model.layers.1.mlp.up_proj.weight': 3 values"), e.getMessage());
        LlamaModel m = build(c);
        assertThrows(InvalidInputException.class, () -> m.forward(512, 0, m.newCache(2)));
        assertThrows(IllegalArgumentException.class, () -> m.forward(1, 1, m.newCache(2)));
        LlamaConfig other = new LlamaConfig(32, 48, 1, 4, 2, 512, 64, false, 1e-5, 10000, RopeLayout.HALF);
        assertThrows(InvalidInputException.class, () -> new LlamaModel(other, m.weights()));
        assertThrows(InvalidInputException.class, () -> LocalModels.load(Path.of("no/such/checkpoint")));
    }

    @Test
    void printsSingleThreadSpeedOnStories260K() throws IOException {
        LlamaModel m = LocalModels.load(stories260K());
        int length = 256;
        for (int warm = 0; warm < 3; warm++) {
            Sampler.sample(m, length, warm, 1.0f);
        }
        List<Double> rates = new ArrayList<>();
        for (int run = 0; run < 5; run++) {
            long t0 = System.nanoTime();
            Sampler.sample(m, length, run, 1.0f);
            rates.add((length - 1) / ((System.nanoTime() - t0) / 1e9));
        }
        rates.sort(null);
        System.out.printf("stories260K: %.0f tokens/s single thread (median of 5 runs of %d tokens; %s)%n",
                rates.get(2), length, Map.of("min", Math.round(rates.get(0)), "max", Math.round(rates.get(4))));
    }
}
