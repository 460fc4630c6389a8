package nibble.jobs.spark;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
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

    /** Every tensor's error, merged over partitions in index order. */
    public Map<String, ErrorStats> byTensor() {
        Map<String, ErrorStats> out = new HashMap<>();
        for (Map<String, ErrorStats> part : byPartition.values()) {
            part.forEach((t, e) -> out.computeIfAbsent(t, k -> new ErrorStats()).merge(e));
        }
        return out;
    }
}
