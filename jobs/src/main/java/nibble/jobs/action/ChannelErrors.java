package nibble.jobs.action;

import java.io.Serializable;
import java.util.HashMap;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import nibble.common.DType;
import nibble.common.Floats;
import nibble.common.InvalidInputException;
import nibble.common.TensorInfo;
import nibble.common.json.Json;
import nibble.common.quant.Quantizer;
import nibble.common.quant.Scheme;
import nibble.common.stats.ErrorStats;
import nibble.jobs.io.Uris;
import nibble.jobs.spark.RowError;
import nibble.jobs.table.QuantTable;
import nibble.jobs.table.TensorTable;
import scala.jdk.javaapi.CollectionConverters;

import static org.apache.spark.sql.functions.col;

/**
 * The per-row work of {@code evaluate}'s tensor level: a row of the original table beside its row
 * in the quantized table ({@link #pairs}), dequantized and compared. Emits one error row per channel
 * ({@link #SCHEMA}) with its error.
 */
final class ChannelErrors implements Serializable {
    private static final long serialVersionUID = 1L;
    static final String ORIGINAL = "original";
    private static final String KEPT = "kept";
    /** The quantized table's stored columns in a pair row, in checksum order. */
    static final List<String> QUANTIZED_PAYLOAD = List.of(KEPT, QuantTable.CODES, QuantTable.SCALES, QuantTable.ZEROS);

    static final StructType SCHEMA = new StructType()
            .add("tensor", DataTypes.StringType, false)
            .add("row", DataTypes.LongType, false)
            .add("mse", DataTypes.DoubleType, false)
            .add("sqnr_db", DataTypes.DoubleType, true)
            .add("max_abs_error", DataTypes.DoubleType, false)
            .add("cosine", DataTypes.DoubleType, false);

    private final String originalTable;
    private final String quantizedTable;
    private final HashMap<String, TensorInfo> infos;
    private final HashMap<String, Scheme> schemes;

    ChannelErrors(String originalTable, String quantizedTable, HashMap<String, TensorInfo> infos, HashMap<String, Scheme> schemes) {
        this.originalTable = originalTable;
        this.quantizedTable = quantizedTable;
        this.infos = infos;
        this.schemes = schemes;
    }

    /**
     * Every row of the original beside its quantized row (a full outer join on {@code tensor, row}):
     * {@code tensor, row, dtype, original, kept, codes, scales, zeros}.
     */
    static Dataset<Row> pairs(SparkSession spark, String original, String quantized) {
        Dataset<Row> o = TensorTable.read(spark, original).select(col(TensorTable.TENSOR), col(TensorTable.ROW),
                col(TensorTable.DTYPE), col(TensorTable.DATA).as(ORIGINAL));
        Dataset<Row> q = spark.read().schema(QuantTable.SCHEMA).parquet(TensorTable.dataDir(quantized))
                .select(col(TensorTable.TENSOR), col(TensorTable.ROW), col(TensorTable.DATA).as(KEPT),
                        col(QuantTable.CODES), col(QuantTable.SCALES), col(QuantTable.ZEROS));
        return o.join(q, CollectionConverters.asScala(List.of(TensorTable.TENSOR, TensorTable.ROW)).toSeq(), "full_outer")
                .select(col(TensorTable.TENSOR), col(TensorTable.ROW), col(TensorTable.DTYPE), col(ORIGINAL), col(KEPT),
                        col(QuantTable.CODES), col(QuantTable.SCALES), col(QuantTable.ZEROS));
    }

    /** A NaN or infinity in a weight is bad input naming the table, tensor, row and column: its errors would be NaN. */
    private static void requireFinite(String table, String where, float[] values) {
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                throw new InvalidInputException(Uris.redact(table) + ": " + where + " holds a non-finite value " + values[i]
                        + " at column " + i + (" (a model with NaN or infinite weights cannot be evaluated)"));
            }
        }
    }

    /** The pair's channel-error row and its error; a non-finite weight on either side is bad input. */
    RowError compareRow(Row r) {
        String tensor = TensorTable.tensor(r);
        long row = TensorTable.row(r);
        TensorInfo info = infos.get(tensor);
        if (info == null) {
            throw new InvalidInputException(quantizedTable + ": tensor '" + tensor + "' has rows but is not in the manifest");
        }
        byte[] originalData = r.getAs(ORIGINAL);
        byte[] kept = r.getAs(KEPT);
        byte[] codes = r.getAs(QuantTable.CODES);
        if (originalData == null || (kept == null && codes == null)) {
            throw new InvalidInputException(quantizedTable + ": tensor '" + tensor + "' row " + row
                    + (originalData == null ? " is not in the original table" : " is missing"));
        }
        String where = "tensor '" + tensor + "' row " + row;
        float[] original = Floats.decode(originalData, info.dtype(), where);
        float[] reconstructed;
        Scheme scheme = schemes.get(tensor);
        if (scheme == null) {
            reconstructed = Floats.decode(kept, DType.parse(TensorTable.dtype(r), tensor), where);
        } else {
            reconstructed = new float[original.length];
            Quantizer.dequantize(codes, r.getAs(QuantTable.SCALES), r.getAs(QuantTable.ZEROS), scheme, reconstructed);
        }
        requireFinite(originalTable, where, original);
        requireFinite(quantizedTable, where, reconstructed);
        ErrorStats e = new ErrorStats().add(original, reconstructed);
        return new RowError(RowFactory.create(tensor, row, e.mse(), Json.finite(e.sqnrDb()), e.maxAbsError(), e.cosine()), e);
    }
}
