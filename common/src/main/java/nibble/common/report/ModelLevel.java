package nibble.common.report;

import java.util.Objects;
import nibble.common.eval.Summary;

/**
 * The model-level half of an evaluation: what running both models over the same sequences showed, plus
 * what it takes to repeat the run. Absent from a report when the architecture is not one the runtime
 * knows.
 *
 * @param summary perplexity, KL divergence and top-1 metrics with their 95% intervals
 * @param seed the seed that chose the evaluation sequences
 * @param sequenceLength tokens per evaluation sequence
 * @param calibrationSeed the seed of the calibration data the quantization used, or null when it used none
 * @param kldHistogram the distribution of per-token KL divergences
 * @param text the text the sequences were cut from (llama-perplexity's protocol), or null for sampled or given sequences
 */
public record ModelLevel(Summary summary, long seed, int sequenceLength, Long calibrationSeed,
                         KldHistogram kldHistogram, Text text) {

    /**
     * Evaluation on text by llama.cpp's {@code llama-perplexity} protocol.
     *
     * @param input the text file or Parquet it was read from
     * @param ctx tokens per chunk
     * @param scoredFrom the first scored position of each chunk ({@code ctx/2})
     * @param textTokens tokens the whole text gave
     * @param bos whether each chunk starts with BOS
     */
    public record Text(String input, int ctx, int scoredFrom, int textTokens, boolean bos) {
    }

    /** A model level of sampled or given sequences. */
    public ModelLevel(Summary summary, long seed, int sequenceLength, Long calibrationSeed, KldHistogram kldHistogram) {
        this(summary, seed, sequenceLength, calibrationSeed, kldHistogram, null);
    }

    public ModelLevel {
        Objects.requireNonNull(summary, "summary");
        Objects.requireNonNull(kldHistogram, "kldHistogram");
        if (sequenceLength < 1) {
            throw new IllegalArgumentException("sequence length must be positive, got " + sequenceLength);
        }
    }

    /** Perplexity of the quantized model over that of the original, from the mean NLLs. */
    public double perplexityRatio() {
        return summary.perplexityQ().mean() / summary.perplexityP().mean();
    }

    /** Perplexity of the quantized model minus that of the original. */
    public double perplexityDifference() {
        return summary.perplexityQ().mean() - summary.perplexityP().mean();
    }
}
