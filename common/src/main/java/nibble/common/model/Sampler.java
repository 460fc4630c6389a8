package nibble.common.model;

import java.util.SplittableRandom;
import nibble.common.eval.Divergence;
import nibble.common.eval.NonFiniteLogitsException;

/**
 * Draws token sequences from a model, reproducibly: the same model, seed and temperature give the same
 * tokens. Used to make evaluation text when none is given, so it must not depend on anything else.
 */
public final class Sampler {
    /** The first token of every sampled sequence: beginning-of-sequence in llama2.c and Llama 1/2 vocabularies. */
    public static final int BOS = 1;

    private Sampler() {
    }

    /** {@link #sample(LlamaModel, int, int, long, float)} starting from {@link #BOS}. */
    public static int[] sample(LlamaModel m, int length, long seed, float temperature) {
        return sample(m, BOS, length, seed, temperature);
    }

    /**
     * Returns {@code length} tokens: {@code first}, then each next token drawn from
     * {@code softmax(logits / temperature)} with a {@link SplittableRandom} seeded with {@code seed}
     * (one {@code nextDouble()} per token, inverse-CDF over token ids in order). Temperature 0 picks the
     * argmax (lowest id on ties).
     *
     * @throws NonFiniteLogitsException when the model's logits are NaN or infinite (a NaN softmax would
     *         silently draw token 0 forever)
     */
    public static int[] sample(LlamaModel m, int first, int length, long seed, float temperature) {
        if (length <= 0) {
            throw new IllegalArgumentException("length " + length + " must be positive");
        }
        if (!(temperature >= 0) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature " + temperature + " must be finite and >= 0");
        }
        SplittableRandom rng = new SplittableRandom(seed);
        KvCache cache = m.newCache(length);
        int[] out = new int[length];
        out[0] = first;
        for (int p = 0; p + 1 < length; p++) {
            float[] logits = m.forward(out[p], p, cache);
            NonFiniteLogitsException.check(logits, "", p);
            out[p + 1] = temperature == 0 ? Divergence.argmax(logits) : draw(logits, temperature, rng.nextDouble());
        }
        return out;
    }

    private static int draw(float[] logits, float temperature, double u) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp((logits[i] - max) / temperature);
            sum += p[i];
        }
        double target = u * sum;
        double acc = 0;
        for (int i = 0; i < p.length; i++) {
            acc += p[i];
            if (acc > target) {
                return i;
            }
        }
        return Divergence.argmax(logits);
    }
}
