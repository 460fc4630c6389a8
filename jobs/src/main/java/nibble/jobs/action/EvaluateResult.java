package nibble.jobs.action;

import nibble.common.report.EvalReport;

/**
 * What {@link EvaluateAction} found. The report is written whether or not the gate passed; the
 * caller decides what a failed gate means (the launcher exits 4).
 *
 * @param report tensor-level errors, model-level metrics (null without an architecture) and the gate verdict
 * @param modelSeconds wall time of the model-level run (0 without one)
 */
public record EvaluateResult(EvaluateArgs args, EvalReport report, double modelSeconds) {

    public boolean passed() {
        return report.gate().passed();
    }

    /** Scored tokens over all sequences (0 without a model-level run). */
    public long tokens() {
        return report.model() == null ? 0 : report.model().summary().tokens();
    }
}
