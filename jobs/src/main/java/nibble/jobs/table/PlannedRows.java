package nibble.jobs.table;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import nibble.common.InvalidInputException;
import nibble.common.TensorInfo;
import nibble.common.table.FilePlan;
import nibble.common.table.RowRange;
import scala.Tuple2;

/**
 * Brings a table's rows into file-plan order: partition {@code i} holds exactly the rows of
 * {@code plans.get(i)}, sorted by (tensor, row). Whatever the input's files and Spark's split
 * sizes, the output partitions (and so the written files) are the same. The shuffle spills to disk,
 * so memory does not grow with the model.
 */
public final class PlannedRows {
    private PlannedRows() {
    }

    /**
     * @param rows rows whose first two columns are {@code tensor} and {@code row}
     * @param input the table's name, for errors about rows of unknown tensors
     */
    public static JavaRDD<Row> of(Dataset<Row> rows, String input, List<TensorInfo> infos, List<FilePlan> plans) {
        return of(rows.javaRDD(), r -> r, input, infos, plans);
    }

    /**
     * The same for an RDD of any element that has a row. Map rows to their (smaller) output before
     * calling this where the work is per row, so the shuffle carries the output, not the input.
     *
     * @param rowOf the element's row, whose first two columns are {@code tensor} and {@code row}
     */
    public static <T> JavaRDD<T> of(JavaRDD<T> rows, Function<T, Row> rowOf, String input, List<TensorInfo> infos,
                                    List<FilePlan> plans) {
        PlanPartitioner partitioner = new PlanPartitioner(input, infos, plans);
        return rows
                .mapToPair(t -> {
                    Row r = rowOf.call(t);
                    return new Tuple2<>(partitioner.key(TensorTable.tensor(r), TensorTable.row(r)), t);
                })
                .repartitionAndSortWithinPartitions(partitioner, new KeyOrder())
                .values();
    }

    /** Orders rows by (tensor index, row). */
    static final class KeyOrder implements Comparator<Tuple2<Integer, Long>>, Serializable {
        private static final long serialVersionUID = 1L;

        @Override
        public int compare(Tuple2<Integer, Long> a, Tuple2<Integer, Long> b) {
            int c = Integer.compare(a._1(), b._1());
            return c != 0 ? c : Long.compare(a._2(), b._2());
        }
    }

    /** Sends each (tensor, row) to the partition of the file plan that holds it. */
    static final class PlanPartitioner extends Partitioner {
        private static final long serialVersionUID = 1L;
        private final String input;
        private final HashMap<String, Integer> index = new HashMap<>();
        private final long[][] starts;
        private final int[][] files;
        private final int numFiles;

        PlanPartitioner(String input, List<TensorInfo> infos, List<FilePlan> plans) {
            this.input = input;
            List<List<long[]>> byTensor = new ArrayList<>();
            for (int i = 0; i < infos.size(); i++) {
                index.put(infos.get(i).name(), i);
                byTensor.add(new ArrayList<>());
            }
            for (FilePlan p : plans) {
                for (RowRange r : p.ranges()) {
                    byTensor.get(r.tensor()).add(new long[] {r.start(), p.index()});
                }
            }
            starts = new long[infos.size()][];
            files = new int[infos.size()][];
            for (int i = 0; i < infos.size(); i++) {
                starts[i] = byTensor.get(i).stream().mapToLong(a -> a[0]).toArray();
                files[i] = byTensor.get(i).stream().mapToInt(a -> (int) a[1]).toArray();
            }
            numFiles = plans.size();
        }

        Tuple2<Integer, Long> key(String tensor, long row) {
            Integer t = index.get(tensor);
            if (t == null) {
                throw new InvalidInputException(input + ": tensor '" + tensor + "' has rows but is not in the manifest");
            }
            return new Tuple2<>(t, row);
        }

        @Override
        public int numPartitions() {
            return numFiles;
        }

        @Override
        @SuppressWarnings("unchecked")
        public int getPartition(Object key) {
            Tuple2<Integer, Long> k = (Tuple2<Integer, Long>) key;
            long[] s = starts[k._1()];
            if (s.length == 0) {
                return 0;
            }
            int i = Arrays.binarySearch(s, k._2());
            return files[k._1()][i >= 0 ? i : Math.max(0, -i - 2)];
        }
    }
}
