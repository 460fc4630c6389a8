package nibble.jobs.table;

import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The quantized table's Parquet schema (docs/FORMAT.md): the dense table's {@code tensor}, {@code row}
 * and source {@code dtype}; {@code data} only for tensors the recipe keeps; {@code codes},
 * {@code scales} and (asymmetric schemes) {@code zeros} for quantized tensors.
 */
public final class QuantTable {
    public static final String CODES = "codes";
    public static final String SCALES = "scales";
    public static final String ZEROS = "zeros";

    public static final StructType SCHEMA = new StructType()
            .add(TensorTable.TENSOR, DataTypes.StringType, false)
            .add(TensorTable.ROW, DataTypes.LongType, false)
            .add(TensorTable.DTYPE, DataTypes.StringType, false)
            .add(TensorTable.DATA, DataTypes.BinaryType, true)
            .add(CODES, DataTypes.BinaryType, true)
            .add(SCALES, DataTypes.BinaryType, true)
            .add(ZEROS, DataTypes.BinaryType, true);

    private QuantTable() {
    }
}
