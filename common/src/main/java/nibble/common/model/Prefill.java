package nibble.common.model;

import java.util.List;
import nibble.common.InvalidInputException;

/**
 * One batched forward pass of a {@link LlamaModel} over a whole sequence (llama.cpp's prompt
 * processing): activations are {@code [tokens][width]} row-major arrays, each linear layer is one
 * {@link Linear#matmul} over all token rows, and attention is causal grouped-query attention over
 * the batch, computed with the same {@link MatMul} products ({@code Q·Kᵀ} and {@code P·V}) a block
 * of {@link #QUERY_BLOCK} queries at a time. Norms, RoPE, softmax and SwiGLU are the decoder's own
 * code applied row by row, so the result differs from {@link LlamaModel#forward} only by the sums'
 * order in the products. Nothing depends on how the work is blocked, so the logits of a position
 * are the same floats whatever the sequence's length after it.
 *
 * <p>Memory: a few {@code tokens × width} arrays (the MLP's are {@code tokens × intermediate}); the
 * output head runs {@link #HEAD_BLOCK} positions at a time, so only the logits asked for are held.
 */
final class Prefill {
    /** Queries per attention block: scores are {@code group·64 × keys} floats. */
    static final int QUERY_BLOCK = 64;
    /** Positions per output-head product. */
    static final int HEAD_BLOCK = 128;

    private final LlamaModel model;
    private final LlamaConfig c;
    private final int n;
    private final int dim;
    private final int kvDim;
    private final int hidden;
    private final int hd;
    private final float[] x;
    private final float[] xb;
    private final float[] xb2;
    private final float[] q;
    private final float[] k;
    private final float[] v;
    private final float[] hb;
    private final float[] hb2;
    private final float[] quantized;
    private final float[] cos;
    private final float[] sin;
    private final float[] row;

    Prefill(LlamaModel model, int tokens) {
        this.model = model;
        this.c = model.config();
        this.n = tokens;
        if (tokens < 1 || tokens > c.maxPositions()) {
            throw new InvalidInputException("a sequence of " + tokens + " tokens (the model takes 1.." + c.maxPositions() + ")");
        }
        dim = c.hiddenSize();
        kvDim = c.kvDim();
        hidden = c.intermediateSize();
        hd = c.headDim();
        x = new float[n * dim];
        xb = new float[n * dim];
        xb2 = new float[n * dim];
        q = new float[n * dim];
        k = new float[n * kvDim];
        v = new float[n * kvDim];
        hb = new float[n * hidden];
        hb2 = new float[n * hidden];
        quantized = model.activationQuant() == ActivationQuant.NONE ? null : new float[n * Math.max(dim, hidden)];
        // ActivationQuant.roundTrip reads x[i] before it writes out[i], so one row array serves both
        cos = new float[n * (hd / 2)];
        sin = new float[n * (hd / 2)];
        row = new float[Math.max(dim, hidden)];
    }

    float[][] run(int[] tokens, int from, LinearInputs observer) {
        if (from < 0 || from > n) {
            throw new IllegalArgumentException("logits from position " + from + " of " + n);
        }
        LlamaWeights w = model.weights();
        float[] embedded = new float[dim];
        for (int t = 0; t < n; t++) {
            int token = tokens[t];
            if (token < 0 || token >= c.vocabSize()) {
                throw new InvalidInputException("token " + token + " is outside the vocabulary 0.." + (c.vocabSize() - 1));
            }
            w.embedding().row(token, embedded);
            System.arraycopy(embedded, 0, x, t * dim, dim);
            model.ropeAngles(t, cos, sin, t * (hd / 2));
        }
        List<LayerWeights> layers = w.layers();
        for (int l = 0; l < layers.size(); l++) {
            LayerWeights lw = layers.get(l);
            norm(lw.inputNorm());
            float[] in = input(l, LinearInputs.Site.ATTENTION_IN, xb, dim, lw.q(), observer);
            lw.q().matmul(in, n, q);
            lw.k().matmul(in, n, k);
            lw.v().matmul(in, n, v);
            for (int t = 0; t < n; t++) {
                model.rope(q, t * dim, c.numHeads(), cos, sin, t * (hd / 2));
                model.rope(k, t * kvDim, c.numKvHeads(), cos, sin, t * (hd / 2));
            }
            attention();
            in = input(l, LinearInputs.Site.ATTENTION_OUT, xb, dim, lw.o(), observer);
            lw.o().matmul(in, n, xb2);
            add(x, xb2, n * dim);

            norm(lw.postAttentionNorm());
            in = input(l, LinearInputs.Site.MLP_IN, xb, dim, lw.gate(), observer);
            lw.gate().matmul(in, n, hb);
            lw.up().matmul(in, n, hb2);
            LlamaModel.swiglu(hb, hb2, n * hidden);
            in = input(l, LinearInputs.Site.MLP_HIDDEN, hb, hidden, lw.down(), observer);
            lw.down().matmul(in, n, xb2);
            add(x, xb2, n * dim);
        }
        norm(w.finalNorm());
        if (observer != null) {
            observe(observer, -1, LinearInputs.Site.HEAD_IN, xb, dim);
        }
        return from < n ? head(w.lmHead(), rounded(xb, dim, w.lmHead(), true), from) : new float[n][];
    }

    /** The logits of positions {@code from ..} from the head's input rows {@code in}. */
    private float[][] head(Linear lmHead, float[] headIn, int from) {
        int vocab = c.vocabSize();
        float[][] logits = new float[n][];
        int block = Math.min(HEAD_BLOCK, Math.max(1, n - from));
        float[] out = new float[block * vocab];
        float[] in = new float[block * dim];
        for (int t0 = from; t0 < n; t0 += block) {
            int m = Math.min(block, n - t0);
            System.arraycopy(headIn, t0 * dim, in, 0, m * dim);
            lmHead.matmul(in, m, out);
            for (int j = 0; j < m; j++) {
                logits[t0 + j] = java.util.Arrays.copyOfRange(out, j * vocab, (j + 1) * vocab);
            }
        }
        return logits;
    }

    /** {@code xb} = each row of {@code x} normalised. */
    private void norm(float[] gain) {
        for (int t = 0; t < n; t++) {
            model.rmsNorm(x, t * dim, dim, gain, xb, t * dim);
        }
    }

    /**
     * The linear input at {@code site} as {@code reader} reads it: {@code a} itself, or each row rounded
     * and back as the model's {@link ActivationQuant} says (the decoder's rule, per token row); shown to
     * the observer row by row.
     */
    private float[] input(int layer, LinearInputs.Site site, float[] a, int width, Linear reader, LinearInputs observer) {
        float[] in = rounded(a, width, reader, false);
        if (observer != null) {
            observe(observer, layer, site, in, width);
        }
        return in;
    }

    private float[] rounded(float[] a, int width, Linear reader, boolean head) {
        ActivationQuant aq = model.activationQuant();
        if (!aq.rounds(reader, head)) {
            return a;
        }
        for (int t = 0; t < n; t++) {
            System.arraycopy(a, t * width, row, 0, width);
            aq.roundTrip(reader, row, width, row);
            System.arraycopy(row, 0, quantized, t * width, width);
        }
        return quantized;
    }

    private void observe(LinearInputs observer, int layer, LinearInputs.Site site, float[] a, int width) {
        float[] r = new float[width];
        for (int t = 0; t < n; t++) {
            System.arraycopy(a, t * width, r, 0, width);
            observer.observe(layer, site, r, width);
        }
    }

    /**
     * Causal grouped-query attention of every position over the positions up to it, into {@code xb}.
     * Per key/value head: its keys {@code [n][hd]} and values transposed {@code [hd][n]}; per block of
     * queries, the group's query heads stacked as rows, scores {@code Q·Kᵀ} for the keys up to the
     * block's end, the decoder's softmax on each row (keys after the query get probability 0), and
     * {@code P·V}. A zero probability adds {@code fma(0, v, s) = s}, so each output is the causal sum.
     */
    private void attention() {
        int group = c.groupSize();
        float scale = (float) (1.0 / Math.sqrt(hd));
        float[] keys = new float[n * hd];
        float[] valuesT = new float[hd * n];
        int qb = Math.min(QUERY_BLOCK, n);
        float[] qs = new float[group * qb * hd];
        float[] scores = new float[group * qb * n];
        float[] out = new float[group * qb * hd];
        for (int g = 0; g < c.numKvHeads(); g++) {
            for (int s = 0; s < n; s++) {
                System.arraycopy(k, s * kvDim + g * hd, keys, s * hd, hd);
                for (int i = 0; i < hd; i++) {
                    valuesT[i * n + s] = v[s * kvDim + g * hd + i];
                }
            }
            for (int q0 = 0; q0 < n; q0 += qb) {
                int m = Math.min(qb, n - q0);
                int nk = q0 + m;
                int rowsQ = group * m;
                for (int h = 0; h < group; h++) {
                    for (int j = 0; j < m; j++) {
                        System.arraycopy(q, (q0 + j) * dim + (g * group + h) * hd, qs, (h * m + j) * hd, hd);
                    }
                }
                MatMul.multiply(keys, hd, nk, hd, qs, hd, rowsQ, scores, nk);
                for (int h = 0; h < group; h++) {
                    for (int j = 0; j < m; j++) {
                        softmax(scores, (h * m + j) * nk, q0 + j + 1, nk, scale);
                    }
                }
                MatMul.multiply(valuesT, n, hd, nk, scores, nk, rowsQ, out, hd);
                for (int h = 0; h < group; h++) {
                    for (int j = 0; j < m; j++) {
                        System.arraycopy(out, (h * m + j) * hd, xb, (q0 + j) * dim + (g * group + h) * hd, hd);
                    }
                }
            }
        }
    }

    /** The decoder's softmax of {@code a[o, o+len) · scale}, then zero up to {@code o + width}. */
    private static void softmax(float[] a, int o, int len, int width, float scale) {
        float max = Float.NEGATIVE_INFINITY;
        for (int t = 0; t < len; t++) {
            a[o + t] = a[o + t] * scale;
            max = Math.max(max, a[o + t]);
        }
        float sum = 0;
        for (int t = 0; t < len; t++) {
            a[o + t] = (float) Math.exp(a[o + t] - max);
            sum += a[o + t];
        }
        for (int t = 0; t < len; t++) {
            a[o + t] = a[o + t] / sum;
        }
        for (int t = len; t < width; t++) {
            a[o + t] = 0f;
        }
    }

    private static void add(float[] a, float[] b, int len) {
        for (int i = 0; i < len; i++) {
            a[i] += b[i];
        }
    }
}
