package nibble.jobs.spark;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.Row;
import org.apache.spark.util.AccumulatorV2;
import nibble.common.stats.ErrorStats;
import nibble.jobs.table.TensorTable;
import scala.Tuple2;

/**
 * Per-tensor reconstruction error, gathered from the tasks that write a quantized table. Each task
 * adds its partition's result under its partition index and a repeated attempt replaces it, so
 * retried or speculative tasks never count twice; the driver merges partitions in index order, so the
 * floating-point sums do not depend on task timing.
 */
public final class PartitionErrors
        extends AccumulatorV2<Tuple2<Integer, Map<String, ErrorStats>>, TreeMap<Integer, Map<String, ErrorStats>>> {
    private static final long serialVersionUID = 1L;
    private final TreeMap<Integer, Map<String, ErrorStats>> byPartition = new TreeMap<>();

    @Override
    public boolean isZero() {
        return byPartition.isEmpty();
    }

    @Override
    public PartitionErrors copy() {
        PartitionErrors c = new PartitionErrors();
        c.byPartition.putAll(byPartition);
        return c;
    }

    @Override
    public void reset() {
        byPartition.clear();
    }

    @Override
    public void add(Tuple2<Integer, Map<String, ErrorStats>> v) {
        byPartition.put(v._1(), v._2());
    }

    @Override
    public void merge(AccumulatorV2<Tuple2<Integer, Map<String, ErrorStats>>, TreeMap<Integer, Map<String, ErrorStats>>> other) {
        byPartition.putAll(other.value());
    }

    @Override
    public TreeMap<Integer, Map<String, ErrorStats>> value() {
        return byPartition;
    }

    /**
     * Takes the error off each row of a partition in plan order, adds it to the partition's
     * per-tensor errors and, when the partition is exhausted, records them under the partition
     * index. Rows are merged in the order they come, so the sums do not depend on how the input was
     * split.
     */
    public Iterator<Row> collect(Iterator<RowError> rows) {
        Map<String, ErrorStats> partErrors = new HashMap<>();
        int partition = TaskContext.getPartitionId();
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                boolean more = rows.hasNext();
                if (!more) {
                    add(new Tuple2<>(partition, partErrors));
                }
                return more;
            }

            @Override
            public Row next() {
                RowError r = rows.next();
                if (r.error() != null) {
                    partErrors.computeIfAbsent(TensorTable.tensor(r.row()), k -> new ErrorStats()).merge(r.error());
                }
                return r.row();
            }
        };
    }

    /** Every tensor's error, merged over partitions in index order. */
    public Map<String, ErrorStats> byTensor() {
        Map<String, ErrorStats> out = new HashMap<>();
        for (Map<String, ErrorStats> part : byPartition.values()) {
            part.forEach((t, e) -> out.computeIfAbsent(t, k -> new ErrorStats()).merge(e));
        }
        return out;
    }
}
