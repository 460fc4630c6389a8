package nibble.common.stats;

import java.io.Serializable;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.List;
import nibble.common.InvalidInputException;
import nibble.common.model.LinearInputs;
import nibble.common.model.LlamaConfig;
import nibble.common.model.LlamaModel;

/**
 * Per input channel statistics of every linear layer's input over calibration sequences: tokens
 * seen, sum of x² and of |x|, and max |x|. Inputs are numbered {@code 4·layer + site} for the four
 * sites of each layer ({@link LinearInputs.Site}: attention in, attention out, MLP in, MLP hidden),
 * then the head's input.
 *
 * <p>Deterministic whatever the partitioning: within a sequence, positions are summed in order in
 * double (each {@code x²} of a float is exact in double); at the end of the sequence each channel's
 * sums are added to exact {@link BigDecimal} totals, and {@link #merge} adds totals exactly. Exact
 * addition is associative and commutative, so every order of sequences and every merge tree gives
 * the same totals; means are rounded from them once. Memory is a few numbers per channel, never
 * activations.
 */
public final class ActivationAccumulator implements LinearInputs, Serializable {
    private static final long serialVersionUID = 1L;
    /** Sites per layer (the head's input comes after all layers). */
    public static final int SITES = 4;

    private final int layers;
    private final int[] widths;
    private final long[] count;
    private final double[][] seqSq;
    private final double[][] seqAbs;
    private final float[][] maxAbs;
    private final BigDecimal[][] sumSq;
    private final BigDecimal[][] sumAbs;
    private long sequences;

    public ActivationAccumulator(LlamaConfig c) {
        layers = c.numLayers();
        int n = layers * SITES + 1;
        widths = new int[n];
        for (int l = 0; l < layers; l++) {
            widths[l * SITES] = c.hiddenSize();
            widths[l * SITES + 1] = c.hiddenSize();
            widths[l * SITES + 2] = c.hiddenSize();
            widths[l * SITES + 3] = c.intermediateSize();
        }
        widths[n - 1] = c.hiddenSize();
        count = new long[n];
        seqSq = new double[n][];
        seqAbs = new double[n][];
        maxAbs = new float[n][];
        sumSq = new BigDecimal[n][];
        sumAbs = new BigDecimal[n][];
        for (int i = 0; i < n; i++) {
            seqSq[i] = new double[widths[i]];
            seqAbs[i] = new double[widths[i]];
            maxAbs[i] = new float[widths[i]];
            sumSq[i] = zeros(widths[i]);
            sumAbs[i] = zeros(widths[i]);
        }
    }

    private static BigDecimal[] zeros(int n) {
        BigDecimal[] z = new BigDecimal[n];
        java.util.Arrays.fill(z, BigDecimal.ZERO);
        return z;
    }

    /** Inputs: {@code 4·layers + 1}. */
    public int inputs() {
        return widths.length;
    }

    /** The input an observation at {@code site} of {@code layer} counts into. */
    public int input(int layer, Site site) {
        return site == Site.HEAD_IN ? layers * SITES : layer * SITES + site.ordinal();
    }

    /** The tensors that read input {@code i} (Hugging Face Llama names); the head is the embedding when {@code tied}. */
    public List<String> tensors(int i, boolean tied) {
        if (i == layers * SITES) {
            return List.of(tied ? "model.embed_tokens.weight" : "lm_head.weight");
        }
        String p = "model.layers." + (i / SITES) + ".";
        switch (i % SITES) {
            case 0: return List.of(p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight", p + "self_attn.v_proj.weight");
            case 1: return List.of(p + "self_attn.o_proj.weight");
            case 2: return List.of(p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight");
            default: return List.of(p + "mlp.down_proj.weight");
        }
    }

    @Override
    public void observe(int layer, Site site, float[] x, int n) {
        int i = input(layer, site);
        double[] sq = seqSq[i];
        double[] abs = seqAbs[i];
        float[] max = maxAbs[i];
        for (int c = 0; c < n; c++) {
            float a = Math.abs(x[c]);
            sq[c] += (double) a * a;
            abs[c] += a;
            if (a > max[c] || a != a) {
                max[c] = a;
            }
        }
        count[i]++;
    }

    /**
     * Runs {@code model} over {@code tokens} as one batch ({@link LlamaModel#prefill}, no logits) and adds every linear input to the
     * totals; {@code what} names the sequence in errors (activations that are not finite).
     */
    public void addSequence(LlamaModel model, int[] tokens, String what) {
        model.prefill(tokens, tokens.length, this);
        endSequence(what);
    }

    /** Adds the current sequence's sums to the exact totals and starts the next sequence. */
    public void endSequence(String what) {
        for (int i = 0; i < widths.length; i++) {
            for (int c = 0; c < widths[i]; c++) {
                if (!Double.isFinite(seqSq[i][c]) || !Float.isFinite(maxAbs[i][c])) {
                    throw new InvalidInputException(what + ": a non-finite activation at the input of " + tensors(i, false).get(0)
                            + " channel " + c + " (the activations overflow)");
                }
                if (seqSq[i][c] != 0) {
                    sumSq[i][c] = sumSq[i][c].add(new BigDecimal(seqSq[i][c]));
                    sumAbs[i][c] = sumAbs[i][c].add(new BigDecimal(seqAbs[i][c]));
                }
                seqSq[i][c] = 0;
                seqAbs[i][c] = 0;
            }
        }
        sequences++;
    }

    /** Adds {@code other}'s totals to this one's (exactly) and returns this. */
    public ActivationAccumulator merge(ActivationAccumulator other) {
        if (other.widths.length != widths.length) {
            throw new IllegalArgumentException("accumulators of different models");
        }
        for (int i = 0; i < widths.length; i++) {
            count[i] += other.count[i];
            for (int c = 0; c < widths[i]; c++) {
                sumSq[i][c] = sumSq[i][c].add(other.sumSq[i][c]);
                sumAbs[i][c] = sumAbs[i][c].add(other.sumAbs[i][c]);
                maxAbs[i][c] = Math.max(maxAbs[i][c], other.maxAbs[i][c]);
            }
        }
        sequences += other.sequences;
        return this;
    }

    public long sequences() {
        return sequences;
    }

    /** Tokens run through the model (each gives the head one input). */
    public long tokens() {
        return count[widths.length - 1];
    }

    /** The statistics of input {@code i}. */
    public InputStats stats(int i) {
        int n = widths[i];
        double[] meanSq = new double[n];
        double[] meanAbs = new double[n];
        if (count[i] > 0) {
            BigDecimal d = BigDecimal.valueOf(count[i]);
            for (int c = 0; c < n; c++) {
                meanSq[c] = sumSq[i][c].divide(d, MathContext.DECIMAL128).doubleValue();
                meanAbs[c] = sumAbs[i][c].divide(d, MathContext.DECIMAL128).doubleValue();
            }
        }
        return new InputStats(count[i], meanSq, meanAbs, maxAbs[i].clone());
    }

    /** Every input's tensors and statistics, head last; inputs never observed are left out. */
    public List<Measured> measured(boolean tied) {
        List<Measured> out = new ArrayList<>();
        for (int i = 0; i < widths.length; i++) {
            if (count[i] > 0) {
                InputStats s = stats(i);
                for (String t : tensors(i, tied)) {
                    out.add(new Measured(t, s));
                }
            }
        }
        return out;
    }

    /** One tensor and the statistics of its input. */
    public record Measured(String tensor, InputStats stats) {
    }

    /**
     * Statistics of one linear input, per input channel.
     *
     * @param count tokens observed (the same for every channel)
     * @param meanSq mean of x²
     * @param meanAbs mean of |x|
     * @param maxAbs max of |x|
     */
    public record InputStats(long count, double[] meanSq, double[] meanAbs, float[] maxAbs) implements Serializable {
    }
}
