package nibble.common.eval;

/**
 * How a quantized model's next-token distribution Q departs from the original's P at one position,
 * given the token that actually came next. Computed in double from the logits, with max subtraction,
 * so large logits neither overflow nor lose the small probabilities KL divergence is sensitive to.
 *
 * @param logProbP log P(next)
 * @param logProbQ log Q(next)
 * @param kl KL(P‖Q) = Σ p·(log p − log q), in nats
 * @param top1Agrees whether both argmaxes are the same token
 * @param top1CorrectP whether P's argmax is the next token
 * @param top1CorrectQ whether Q's argmax is the next token
 */
public record Divergence(double logProbP, double logProbQ, double kl, boolean top1Agrees, boolean top1CorrectP,
                         boolean top1CorrectQ) {

    /**
     * Compares two logit vectors over the same vocabulary at a position followed by {@code next}.
     *
     * @throws NonFiniteLogitsException when either vector holds a NaN or an infinity: the statistics
     *         of such logits are meaningless (NaN compares false everywhere, so KL would come out 0)
     */
    public static Divergence of(float[] p, float[] q, int next) {
        return of(p, q, next, -1);
    }

    /** As {@link #of(float[], float[], int)}, naming {@code position} when the logits are not finite. */
    public static Divergence of(float[] p, float[] q, int next, int position) {
        NonFiniteLogitsException.check(p, "original", position);
        NonFiniteLogitsException.check(q, "quantized", position);
        if (p.length != q.length) {
            throw new IllegalArgumentException("logit vectors differ in length: " + p.length + " vs " + q.length);
        }
        if (next < 0 || next >= p.length) {
            throw new IllegalArgumentException("next token " + next + " is outside 0.." + (p.length - 1));
        }
        double[] lp = logSoftmax(p);
        double[] lq = logSoftmax(q);
        double kl = 0;
        for (int i = 0; i < lp.length; i++) {
            double pi = Math.exp(lp[i]);
            if (pi > 0) {
                kl += pi * (lp[i] - lq[i]);
            }
        }
        int ap = argmax(p);
        int aq = argmax(q);
        return new Divergence(lp[next], lq[next], kl, ap == aq, ap == next, aq == next);
    }

    /** {@code log softmax(logits)} in double. */
    public static double[] logSoftmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double sum = 0;
        for (float l : logits) {
            sum += Math.exp(l - max);
        }
        double logZ = max + Math.log(sum);
        double[] out = new double[logits.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = logits[i] - logZ;
        }
        return out;
    }

    /** The index of the largest logit, the lowest one on ties. */
    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }
}
