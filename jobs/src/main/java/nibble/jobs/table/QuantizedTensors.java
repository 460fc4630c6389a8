package nibble.jobs.table;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import nibble.common.InvalidInputException;
import nibble.common.TensorInfo;
import nibble.common.quant.Clip;
import nibble.common.quant.Granularity;
import nibble.common.quant.RangeMethod;
import nibble.common.quant.RowLayout;
import nibble.common.quant.Scheme;
import nibble.common.quant.Treatment;
import scala.jdk.javaapi.CollectionConverters;

/** The statistics a recipe needs, brought to the quantize job: per-tensor ranges and per-channel clips. */
public final class QuantizedTensors {
    /** The clip columns {@link #withChannelClips} adds, named as in the channel statistics. */
    public static final String P99_ABS = "p99_abs";
    public static final String P999_ABS = "p999_abs";

    private QuantizedTensors() {
    }

    /** Stored row bytes per tensor under its treatment. */
    public static Map<String, Long> storedRowBytes(List<TensorInfo> infos, Map<String, Treatment> treatments) {
        Map<String, Long> out = new HashMap<>();
        for (TensorInfo t : infos) {
            out.put(t.name(), storedRowBytes(treatments.get(t.name()), t));
        }
        return out;
    }

    private static long storedRowBytes(Treatment t, TensorInfo info) {
        return t instanceof Scheme s ? RowLayout.of(s, Math.toIntExact(info.rowLength())).storedBytes() : info.rowBytes();
    }

    /** The range of every per-tensor-scheme tensor, from {@code calibrate}'s tensor table. */
    public static HashMap<String, Clip> tensorClips(SparkSession spark, String statsDir, Map<String, Treatment> treatments) {
        HashMap<String, Clip> clips = new HashMap<>();
        for (Row r : spark.read().schema(StatsTables.TENSORS).parquet(statsDir + "/" + StatsTables.TENSORS_DIR)
                .select("tensor", "min", "max", "abs_max").collectAsList()) {
            String tensor = r.getAs("tensor");
            if (treatments.get(tensor) instanceof Scheme s && s.granularity() == Granularity.TENSOR) {
                clips.put(tensor, s.symmetric() ? Clip.abs(r.<Float>getAs("abs_max")) : new Clip(r.getAs("min"), r.getAs("max")));
            }
        }
        treatments.forEach((name, t) -> {
            if (t instanceof Scheme s && s.granularity() == Granularity.TENSOR && !clips.containsKey(name)) {
                throw new InvalidInputException(statsDir + ": no statistics for tensor '" + name + "'");
            }
        });
        return clips;
    }

    /**
     * Adds each row's {@code p99_abs} and {@code p999_abs} from {@code calibrate}'s channel table, for
     * percentile clipping; the percentile a scheme asks for must be one of those two.
     */
    public static Dataset<Row> withChannelClips(SparkSession spark, Dataset<Row> rows, String statsDir,
                                                Map<String, Treatment> treatments) {
        treatments.forEach((name, t) -> {
            if (t instanceof Scheme s && s.range() == RangeMethod.PERCENTILE && s.percentile() != 99.0 && s.percentile() != 99.9) {
                throw new InvalidInputException("recipe: tensor '" + name + "' asks for percentile " + s.percentile()
                        + "; calibrate measures 99 and 99.9");
            }
        });
        Dataset<Row> channels = spark.read().schema(StatsTables.CHANNELS).parquet(statsDir + "/" + StatsTables.CHANNELS_DIR)
                .select(TensorTable.TENSOR, TensorTable.ROW, P99_ABS, P999_ABS);
        return rows.join(channels, CollectionConverters.asScala(List.of(TensorTable.TENSOR, TensorTable.ROW)).toSeq(), "left")
                .select(functions.col(TensorTable.TENSOR), functions.col(TensorTable.ROW), functions.col(TensorTable.DTYPE),
                        functions.col(TensorTable.DATA), functions.col(P99_ABS), functions.col(P999_ABS));
    }
}
