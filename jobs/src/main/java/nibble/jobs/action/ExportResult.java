package nibble.jobs.action;

import java.util.List;
import nibble.common.format.GgmlType;
import nibble.common.format.GgufExport;

/**
 * What {@link ExportAction} wrote: one line per tensor, the file's size and the time taken.
 *
 * @param tensors per tensor: its GGUF name and type, how its values carried, and what moved
 * @param bytes the written file's length
 */
public record ExportResult(ExportArgs args, List<Tensor> tensors, long bytes, long elapsedNanos) {

    /**
     * One exported tensor.
     *
     * @param changedValues values that differ from the table's dequantized values (0 unless re-quantized or Q4_1-rounded)
     * @param sqnrDb SQNR of the written values against the table's values; null when they are identical
     */
    public record Tensor(String name, String ggufName, GgmlType type, GgufExport.Carry carry, long changedValues, Double sqnrDb) {
    }

    /** How many tensors carried their values in each way. */
    public long count(GgufExport.Carry carry) {
        return tensors.stream().filter(t -> t.carry() == carry).count();
    }
}
