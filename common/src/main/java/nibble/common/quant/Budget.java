package nibble.common.quant;

import java.util.Locale;

/**
 * What a {@link BudgetPlan} must stay within: the model's mean KLD against the original ({@code
 * --target-kld}), or its perplexity increase over the original as a fraction ({@code
 * --target-ppl-increase}, 0.05 = 5%, the unit of {@code evaluate --max-ppl-increase}). A plan sums
 * per-tensor costs, so each metric has an additive form: KLD itself, and for perplexity the mean
 * next-token NLL increase, since {@code ln(ppl'/ppl)} is the NLL increase and NLL increases add to
 * first order. A perplexity cost is never taken below the option's KLD: on text drawn from the
 * original model the expected NLL increase is exactly the KLD, and a measured increase below it (or
 * below 0) on a few thousand calibration tokens is mostly sampling noise, whose per-token spread is
 * far wider than the KLD's. The plan never counts on luck.
 */
public record Budget(Metric metric, double target) {

    /** The budget's metric, with the flag that sets it. */
    public enum Metric {
        KLD("target-kld", "mean KLD"),
        PPL_INCREASE("target-ppl-increase", "perplexity increase");

        private final String flag;
        private final String label;

        Metric(String flag, String label) {
            this.flag = flag;
            this.label = label;
        }

        /** The CLI flag, without dashes. */
        public String flag() {
            return flag;
        }

        public String label() {
            return label;
        }
    }

    public Budget {
        if (metric == null || !(target >= 0) || Double.isInfinite(target)) {
            throw new IllegalArgumentException("a budget needs a metric and a finite target >= 0, got " + metric + " " + target);
        }
    }

    /** The target in the additive unit the plan sums. */
    public double additiveTarget() {
        return metric == Metric.KLD ? target : Math.log1p(target);
    }

    /** A sum of additive costs in the metric's own unit. */
    public double fromAdditive(double sum) {
        return metric == Metric.KLD ? sum : Math.expm1(sum);
    }

    /** One tensor option's additive cost from what was measured with it alone: its mean KLD and its mean NLL increase. */
    public double cost(double kld, double nllIncrease) {
        return metric == Metric.KLD ? kld : Math.max(kld, nllIncrease);
    }

    @Override
    public String toString() {
        return metric.label + " " + String.format(Locale.ROOT, "%s", target);
    }
}
