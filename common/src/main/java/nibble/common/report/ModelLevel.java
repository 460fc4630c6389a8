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
 */
public record ModelLevel(Summary summary, long seed, int sequenceLength, Long calibrationSeed,
                         KldHistogram kldHistogram) {

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
