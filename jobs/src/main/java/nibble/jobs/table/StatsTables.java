package nibble.jobs.table;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import nibble.common.InvalidInputException;
import nibble.common.TensorInfo;
import nibble.common.json.Json;
import nibble.common.stats.ActivationAccumulator;
import nibble.common.stats.ChannelStats;
import nibble.common.stats.TensorStats;
import nibble.common.table.FileEntry;
import nibble.common.table.Manifest;
import nibble.jobs.action.CalibrateResult;

/**
 * The statistics folder that {@code calibrate} writes (see docs/FORMAT.md): {@code channels/}, one
 * Parquet row per tensor row; {@code tensors/}, one per tensor; with calibration data {@code
 * activations/}, one per tensor whose input was measured; and {@code stats.json}, written last.
 * Column names are the Java fields' in snake_case.
 */
public final class StatsTables {
    /** The record file, written last. */
    public static final String RECORD = "stats.json";
    public static final String CHANNELS_DIR = "channels";
    public static final String TENSORS_DIR = "tensors";
    /** Activation statistics, written when calibrate is given calibration data. */
    public static final String ACTIVATIONS_DIR = "activations";
    public static final String FORMAT = "nibble-weight-stats";
    /** Planning size of one channel row in Parquet, so files hold about a million channels. */
    public static final long CHANNEL_ROW_BYTES = 64;
    public static final long TARGET_FILE_BYTES = 64L << 20;

    public static final StructType CHANNELS = new StructType()
            .add("tensor", DataTypes.StringType, false)
            .add("row", DataTypes.LongType, false)
            .add("count", DataTypes.LongType, false)
            .add("min", DataTypes.FloatType, false)
            .add("max", DataTypes.FloatType, false)
            .add("abs_max", DataTypes.FloatType, false)
            .add("mean", DataTypes.DoubleType, false)
            .add("std", DataTypes.DoubleType, false)
            .add("kurtosis", DataTypes.DoubleType, false)
            .add("p99_abs", DataTypes.FloatType, false)
            .add("p999_abs", DataTypes.FloatType, false);

    public static final StructType TENSORS = new StructType()
            .add("tensor", DataTypes.StringType, false)
            .add("channels", DataTypes.IntegerType, false)
            .add("count", DataTypes.LongType, false)
            .add("min", DataTypes.FloatType, false)
            .add("max", DataTypes.FloatType, false)
            .add("abs_max", DataTypes.FloatType, false)
            .add("mean", DataTypes.DoubleType, false)
            .add("std", DataTypes.DoubleType, false)
            .add("median_channel_abs_max", DataTypes.FloatType, false)
            .add("max_channel_kurtosis", DataTypes.DoubleType, false)
            .add("outlier_channels", DataTypes.createArrayType(DataTypes.IntegerType, false), false);

    /** One row per tensor whose input calibration measured: per input channel of that tensor (its columns). */
    public static final StructType ACTIVATIONS = new StructType()
            .add("tensor", DataTypes.StringType, false)
            .add("channels", DataTypes.IntegerType, false)
            .add("count", DataTypes.LongType, false)
            .add("mean_sq", DataTypes.createArrayType(DataTypes.DoubleType, false), false)
            .add("mean_abs", DataTypes.createArrayType(DataTypes.DoubleType, false), false)
            .add("max_abs", DataTypes.createArrayType(DataTypes.FloatType, false), false);

    private StatsTables() {
    }

    /** Where calibrate writes and quantize looks by default: {@code <table>/stats}. */
    public static String defaultDir(String table) {
        return new Path(table, "stats").toString();
    }

    public static Row channelRow(String tensor, long row, ChannelStats s) {
        return RowFactory.create(tensor, row, s.count(), s.min(), s.max(), s.absMax(), s.mean(), s.std(), s.kurtosis(),
                s.p99Abs(), s.p999Abs());
    }

    /** A channel row, read with the {@link #CHANNELS} schema, back as statistics. */
    public static ChannelStats channelStats(Row r) {
        return new ChannelStats(r.getAs("count"), r.getAs("min"), r.getAs("max"), r.getAs("abs_max"), r.getAs("mean"),
                r.getAs("std"), r.getAs("kurtosis"), r.getAs("p99_abs"), r.getAs("p999_abs"));
    }

    public static Row tensorRow(String tensor, TensorStats s) {
        List<Integer> outliers = new ArrayList<>();
        for (int c : s.outlierChannels()) {
            outliers.add(c);
        }
        return RowFactory.create(tensor, s.channels(), s.count(), s.min(), s.max(), s.absMax(), s.mean(), s.std(),
                s.medianChannelAbsMax(), s.maxChannelKurtosis(), scala.jdk.javaapi.CollectionConverters.asScala(outliers).toSeq());
    }

    public static Row activationRow(String tensor, ActivationAccumulator.InputStats s) {
        List<Double> sq = new ArrayList<>();
        List<Double> abs = new ArrayList<>();
        List<Float> max = new ArrayList<>();
        for (int c = 0; c < s.meanSq().length; c++) {
            sq.add(s.meanSq()[c]);
            abs.add(s.meanAbs()[c]);
            max.add(s.maxAbs()[c]);
        }
        return RowFactory.create(tensor, s.meanSq().length, s.count(), seq(sq), seq(abs), seq(max));
    }

    private static <T> scala.collection.immutable.Seq<T> seq(List<T> list) {
        return scala.jdk.javaapi.CollectionConverters.asScala(list).toSeq();
    }

    /**
     * The {@code mean_sq} column of a statistics folder's activation table, by tensor; null when the
     * folder's {@code stats.json} records no calibration data.
     */
    public static Map<String, double[]> readMeanSquares(org.apache.spark.sql.SparkSession spark, String statsDir) throws IOException {
        JsonNode root = readRecord(new Path(statsDir, RECORD), spark.sparkContext().hadoopConfiguration());
        if (root == null || !root.path("calibration").isObject()) {
            return null;
        }
        Map<String, double[]> out = new java.util.HashMap<>();
        for (Row r : spark.read().schema(ACTIVATIONS).parquet(new Path(statsDir, ACTIVATIONS_DIR).toString())
                .select("tensor", "mean_sq").collectAsList()) {
            List<Double> sq = r.getList(1);
            double[] w = new double[sq.size()];
            for (int i = 0; i < w.length; i++) {
                w[i] = sq.get(i);
            }
            out.put(r.getString(0), w);
        }
        return out;
    }

    /** The table checksums a {@code stats.json} was computed for. */
    public static Map<String, String> readChecksums(Path record, Configuration conf) throws IOException {
        JsonNode root = readRecord(record, conf);
        if (root == null) {
            throw new InvalidInputException(record + ": no such file");
        }
        JsonNode checksums = root.path("table").path("checksums");
        if (!checksums.isObject()) {
            throw new InvalidInputException(record + ": field 'table.checksums' is missing");
        }
        Map<String, String> out = new LinkedHashMap<>();
        checksums.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
        return out;
    }

    /** The parsed {@code stats.json} at {@code record}, or null when there is none; at most {@link Manifest#MAX_BYTES} are read. */
    private static JsonNode readRecord(Path record, Configuration conf) throws IOException {
        FileSystem fs = record.getFileSystem(conf);
        if (!fs.exists(record)) {
            return null;
        }
        if (fs.getFileStatus(record).getLen() > Manifest.MAX_BYTES) {
            throw new InvalidInputException(record + ": larger than " + Manifest.MAX_BYTES + " bytes");
        }
        try (InputStream in = fs.open(record)) {
            return Json.parseObject(in.readAllBytes(), record.toString());
        }
    }

    private static long hessianRows(CalibrateResult.Calibration calibration, String path) {
        for (CalibrateResult.HessianInput in : calibration.hessian().inputs()) {
            if (in.file().equals(path)) {
                return in.channels();
            }
        }
        throw new IllegalStateException("no Hessian input for " + path);
    }

    /**
     * The Hessians a {@code stats.json} lists, by tensor (each tensor's input: its file and width);
     * null when it lists none (calibrate ran without {@code --hessian}, or without calibration data).
     */
    public static Map<String, CalibrateResult.HessianInput> readHessians(Path record, Configuration conf) throws IOException {
        JsonNode root = readRecord(record, conf);
        JsonNode h = root == null ? null : root.path("calibration").path("hessian");
        if (h == null || !h.isObject()) {
            return null;
        }
        Map<String, CalibrateResult.HessianInput> out = new LinkedHashMap<>();
        for (JsonNode e : h.path("inputs")) {
            List<String> tensors = new ArrayList<>();
            e.path("tensors").forEach(t -> tensors.add(t.asText()));
            CalibrateResult.HessianInput in = new CalibrateResult.HessianInput(e.path("input").asInt(), e.path("file").asText(),
                    e.path("channels").asInt(), tensors);
            if (in.channels() <= 0 || !in.file().startsWith(HessianTables.DIR + "/")) {
                throw new InvalidInputException(record + ": a Hessian entry without channels or file: " + e);
            }
            tensors.forEach(t -> out.put(t, in));
        }
        return out;
    }

    /** {@code stats.json}: what was measured, from which table, and where the files are. */
    public static byte[] record(String input, Manifest manifest, double outlierFactor, List<TensorInfo> infos,
                                Map<String, TensorStats> stats, CalibrateResult.Calibration calibration, List<FileEntry> files) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("format", FORMAT);
        root.put("format_version", 1);
        Map<String, Object> table = new LinkedHashMap<>();
        table.put("uri", input);
        table.put("checksums", manifest.checksums());
        root.put("table", table);
        root.put("outlier_factor", outlierFactor);
        List<Map<String, Object>> tensors = new ArrayList<>();
        for (TensorInfo t : infos) {
            TensorStats s = stats.get(t.name());
            if (s == null) {
                continue;
            }
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("name", t.name());
            e.put("channels", s.channels());
            e.put("abs_max", s.absMax());
            e.put("std", s.std());
            e.put("max_channel_kurtosis", Json.finite(s.maxChannelKurtosis()));
            e.put("outlier_channels", s.outlierChannels().length);
            tensors.add(e);
        }
        root.put("tensors", tensors);
        if (calibration != null) {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("kind", calibration.kind());
            c.put("uri", calibration.uri());
            c.put("checksum", calibration.checksum());
            c.put("seed", calibration.seed());
            c.put("sequences", calibration.sequences());
            c.put("tokens", calibration.tokens());
            c.put("statistic_tensors", calibration.measured());
            c.put("missing", calibration.missing());
            if (calibration.hessian() != null) {
                Map<String, Object> h = new LinkedHashMap<>();
                h.put("tokens", calibration.hessian().tokens());
                h.put("normalised", "mean: XᵀX / tokens");
                List<Map<String, Object>> inputs = new ArrayList<>();
                for (CalibrateResult.HessianInput in : calibration.hessian().inputs()) {
                    Map<String, Object> e = new LinkedHashMap<>();
                    e.put("input", in.input());
                    e.put("file", in.file());
                    e.put("channels", in.channels());
                    e.put("tensors", in.tensors());
                    inputs.add(e);
                }
                h.put("inputs", inputs);
                c.put("hessian", h);
            }
            root.put("calibration", c);
        }
        List<Map<String, Object>> fileList = new ArrayList<>();
        for (FileEntry f : files) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("path", f.path());
            e.put("rows", f.path().startsWith(TENSORS_DIR + "/") ? tensors.size()
                    : f.path().startsWith(ACTIVATIONS_DIR + "/") ? calibration.measured()
                    : f.path().startsWith(HessianTables.DIR + "/") ? hessianRows(calibration, f.path()) : f.rows());
            e.put("bytes", f.bytes());
            fileList.add(e);
        }
        root.put("files", fileList);
        return Json.write(root);
    }
}
