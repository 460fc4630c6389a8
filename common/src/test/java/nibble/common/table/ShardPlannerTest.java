package nibble.common.table;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import nibble.common.DType;
import nibble.common.TensorInfo;
import org.junit.jupiter.api.Test;

class ShardPlannerTest {
    private static final List<TensorInfo> TENSORS = List.of(
            new TensorInfo("embed", DType.F32, new long[] {1000, 64}),   // 256 B rows, 256,000 B
            new TensorInfo("norm", DType.F32, new long[] {64}),          // one 256 B row
            new TensorInfo("big", DType.F16, new long[] {10, 100_000}),  // 200,000 B rows
            new TensorInfo("empty", DType.F32, new long[] {0, 8}));

    @Test
    void everyRowExactlyOnceInOrder() {
        List<FilePlan> plans = ShardPlanner.plan(TENSORS, 100_000);
        long[] next = new long[TENSORS.size()];
        int lastTensor = 0;
        for (int i = 0; i < plans.size(); i++) {
            FilePlan p = plans.get(i);
            assertEquals(i, p.index());
            assertTrue(p.rows() > 0);
            for (RowRange r : p.ranges()) {
                assertTrue(r.tensor() >= lastTensor);
                assertEquals(next[r.tensor()], r.start(), "contiguous rows of tensor " + r.tensor());
                next[r.tensor()] = r.end();
                lastTensor = r.tensor();
            }
        }
        for (int t = 0; t < TENSORS.size(); t++) {
            assertEquals(TENSORS.get(t).rows(), next[t]);
        }
    }

    @Test
    void filesStayNearTheTargetAndOversizedRowsGetTheirOwnFile() {
        List<FilePlan> plans = ShardPlanner.plan(TENSORS, 100_000);
        for (FilePlan p : plans) {
            long bytes = 0;
            for (RowRange r : p.ranges()) {
                bytes += r.count() * TENSORS.get(r.tensor()).rowBytes();
            }
            assertTrue(bytes <= 100_000 || p.rows() == 1, "file " + p.index() + " holds " + bytes);
        }
        // 256,256 small bytes in files of <= 100,000 -> 3 files; then 10 oversized rows.
        assertEquals(3 + 10, plans.size());
        assertEquals(1, ShardPlanner.plan(TENSORS.subList(0, 2), 1L << 30).size());
    }
}
