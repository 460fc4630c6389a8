package nibble.jobs.table;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Type;
import org.apache.parquet.schema.Types;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * parquet-mr's view of a Nibble table row of any of its schemas (string, long and binary columns:
 * {@link TensorTable#SCHEMA}, {@link QuantTable#SCHEMA}), for tasks that write table files
 * themselves. Like {@link DenseRowWriteSupport} it declares the Parquet schema and footer metadata
 * that Spark's DataFrame writer declares for the same Spark schema (non-nullable columns required,
 * nullable ones optional, a null value's field left out), so the files are the ones Spark wrote.
 */
public final class RowWriteSupport extends WriteSupport<Row> {
    private final StructType schema;
    private RecordConsumer out;

    public RowWriteSupport(StructType schema) {
        this.schema = schema;
    }

    @Override
    public WriteContext init(Configuration configuration) {
        Types.MessageTypeBuilder b = Types.buildMessage();
        for (StructField f : schema.fields()) {
            Type.Repetition rep = f.nullable() ? Type.Repetition.OPTIONAL : Type.Repetition.REQUIRED;
            if (f.dataType().equals(DataTypes.StringType)) {
                b.addField(Types.primitive(PrimitiveTypeName.BINARY, rep).as(LogicalTypeAnnotation.stringType()).named(f.name()));
            } else if (f.dataType().equals(DataTypes.LongType)) {
                b.addField(Types.primitive(PrimitiveTypeName.INT64, rep).named(f.name()));
            } else if (f.dataType().equals(DataTypes.BinaryType)) {
                b.addField(Types.primitive(PrimitiveTypeName.BINARY, rep).named(f.name()));
            } else {
                throw new IllegalArgumentException("column " + f.name() + ": type " + f.dataType() + " is not a table column type");
            }
        }
        MessageType message = b.named("spark_schema");
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(DenseRowWriteSupport.SPARK_VERSION_KEY, org.apache.spark.package$.MODULE$.SPARK_VERSION_SHORT());
        meta.put(DenseRowWriteSupport.SPARK_ROW_KEY, schema.json());
        return new WriteContext(message, meta);
    }

    @Override
    public void prepareForWrite(RecordConsumer recordConsumer) {
        this.out = recordConsumer;
    }

    @Override
    public void write(Row r) {
        out.startMessage();
        StructField[] fields = schema.fields();
        for (int i = 0; i < fields.length; i++) {
            if (r.isNullAt(i)) {
                continue;
            }
            out.startField(fields[i].name(), i);
            Object v = r.get(i);
            if (v instanceof String s) {
                out.addBinary(Binary.fromConstantByteArray(s.getBytes(StandardCharsets.UTF_8)));
            } else if (v instanceof Long l) {
                out.addLong(l);
            } else { // reused: a kept row's data is its reader's array (PlannedInput), so what Parquet keeps it copies
                out.addBinary(Binary.fromReusedByteArray((byte[]) v));
            }
            out.endField(fields[i].name(), i);
        }
        out.endMessage();
    }
}
