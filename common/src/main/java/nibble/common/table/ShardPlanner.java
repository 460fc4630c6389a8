package nibble.common.table;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToLongFunction;
import nibble.common.TensorInfo;

/**
 * Splits a table's rows into files of about {@code targetBytes} of data each. Tensors stay in their
 * order and rows in theirs; a large tensor spans several files, small tensors share one. A row larger
 * than the target gets a file of its own. The plan depends only on the tensor list and the target.
 */
public final class ShardPlanner {
    private ShardPlanner() {
    }

    public static List<FilePlan> plan(List<TensorInfo> tensors, long targetBytes) {
        return plan(tensors, TensorInfo::rowBytes, targetBytes);
    }

    /** Plans files for rows whose stored size is {@code rowBytes} (e.g. a quantized row's codes and scales). */
    public static List<FilePlan> plan(List<TensorInfo> tensors, ToLongFunction<TensorInfo> rowBytesOf, long targetBytes) {
        if (targetBytes <= 0) {
            throw new IllegalArgumentException("targetBytes must be positive: " + targetBytes);
        }
        List<FilePlan> files = new ArrayList<>();
        List<RowRange> current = new ArrayList<>();
        long currentBytes = 0;
        for (int t = 0; t < tensors.size(); t++) {
            TensorInfo info = tensors.get(t);
            long rowBytes = Math.max(1, rowBytesOf.applyAsLong(info));
            long row = 0;
            while (row < info.rows()) {
                long room = (targetBytes - currentBytes) / rowBytes;
                if (room <= 0 && !current.isEmpty()) {
                    files.add(new FilePlan(files.size(), List.copyOf(current)));
                    current.clear();
                    currentBytes = 0;
                    continue;
                }
                long take = Math.min(Math.max(room, 1), info.rows() - row);
                current.add(new RowRange(t, row, row + take));
                currentBytes += take * rowBytes;
                row += take;
            }
        }
        if (!current.isEmpty()) {
            files.add(new FilePlan(files.size(), List.copyOf(current)));
        }
        return files;
    }
}
