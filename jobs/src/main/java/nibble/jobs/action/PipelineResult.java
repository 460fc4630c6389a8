package nibble.jobs.action;

/**
 * What {@link PipelineAction} did. When the output was already complete ({@link #skipped}), every
 * stage result is null. Otherwise each stage that ran has its result, and {@link #complete} says
 * whether the evaluation passed its gate and {@code _SUCCESS} was written.
 */
public record PipelineResult(PipelineArgs args, boolean skipped, ShardResult shard, CalibrateResult calibrate,
                             QuantizeResult quantize, EvaluateResult evaluate) {

    static PipelineResult alreadyComplete(PipelineArgs args) {
        return new PipelineResult(args, true, null, null, null, null);
    }

    /** True when the output prefix is complete: all stages ran (now or before) and the gate passed. */
    public boolean complete() {
        return skipped || evaluate.passed();
    }
}
