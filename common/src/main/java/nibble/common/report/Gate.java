package nibble.common.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import nibble.common.eval.Summary;

/**
 * The pass/fail verdict on a quantized model: model-level metrics checked against thresholds, so a
 * pipeline can stop a model that lost too much accuracy. Each failure is a sentence naming the metric, its
 * value and the threshold. The checks use the means, not the interval ends.
 *
 * @param thresholds what was required
 * @param failures the checks that failed, empty when the model passed
 */
public record Gate(Thresholds thresholds, List<String> failures) {

    /** The failure when thresholds are set but the architecture was unknown, so nothing could be measured. */
    public static final String UNAVAILABLE = "model-level metrics unavailable";

    public Gate {
        Objects.requireNonNull(thresholds, "thresholds");
        failures = List.copyOf(failures);
    }

    /** Whether every check passed (also when there were none). */
    public boolean passed() {
        return failures.isEmpty();
    }

    /**
     * What the gate requires; each limit is optional (null).
     *
     * @param maxKld the largest acceptable mean KL divergence, in nats per token
     * @param maxPplIncrease the largest acceptable perplexity ratio minus 1 (0.05 allows +5% perplexity)
     * @param minTop1 the smallest acceptable top-1 agreement, a fraction of tokens
     */
    public record Thresholds(Double maxKld, Double maxPplIncrease, Double minTop1) {

        /** No limits: every model passes. */
        public static final Thresholds NONE = new Thresholds(null, null, null);

        public Thresholds {
            if (maxKld != null && !(maxKld >= 0)) {
                throw new IllegalArgumentException("max_kld must be a non-negative number, got " + maxKld);
            }
            if (maxPplIncrease != null && !(maxPplIncrease > -1 && maxPplIncrease < Double.POSITIVE_INFINITY)) {
                throw new IllegalArgumentException("max_ppl_increase must be a number above -1, got " + maxPplIncrease);
            }
            if (minTop1 != null && !(minTop1 >= 0 && minTop1 <= 1)) {
                throw new IllegalArgumentException("min_top1 must be between 0 and 1, got " + minTop1);
            }
        }

        /** Whether any limit is set. */
        public boolean any() {
            return maxKld != null || maxPplIncrease != null || minTop1 != null;
        }
    }

    /**
     * Checks {@code summary} (null when there are no model-level metrics) against {@code t}. A metric that
     * is NaN fails its check.
     */
    public static Gate check(Summary summary, Thresholds t) {
        List<String> failures = new ArrayList<>();
        if (summary == null) {
            if (t.any()) {
                failures.add(UNAVAILABLE);
            }
            return new Gate(t, failures);
        }
        if (t.maxKld() != null) {
            double kl = summary.kl().mean();
            if (!(kl <= t.maxKld())) {
                failures.add("mean KLD " + num(kl) + " nats/token exceeds max_kld " + num(t.maxKld()));
            }
        }
        if (t.maxPplIncrease() != null) {
            double increase = summary.perplexityQ().mean() / summary.perplexityP().mean() - 1;
            if (!(increase <= t.maxPplIncrease())) {
                failures.add(String.format(Locale.ROOT, "perplexity increase %+.3f%% (%.4f → %.4f) exceeds "
                        + "max_ppl_increase %+.3f%%", 100 * increase, summary.perplexityP().mean(),
                        summary.perplexityQ().mean(), 100 * t.maxPplIncrease()));
            }
        }
        if (t.minTop1() != null) {
            double top1 = summary.top1Agreement().mean();
            if (!(top1 >= t.minTop1())) {
                failures.add("top-1 agreement " + num(top1) + " is below min_top1 " + num(t.minTop1()));
            }
        }
        return new Gate(t, failures);
    }

    /** Five significant digits without trailing zeros: 0.0321, 1.2346e-05, NaN. */
    static String num(double v) {
        if (!Double.isFinite(v)) {
            return Double.toString(v);
        }
        String s = String.format(Locale.ROOT, "%.5g", v);
        int e = s.indexOf('e');
        String mantissa = e < 0 ? s : s.substring(0, e);
        if (mantissa.contains(".")) {
            mantissa = mantissa.replaceAll("0+$", "").replaceAll("\\.$", "");
        }
        return e < 0 ? mantissa : mantissa + s.substring(e);
    }
}
