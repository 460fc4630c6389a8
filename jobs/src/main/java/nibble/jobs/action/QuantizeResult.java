package nibble.jobs.action;

import nibble.common.table.Manifest;

/**
 * What {@link QuantizeAction} wrote.
 *
 * @param input the dense table's manifest
 * @param output the committed quantized table's manifest (scheme, bits per weight and error per tensor)
 * @param elapsedNanos wall time of the whole action
 */
public record QuantizeResult(QuantizeArgs args, Manifest input, Manifest output, long elapsedNanos) {
}
