package nibble.jobs.action;

import java.util.List;
import java.util.Map;
import nibble.common.TensorInfo;
import nibble.common.stats.TensorStats;

/**
 * What {@link CalibrateAction} measured.
 *
 * @param tensors the table's tensors, in manifest order
 * @param stats each measured tensor's statistics, by name
 */
public record CalibrateResult(CalibrateArgs args, List<TensorInfo> tensors, Map<String, TensorStats> stats) {
}
