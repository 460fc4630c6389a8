package nibble.jobs.table;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;

/**
 * parquet-mr's view of a dense table row ({@link TensorTable#SCHEMA}), for tasks that write table
 * files themselves instead of through Spark's DataFrame writer. It declares the same Parquet schema
 * and the same footer metadata as Spark's {@code ParquetWriteSupport} does for that schema, and emits
 * fields the same way, so a file written through it is byte for byte the file Spark writes for the
 * same rows (the re-shard test compares the two). The row is one mutable holder whose payload points
 * into the caller's buffer: nothing is copied before the column writer's own page buffer.
 */
public final class DenseRowWriteSupport extends WriteSupport<DenseRowWriteSupport.DenseRow> {
    private static final MessageType SCHEMA = MessageTypeParser.parseMessageType("message spark_schema {\n"
            + "  required binary " + TensorTable.TENSOR + " (STRING);\n"
            + "  required int64 " + TensorTable.ROW + ";\n"
            + "  required binary " + TensorTable.DTYPE + " (STRING);\n"
            + "  required binary " + TensorTable.DATA + ";\n"
            + "}");
    /** Spark's footer keys ({@code ParquetReadSupport.SPARK_METADATA_KEY}, {@code SPARK_VERSION_METADATA_KEY}). */
    static final String SPARK_VERSION_KEY = "org.apache.spark.version";
    static final String SPARK_ROW_KEY = "org.apache.spark.sql.parquet.row.metadata";

    private RecordConsumer out;

    /** One row to write; {@link #data} is read from {@code buffer[offset, offset+length)} at write time. */
    public static final class DenseRow {
        Binary tensor;
        long row;
        Binary dtype;
        byte[] buffer;
        int offset;
        int length;
    }

    @Override
    public WriteContext init(Configuration configuration) {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(SPARK_VERSION_KEY, org.apache.spark.package$.MODULE$.SPARK_VERSION_SHORT());
        meta.put(SPARK_ROW_KEY, TensorTable.SCHEMA.json());
        return new WriteContext(SCHEMA, meta);
    }

    @Override
    public void prepareForWrite(RecordConsumer recordConsumer) {
        this.out = recordConsumer;
    }

    @Override
    public void write(DenseRow r) {
        out.startMessage();
        out.startField(TensorTable.TENSOR, 0);
        out.addBinary(r.tensor);
        out.endField(TensorTable.TENSOR, 0);
        out.startField(TensorTable.ROW, 1);
        out.addLong(r.row);
        out.endField(TensorTable.ROW, 1);
        out.startField(TensorTable.DTYPE, 2);
        out.addBinary(r.dtype);
        out.endField(TensorTable.DTYPE, 2);
        out.startField(TensorTable.DATA, 3);
        out.addBinary(Binary.fromReusedByteArray(r.buffer, r.offset, r.length));
        out.endField(TensorTable.DATA, 3);
        out.endMessage();
    }
}
