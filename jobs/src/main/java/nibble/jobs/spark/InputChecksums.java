package nibble.jobs.spark;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.zip.CRC32C;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.Row;
import org.apache.spark.util.AccumulatorV2;
import scala.Tuple2;
import nibble.common.Crc32c;
import nibble.common.InvalidInputException;
import nibble.common.table.Manifest;
import nibble.common.table.TensorEntry;
import nibble.jobs.io.Uris;
import nibble.jobs.table.TensorTable;

/**
 * Checks what a stage reads against the manifest of the table it came from, in the same pass as
 * the stage's own work: each row's CRC-32C becomes its share of its tensor's checksum
 * ({@link Crc32c#share}), shares are XORed per tensor in each partition, and the driver compares the
 * result with the manifest's checksums. A value changed in a data file after the table was written
 * (with or without its {@code .crc} sidecar) is then bad input naming the table and tensor, instead of
 * being quantized or evaluated and recorded under the manifest's checksum.
 *
 * <p>Partitions are recorded under their index and a repeated attempt replaces its result, so a
 * retried task never counts twice (XOR would cancel it).
 */
public final class InputChecksums extends AccumulatorV2<Tuple2<Integer, Map<String, Integer>>, TreeMap<Integer, Map<String, Integer>>> {
    private static final long serialVersionUID = 1L;
    private final TreeMap<Integer, Map<String, Integer>> byPartition = new TreeMap<>();
    private final HashMap<String, long[]> shape = new HashMap<>();
    private final String table;
    private final List<String> columns;

    /**
     * Checks rows of {@code manifest}'s table read from {@code table}, whose stored bytes are the
     * non-null {@code columns} in that order (a dense table's {@code data}; a quantized table's
     * {@code data, codes, scales, zeros}).
     */
    public InputChecksums(String table, Manifest manifest, List<String> columns) {
        this(table, columns);
        for (TensorEntry e : manifest.tensors()) {
            shape.put(e.info().name(), new long[] {e.info().rows(), Crc32c.toInt(e.checksum())});
        }
    }

    private InputChecksums(String table, List<String> columns) {
        this.table = table;
        this.columns = List.copyOf(columns);
    }

    /**
     * Digests every row of a partition as it passes; rows go on unchanged. Consecutive rows of one
     * tensor (a run, as planned reads give them) are checksummed as one piece, whose share of the
     * tensor's CRC is taken once when the run ends: the same shares XOR to the same checksum as one
     * share per row, without a polynomial multiplication per row.
     */
    public <T> Iterator<T> digest(Iterator<T> rows, Function<T, Row> rowOf) {
        Map<String, Integer> part = new HashMap<>();
        int partition = TaskContext.getPartitionId();
        return new Iterator<>() {
            private final CRC32C crc = new CRC32C();
            private String runTensor;
            private long[] runShape;
            private long runLast;
            private long runRowBytes;

            @Override
            public boolean hasNext() {
                boolean more = rows.hasNext();
                if (!more) {
                    endRun();
                    add(new Tuple2<>(partition, part));
                }
                return more;
            }

            @Override
            public T next() {
                T t = rows.next();
                Row r = rowOf.apply(t);
                String tensor = TensorTable.tensor(r);
                long[] s = shape.get(tensor);
                if (s != null) {
                    long row = TensorTable.row(r);
                    if (!tensor.equals(runTensor) || row != runLast + 1) {
                        endRun();
                        runTensor = tensor;
                        runShape = s;
                    }
                    long bytes = 0;
                    for (String c : columns) {
                        byte[] b = r.getAs(c);
                        if (b != null) {
                            crc.update(b);
                            bytes += b.length;
                        }
                    }
                    runLast = row;
                    runRowBytes = bytes;
                }
                return t;
            }

            private void endRun() {
                if (runTensor != null) {
                    int share = Crc32c.share((int) crc.getValue(), (runShape[0] - 1 - runLast) * runRowBytes);
                    part.merge(runTensor, share, (a, b) -> a ^ b);
                    runTensor = null;
                    crc.reset();
                }
            }
        };
    }

    /** Throws naming the first tensor whose rows do not make up its manifest checksum. */
    public void requireMatch() {
        Map<String, Integer> got = new HashMap<>();
        for (Map<String, Integer> part : byPartition.values()) {
            part.forEach((t, v) -> got.merge(t, v, (a, b) -> a ^ b));
        }
        List<String> names = new ArrayList<>(shape.keySet());
        names.sort(null);
        for (String t : names) {
            int expected = (int) shape.get(t)[1];
            int actual = got.getOrDefault(t, 0);
            if (shape.get(t)[0] > 0 && actual != expected) {
                throw new InvalidInputException(Uris.redact(table) + ": tensor '" + t + "' reads as checksum " + Crc32c.hex(actual)
                        + " but the manifest says " + Crc32c.hex(expected) + " (the data files changed after the table was written)");
            }
        }
    }

    @Override
    public boolean isZero() {
        return byPartition.isEmpty();
    }

    @Override
    public InputChecksums copy() {
        InputChecksums c = new InputChecksums(table, columns);
        c.shape.putAll(shape);
        c.byPartition.putAll(byPartition);
        return c;
    }

    @Override
    public void reset() {
        byPartition.clear();
    }

    @Override
    public void add(Tuple2<Integer, Map<String, Integer>> v) {
        byPartition.put(v._1(), v._2());
    }

    @Override
    public void merge(AccumulatorV2<Tuple2<Integer, Map<String, Integer>>, TreeMap<Integer, Map<String, Integer>>> other) {
        byPartition.putAll(other.value());
    }

    @Override
    public TreeMap<Integer, Map<String, Integer>> value() {
        return byPartition;
    }
}
