package nibble.jobs;

import java.io.Serializable;
import java.util.HashMap;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import nibble.common.DType;
import nibble.common.Floats;
import nibble.common.InvalidInputException;
import nibble.common.TensorInfo;
import nibble.common.quant.Quantizer;
import nibble.common.quant.Scheme;
import nibble.common.stats.ErrorStats;
import nibble.jobs.spark.PartitionErrors;

/**
 * The per-row work of {@code evaluate}'s tensor level: a row of the original table beside its row
 * in the quantized table, dequantized and compared. Emits one error row per channel carrying its
 * error for a {@link PartitionErrors}. Input columns: {@code tensor, row, dtype,
 * original data, quantized data, codes, scales, zeros}.
 */
final class ChannelErrors implements Serializable {
    private static final long serialVersionUID = 1L;

    static final StructType SCHEMA = new StructType()
            .add("tensor", DataTypes.StringType, false)
            .add("row", DataTypes.LongType, false)
            .add("mse", DataTypes.DoubleType, false)
            .add("sqnr_db", DataTypes.DoubleType, true)
            .add("max_abs_error", DataTypes.DoubleType, false)
            .add("cosine", DataTypes.DoubleType, false);

    private final String quantizedTable;
    private final HashMap<String, TensorInfo> infos;
    private final HashMap<String, Scheme> schemes;

    ChannelErrors(String quantizedTable, HashMap<String, TensorInfo> infos, HashMap<String, Scheme> schemes) {
        this.quantizedTable = quantizedTable;
        this.infos = infos;
        this.schemes = schemes;
    }

    /** The row's channel-error row, with its error as in {@link PartitionErrors#withError}. */
    Row compareRow(Row r) {
        String tensor = r.getString(0);
        long row = r.getLong(1);
        TensorInfo info = infos.get(tensor);
        if (info == null) {
            throw new InvalidInputException(quantizedTable + ": tensor '" + tensor + "' has rows but is not in the manifest");
        }
        if (r.isNullAt(3) || (r.isNullAt(4) && r.isNullAt(5))) {
            throw new InvalidInputException(quantizedTable + ": tensor '" + tensor + "' row " + row
                    + (r.isNullAt(3) ? " is not in the original table" : " is missing"));
        }
        float[] original = Floats.decode((byte[]) r.get(3), info.dtype(), "tensor '" + tensor + "' row " + row);
        float[] reconstructed;
        Scheme scheme = schemes.get(tensor);
        if (scheme == null) {
            reconstructed = Floats.decode((byte[]) r.get(4), DType.parse(r.getString(2), tensor), "tensor '" + tensor + "' row " + row);
        } else {
            reconstructed = new float[original.length];
            Quantizer.dequantize((byte[]) r.get(5), (byte[]) r.get(6), r.isNullAt(7) ? null : (byte[]) r.get(7), scheme, reconstructed);
        }
        ErrorStats e = new ErrorStats().add(original, reconstructed);
        return PartitionErrors.withError(
                RowFactory.create(tensor, row, e.mse(), ErrorStats.finiteOrNull(e.sqnrDb()), e.maxAbsError(), e.cosine()), e);
    }
}
