package nibble.jobs.table;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.StructType;
import nibble.common.Crc32c;
import nibble.common.TensorInfo;
import scala.Tuple2;

/**
 * Reads a written (or an input) table back and proves it holds exactly the expected tensors: every
 * row {@code 0..rows-1} once, the right dtype and row length; and computes each tensor's checksum
 * (CRC-32C of its rows in row order) from what is actually in the files.
 */
public final class TableVerifier {
    /** Where the payload columns start in the rows {@link #checksums} selects. */
    private static final int PAYLOAD_START = 3;
    private TableVerifier() {
    }

    /** A tensor's digest: its checksum, or the first problem found. */
    public record TensorDigest(String tensor, String checksum, String problem) implements Serializable {
    }

    private record RowDigest(long row, String dtype, int bytes, int crc) implements Serializable {
    }

    /**
     * Checksums of a dense table's tensors, by name, in {@code expected}'s order.
     *
     * @throws TableMismatchException naming the first tensor whose rows are wrong
     */
    public static Map<String, String> checksums(SparkSession spark, String dataDir, List<TensorInfo> expected) {
        Map<String, Long> rowBytes = new HashMap<>();
        for (TensorInfo t : expected) {
            rowBytes.put(t.name(), t.rowBytes());
        }
        return checksums(spark, dataDir, TensorTable.SCHEMA, List.of(TensorTable.DATA), expected, rowBytes);
    }

    /**
     * Checksums by tensor name, in {@code expected}'s order, where a row's payload is the
     * concatenation of the non-null {@code payload} columns (e.g. a quantized row's codes, scales
     * and zero-points) and must be {@code rowBytes.get(tensor)} bytes long.
     *
     * @throws TableMismatchException naming the first tensor whose rows are wrong
     */
    public static Map<String, String> checksums(SparkSession spark, String dataDir, StructType schema,
                                                List<String> payload, List<TensorInfo> expected,
                                                Map<String, Long> rowBytes) {
        HashMap<String, Expected> byName = new HashMap<>();
        for (TensorInfo t : expected) {
            byName.put(t.name(), new Expected(t.rows(), t.dtype().name(), rowBytes.get(t.name())));
        }
        Broadcast<HashMap<String, Expected>> infos = spark.sparkContext()
                .broadcast(byName, scala.reflect.ClassTag$.MODULE$.apply(HashMap.class));
        List<Column> columns = new ArrayList<>(List.of(functions.col(TensorTable.TENSOR), functions.col(TensorTable.ROW),
                functions.col(TensorTable.DTYPE)));
        payload.forEach(c -> columns.add(functions.col(c)));
        JavaRDD<Row> rows = spark.read().schema(schema).parquet(dataDir).select(columns.toArray(new Column[0])).javaRDD();
        List<TensorDigest> digests = rows
                .mapToPair(r -> new Tuple2<>(TensorTable.tensor(r), rowDigest(r)))
                .groupByKey()
                .map(g -> digest(g._1(), g._2(), infos.value().get(g._1())))
                .collect();
        Map<String, TensorDigest> found = new HashMap<>();
        for (TensorDigest d : digests) {
            if (d.problem() != null) {
                throw new TableMismatchException(d.tensor(), d.problem());
            }
            found.put(d.tensor(), d);
        }
        Map<String, String> checksums = new LinkedHashMap<>();
        for (TensorInfo t : expected) {
            TensorDigest d = found.get(t.name());
            if (d == null && t.rows() > 0) {
                throw new TableMismatchException(t.name(), "no rows found, expected " + t.rows());
            }
            checksums.put(t.name(), d == null ? Crc32c.hex(0) : d.checksum());
        }
        return checksums;
    }

    private record Expected(long rows, String dtype, long rowBytes) implements Serializable {
    }

    /** A row as {@link #checksums} selects it: {@code tensor, row, dtype}, then the payload columns. */
    private static RowDigest rowDigest(Row r) {
        CRC32C crc = new CRC32C();
        int bytes = 0;
        for (int i = PAYLOAD_START; i < r.length(); i++) {
            if (!r.isNullAt(i)) {
                byte[] b = (byte[]) r.get(i);
                crc.update(b);
                bytes += b.length;
            }
        }
        return new RowDigest(TensorTable.row(r), TensorTable.dtype(r), bytes, (int) crc.getValue());
    }

    private static TensorDigest digest(String tensor, Iterable<RowDigest> rowDigests, Expected info) {
        if (info == null) {
            return new TensorDigest(tensor, null, "has rows but is not in the manifest");
        }
        List<RowDigest> rows = new ArrayList<>();
        rowDigests.forEach(rows::add);
        rows.sort((a, b) -> Long.compare(a.row(), b.row()));
        if (rows.size() != info.rows()) {
            return new TensorDigest(tensor, null, rows.size() + " rows found, expected " + info.rows());
        }
        int op = Crc32c.combineOperator(info.rowBytes());
        int crc = 0;
        for (int i = 0; i < rows.size(); i++) {
            RowDigest r = rows.get(i);
            if (r.row() != i) {
                return new TensorDigest(tensor, null, "row " + r.row() + " found where row " + i + " was expected (duplicate or missing rows)");
            }
            if (!info.dtype().equals(r.dtype())) {
                return new TensorDigest(tensor, null, "row " + i + " has dtype " + r.dtype() + ", expected " + info.dtype());
            }
            if (r.bytes() != info.rowBytes()) {
                return new TensorDigest(tensor, null, "row " + i + " has " + r.bytes() + " bytes, expected " + info.rowBytes());
            }
            crc = Crc32c.combine(crc, r.crc(), op);
        }
        return new TensorDigest(tensor, Crc32c.hex(crc), null);
    }

    /** The rows of a table do not match what its manifest or source says. */
    public static final class TableMismatchException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public TableMismatchException(String tensor, String problem) {
            super("tensor '" + tensor + "': " + problem);
        }
    }
}
