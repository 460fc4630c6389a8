package nibble.jobs.action;

import nibble.common.quant.BudgetPlan;

/**
 * What {@link PlanAction} chose.
 *
 * @param args what was asked
 * @param plan the options, sensitivities and choices per tensor
 * @param smallestBytes the planned tensors' bytes with every tensor at its smallest option
 * @param int8Bytes the planned tensors' bytes with every tensor at int8 g32 (or kept where the base keeps it)
 * @param sequences calibration sequences measured on
 * @param tokens their tokens
 * @param elapsedNanos wall-clock time
 */
public record PlanResult(PlanArgs args, BudgetPlan plan, long smallestBytes, long int8Bytes, int sequences, long tokens,
                         long elapsedNanos) {
}
