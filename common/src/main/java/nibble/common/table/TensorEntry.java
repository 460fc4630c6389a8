package nibble.common.table;

import java.util.Map;
import nibble.common.TensorInfo;

/**
 * One tensor in a manifest: name, dtype and shape, the CRC-32C of its data in row order (hex), the
 * name it had in the source when that differs, and stage-specific details (a quantized table records
 * the scheme and error here; null for a dense table).
 */
public record TensorEntry(TensorInfo info, String checksum, String sourceName, Map<String, Object> details) {
}
