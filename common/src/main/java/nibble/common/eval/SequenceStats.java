package nibble.common.eval;

import java.io.Serializable;
import java.util.List;

/**
 * One evaluation sequence's per-token {@link Divergence}s reduced to means, plus every token's KL
 * divergence for the pooled quantiles. Sequences are the unit of the confidence intervals in
 * {@link Summary}, because tokens within a sequence are not independent.
 *
 * @param tokens scored positions
 * @param meanNllP mean −log P(next)
 * @param meanNllQ mean −log Q(next)
 * @param meanKl mean KL(P‖Q)
 * @param top1Agreement fraction of positions where the argmaxes agree
 * @param top1AccuracyP fraction where P's argmax is the next token
 * @param top1AccuracyQ fraction where Q's argmax is the next token
 * @param tokenKl KL(P‖Q) at each position
 */
public record SequenceStats(int tokens, double meanNllP, double meanNllQ, double meanKl, double top1Agreement,
                            double top1AccuracyP, double top1AccuracyQ, double[] tokenKl) implements Serializable {

    /** Reduces a non-empty list of one sequence's divergences. */
    public static SequenceStats of(List<Divergence> ds) {
        int n = ds.size();
        if (n == 0) {
            throw new IllegalArgumentException("a sequence needs at least one scored position");
        }
        double nllP = 0;
        double nllQ = 0;
        double kl = 0;
        int agree = 0;
        int correctP = 0;
        int correctQ = 0;
        double[] tokenKl = new double[n];
        for (int i = 0; i < n; i++) {
            Divergence d = ds.get(i);
            nllP -= d.logProbP();
            nllQ -= d.logProbQ();
            kl += d.kl();
            tokenKl[i] = d.kl();
            agree += d.top1Agrees() ? 1 : 0;
            correctP += d.top1CorrectP() ? 1 : 0;
            correctQ += d.top1CorrectQ() ? 1 : 0;
        }
        return new SequenceStats(n, nllP / n, nllQ / n, kl / n, (double) agree / n, (double) correctP / n,
                (double) correctQ / n, tokenKl);
    }

    /**
     * Scores a sequence: the logits at position {@code t} (original {@code p}, quantized {@code q})
     * predict {@code tokens[t + 1]}, so a sequence of n tokens gives n − 1 positions.
     *
     * @throws NonFiniteLogitsException naming the model and position of the first NaN or infinite logit
     */
    public static SequenceStats compare(float[][] p, float[][] q, int[] tokens) {
        return compare(p, q, tokens, 0);
    }

    /**
     * Scores the positions from {@code first} on: the logits at position {@code t >= first} predict
     * {@code tokens[t + 1]}, so n tokens give n − 1 − first positions (llama-perplexity scores a chunk of
     * n from n/2). Positions before {@code first} are not read, so their logits may be null
     * ({@link nibble.common.model.LlamaModel#prefill} computes only the ones asked for).
     *
     * @throws NonFiniteLogitsException naming the model and position of the first NaN or infinite logit
     */
    public static SequenceStats compare(float[][] p, float[][] q, int[] tokens, int first) {
        if (p.length != tokens.length || q.length != tokens.length) {
            throw new IllegalArgumentException("need logits for each of the " + tokens.length + " tokens, got "
                    + p.length + " and " + q.length);
        }
        if (first < 0 || first > tokens.length - 2) {
            throw new IllegalArgumentException("cannot score from position " + first + " of " + tokens.length + " tokens");
        }
        Divergence[] ds = new Divergence[tokens.length - 1 - first];
        for (int t = first; t + 1 < tokens.length; t++) {
            ds[t - first] = Divergence.of(p[t], q[t], tokens[t + 1], t);
        }
        return of(List.of(ds));
    }
}
