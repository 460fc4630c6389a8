package nibble.jobs.spark;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.util.AccumulatorV2;
import nibble.common.stats.ErrorStats;
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
     * A row's output with its error appended as a last column, so the error travels with the row
     * through the shuffle into plan order ({@link #collect} takes it off again). {@code error} is
     * null for rows that carry none.
     */
    public static Row withError(Row out, ErrorStats error) {
        Object[] values = new Object[out.length() + 1];
        for (int i = 0; i < out.length(); i++) {
            values[i] = out.get(i);
        }
        values[out.length()] = error;
        return RowFactory.create(values);
    }

    /**
     * Takes the error column of {@link #withError} off each row of a partition in plan order, adds
     * it to the partition's per-tensor errors (the tensor is column 0) and, when the partition is
     * exhausted, records them under the partition index. Rows are merged in the order they come,
     * so the sums do not depend on how the input was split.
     */
    public Iterator<Row> collect(Iterator<Row> rows) {
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
                Row r = rows.next();
                int n = r.length() - 1;
                ErrorStats e = (ErrorStats) r.get(n);
                if (e != null) {
                    partErrors.computeIfAbsent(r.getString(0), k -> new ErrorStats()).merge(e);
                }
                Object[] values = new Object[n];
                for (int i = 0; i < n; i++) {
                    values[i] = r.get(i);
                }
                return RowFactory.create(values);
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
