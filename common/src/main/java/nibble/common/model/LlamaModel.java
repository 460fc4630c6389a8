package nibble.common.model;

import java.util.List;
import nibble.common.InvalidInputException;

/**
 * A Llama decoder: RMSNorm, rotary position embedding in the configured {@link RopeLayout},
 * grouped-query causal attention and a SwiGLU MLP. Two forms of one model: {@link #forward} runs one
 * token at a time with a key/value cache, as llama2.c's {@code run.c} does ({@code sample}); {@link
 * #prefill} runs a whole sequence as one batch of matrix products ({@link Prefill}: calibration,
 * evaluation, {@link #logits}). Both are plain, deterministic float arithmetic; they differ only in
 * the order of the products' sums. Immutable; each decoded sequence has its own {@link KvCache}.
 */
public final class LlamaModel {
    private final LlamaConfig config;
    private final LlamaWeights weights;
    private final ActivationQuant activationQuant;
    /** {@code theta^(-2i/headDim)} for each rotated pair {@code i}. */
    private final float[] ropeFreqs;

    public LlamaModel(LlamaConfig config, LlamaWeights weights) {
        this(config, weights, ActivationQuant.NONE);
    }

    /** @throws InvalidInputException when a weight's shape does not fit {@code config} */
    public LlamaModel(LlamaConfig config, LlamaWeights weights, ActivationQuant activationQuant) {
        weights.check(config);
        this.config = config;
        this.weights = weights;
        this.activationQuant = activationQuant;
        int half = config.headDim() / 2;
        ropeFreqs = new float[half];
        for (int i = 0; i < half; i++) {
            ropeFreqs[i] = (float) (1.0 / Math.pow(config.ropeTheta(), 2.0 * i / config.headDim()));
        }
    }

    public LlamaConfig config() {
        return config;
    }

    public LlamaWeights weights() {
        return weights;
    }

    public ActivationQuant activationQuant() {
        return activationQuant;
    }

    /** The same weights with another activation treatment. */
    public LlamaModel withActivationQuant(ActivationQuant q) {
        return new LlamaModel(config, weights, q);
    }

    /** A cache for one sequence of at most {@code maxSeq} tokens. */
    public KvCache newCache(int maxSeq) {
        return new KvCache(config, maxSeq);
    }

    /**
     * Feeds {@code token} at position {@code pos} and returns the logits for the next token. Positions
     * before {@code pos} must already be in {@code cache}; feeding a position again forgets the later
     * ones.
     */
    public float[] forward(int token, int pos, KvCache cache) {
        return forward(token, pos, cache, null);
    }

    /**
     * {@link #forward(int, int, KvCache)}, showing {@code observer} (when not null) every linear layer's
     * input before the layer reads it; the logits are the same.
     */
    public float[] forward(int token, int pos, KvCache cache, LinearInputs observer) {
        if (token < 0 || token >= config.vocabSize()) {
            throw new InvalidInputException("token " + token + " is outside the vocabulary 0.." + (config.vocabSize() - 1));
        }
        if (pos < 0 || pos >= cache.maxSeq || pos > cache.length) {
            throw new IllegalArgumentException("position " + pos + " with " + cache.length
                    + " positions cached (cache holds " + cache.maxSeq + ")");
        }
        int dim = config.hiddenSize();
        int kvDim = config.kvDim();
        float[] x = cache.x;
        weights.embedding().row(token, x);
        ropeAngles(pos, cache);
        List<LayerWeights> layers = weights.layers();
        for (int l = 0; l < layers.size(); l++) {
            LayerWeights w = layers.get(l);
            rmsNorm(x, w.inputNorm(), cache.xb);
            float[] in = linearInput(cache.xb, dim, w.q(), cache);
            if (observer != null) {
                observer.observe(l, LinearInputs.Site.ATTENTION_IN, in, dim);
            }
            w.q().matvec(in, cache.q);
            w.k().matvec(in, cache.k);
            w.v().matvec(in, cache.v);
            rope(cache.q, config.numHeads(), cache);
            rope(cache.k, config.numKvHeads(), cache);
            System.arraycopy(cache.k, 0, cache.keys[l], pos * kvDim, kvDim);
            System.arraycopy(cache.v, 0, cache.values[l], pos * kvDim, kvDim);
            attention(l, pos, cache);
            in = linearInput(cache.xb, dim, w.o(), cache);
            if (observer != null) {
                observer.observe(l, LinearInputs.Site.ATTENTION_OUT, in, dim);
            }
            w.o().matvec(in, cache.xb2);
            add(x, cache.xb2);

            rmsNorm(x, w.postAttentionNorm(), cache.xb);
            in = linearInput(cache.xb, dim, w.gate(), cache);
            if (observer != null) {
                observer.observe(l, LinearInputs.Site.MLP_IN, in, dim);
            }
            w.gate().matvec(in, cache.hb);
            w.up().matvec(in, cache.hb2);
            float[] hb = cache.hb;
            swiglu(hb, cache.hb2, hb.length);
            in = linearInput(hb, hb.length, w.down(), cache);
            if (observer != null) {
                observer.observe(l, LinearInputs.Site.MLP_HIDDEN, in, hb.length);
            }
            w.down().matvec(in, cache.xb2);
            add(x, cache.xb2);
        }
        rmsNorm(x, weights.finalNorm(), cache.xb);
        if (observer != null) {
            observer.observe(-1, LinearInputs.Site.HEAD_IN, cache.xb, dim);
        }
        float[] logits = new float[config.vocabSize()];
        weights.lmHead().matvec(headInput(cache), logits);
        cache.length = pos + 1;
        return logits;
    }

    /**
     * The logits after each token of {@code tokens} ({@code [position][vocab]}), from the batched
     * forward pass over the whole sequence ({@link #prefill}).
     */
    public float[][] logits(int[] tokens) {
        return prefill(tokens, 0, null);
    }

    /**
     * Runs {@code tokens} (positions 0 .. n-1, from an empty cache) through the model as one batch:
     * every linear layer as a matrix × matrix product ({@link Linear#matmul}), causal grouped-query
     * attention over the batch. Returns the logits of positions {@code from .. n-1} ({@code null}
     * before {@code from}; {@code from = n} skips the output head). {@code observer}, when not null,
     * sees every linear input: site by site through the layers, each site's token rows in position
     * order. The same model as {@link #forward}; the floats differ from it only by the order of the
     * products' sums (fused multiply-adds, see {@link MatMul}).
     *
     * @throws InvalidInputException for a token outside the vocabulary or more tokens than positions
     */
    public float[][] prefill(int[] tokens, int from, LinearInputs observer) {
        return new Prefill(this, tokens.length).run(tokens, from, observer);
    }

    /** The logits after each token of {@code tokens}, decoding one token at a time with one cache. */
    public float[][] logitsDecoded(int[] tokens) {
        KvCache cache = newCache(Math.max(1, tokens.length));
        float[][] out = new float[tokens.length][];
        for (int p = 0; p < tokens.length; p++) {
            out[p] = forward(tokens[p], p, cache);
        }
        return out;
    }

    /**
     * The same as {@link #logitsDecoded(int[])}, but each position is computed from scratch in a fresh cache:
     * quadratic, for checking that incremental decoding changes nothing.
     */
    public float[][] logitsFullRecompute(int[] tokens) {
        float[][] out = new float[tokens.length][];
        for (int p = 0; p < tokens.length; p++) {
            KvCache cache = newCache(p + 1);
            for (int t = 0; t <= p; t++) {
                out[p] = forward(tokens[t], t, cache);
            }
        }
        return out;
    }

    /** {@code theta^(-2i/headDim)} for each rotated pair. */
    float[] ropeFreqs() {
        return ropeFreqs;
    }

    /** {@code x[0..n)} as {@code layer} (and the layers sharing its input) reads it under {@link #activationQuant}. */
    private float[] linearInput(float[] x, int n, Linear layer, KvCache cache) {
        if (!activationQuant.rounds(layer, false)) {
            return x;
        }
        activationQuant.roundTrip(layer, x, n, cache.quantized);
        return cache.quantized;
    }

    private float[] headInput(KvCache cache) {
        if (!activationQuant.rounds(weights.lmHead(), true)) {
            return cache.xb;
        }
        activationQuant.roundTrip(weights.lmHead(), cache.xb, config.hiddenSize(), cache.quantized);
        return cache.quantized;
    }

    /** {@code out = x / sqrt(mean(x^2) + eps) * gain}. */
    private void rmsNorm(float[] x, float[] gain, float[] out) {
        rmsNorm(x, 0, x.length, gain, out, 0);
    }

    /** {@code out[oo, oo+n) = x[xo, xo+n) / sqrt(mean(x^2) + eps) * gain}: one token row. */
    void rmsNorm(float[] x, int xo, int n, float[] gain, float[] out, int oo) {
        double ss = 0;
        for (int i = 0; i < n; i++) {
            float v = x[xo + i];
            ss += (double) v * v;
        }
        float inv = (float) (1.0 / Math.sqrt(ss / n + config.rmsNormEps()));
        for (int i = 0; i < n; i++) {
            out[oo + i] = x[xo + i] * inv * gain[i];
        }
    }

    private void ropeAngles(int pos, KvCache cache) {
        ropeAngles(pos, cache.cos, cache.sin, 0);
    }

    /** The cosines and sines of position {@code pos} into {@code cos/sin[off, off + headDim/2)}. */
    void ropeAngles(int pos, float[] cos, float[] sin, int off) {
        for (int i = 0; i < ropeFreqs.length; i++) {
            float angle = pos * ropeFreqs[i];
            cos[off + i] = (float) Math.cos(angle);
            sin[off + i] = (float) Math.sin(angle);
        }
    }

    /** Rotates each head's pairs of {@code v} by the angles of the current position. */
    private void rope(float[] v, int heads, KvCache cache) {
        rope(v, 0, heads, cache.cos, cache.sin, 0);
    }

    /** Rotates each of {@code heads} heads of {@code v} from {@code vo} by the angles at {@code cos/sin[co..]}. */
    void rope(float[] v, int vo, int heads, float[] cos, float[] sin, int co) {
        int hd = config.headDim();
        int half = hd / 2;
        boolean interleaved = config.ropeLayout() == RopeLayout.INTERLEAVED;
        for (int h = 0; h < heads; h++) {
            int base = vo + h * hd;
            for (int i = 0; i < half; i++) {
                int a = interleaved ? base + 2 * i : base + i;
                int b = interleaved ? a + 1 : a + half;
                float x0 = v[a];
                float x1 = v[b];
                float c = cos[co + i];
                float s = sin[co + i];
                v[a] = x0 * c - x1 * s;
                v[b] = x0 * s + x1 * c;
            }
        }
    }

    /** Causal grouped-query attention of position {@code pos} over {@code 0..pos}, into {@code cache.xb}. */
    private void attention(int layer, int pos, KvCache cache) {
        int hd = config.headDim();
        int kvDim = config.kvDim();
        int group = config.groupSize();
        float scale = (float) (1.0 / Math.sqrt(hd));
        float[] keys = cache.keys[layer];
        float[] values = cache.values[layer];
        float[] att = cache.att;
        float[] out = cache.xb;
        for (int h = 0; h < config.numHeads(); h++) {
            int qBase = h * hd;
            int kvBase = (h / group) * hd;
            float max = Float.NEGATIVE_INFINITY;
            for (int t = 0; t <= pos; t++) {
                int kb = t * kvDim + kvBase;
                float dot = 0;
                for (int i = 0; i < hd; i++) {
                    dot += cache.q[qBase + i] * keys[kb + i];
                }
                att[t] = dot * scale;
                max = Math.max(max, att[t]);
            }
            float sum = 0;
            for (int t = 0; t <= pos; t++) {
                att[t] = (float) Math.exp(att[t] - max);
                sum += att[t];
            }
            for (int i = 0; i < hd; i++) {
                out[qBase + i] = 0;
            }
            for (int t = 0; t <= pos; t++) {
                float a = att[t] / sum;
                int vb = t * kvDim + kvBase;
                for (int i = 0; i < hd; i++) {
                    out[qBase + i] += a * values[vb + i];
                }
            }
        }
    }

    /** {@code hb[i] = silu(hb[i]) · hb2[i]} for {@code i < n}. */
    static void swiglu(float[] hb, float[] hb2, int n) {
        for (int i = 0; i < n; i++) {
            float g = hb[i];
            hb[i] = g / (1f + (float) Math.exp(-g)) * hb2[i];
        }
    }

    private static void add(float[] x, float[] y) {
        for (int i = 0; i < x.length; i++) {
            x[i] += y[i];
        }
    }
}
