package nibble.common.eval;

import java.io.Serializable;
import java.util.Arrays;
import java.util.List;

/**
 * The model-level accuracy comparison of an original and a quantized model over evaluation sequences.
 * Means and their 95% intervals are over per-sequence means ({@link Estimate}), so every sequence counts
 * once. Perplexity is {@code exp} of the mean NLL, and its interval is {@code exp} of the NLL interval
 * (exact for a monotone transform, and never negative, unlike the delta method). KL quantiles pool every
 * scored token.
 *
 * @param klMedian the median per-token KL divergence (nearest rank: the ⌈n/2⌉-th smallest)
 * @param klP99 the 99th percentile per-token KL divergence (nearest rank: the ⌈0.99·n⌉-th smallest)
 */
public record Summary(int sequences, long tokens, Estimate nllP, Estimate nllQ, Estimate perplexityP,
                      Estimate perplexityQ, Estimate kl, double klMedian, double klP99, Estimate top1Agreement,
                      Estimate top1AccuracyP, Estimate top1AccuracyQ) implements Serializable {

    /** Summarizes a non-empty list of sequences. */
    public static Summary of(List<SequenceStats> seqs) {
        int n = seqs.size();
        if (n == 0) {
            throw new IllegalArgumentException("no sequences to summarize");
        }
        long tokens = 0;
        for (SequenceStats s : seqs) {
            tokens += s.tokens();
        }
        if (tokens > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(tokens + " tokens are too many to hold for the KL quantiles");
        }
        double[] allKl = new double[(int) tokens];
        int at = 0;
        for (SequenceStats s : seqs) {
            System.arraycopy(s.tokenKl(), 0, allKl, at, s.tokenKl().length);
            at += s.tokenKl().length;
        }
        Arrays.sort(allKl);
        Estimate nllP = Estimate.of(seqs.stream().mapToDouble(SequenceStats::meanNllP).toArray());
        Estimate nllQ = Estimate.of(seqs.stream().mapToDouble(SequenceStats::meanNllQ).toArray());
        return new Summary(n, tokens, nllP, nllQ, nllP.map(Math::exp), nllQ.map(Math::exp),
                Estimate.of(seqs.stream().mapToDouble(SequenceStats::meanKl).toArray()),
                nearestRank(allKl, 50), nearestRank(allKl, 99),
                Estimate.of(seqs.stream().mapToDouble(SequenceStats::top1Agreement).toArray()),
                Estimate.of(seqs.stream().mapToDouble(SequenceStats::top1AccuracyP).toArray()),
                Estimate.of(seqs.stream().mapToDouble(SequenceStats::top1AccuracyQ).toArray()));
    }

    /** The ⌈percent·n/100⌉-th smallest of {@code sorted} (at least the first), in exact integer arithmetic. */
    public static double nearestRank(double[] sorted, int percent) {
        if (sorted.length == 0 || percent < 0 || percent > 100) {
            throw new IllegalArgumentException(percent + "th percentile of " + sorted.length + " values");
        }
        long rank = ((long) percent * sorted.length + 99) / 100;
        return sorted[(int) Math.max(1, rank) - 1];
    }
}
