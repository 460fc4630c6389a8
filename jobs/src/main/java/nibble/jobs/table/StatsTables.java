package nibble.jobs.table;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import nibble.common.TensorInfo;
import nibble.common.stats.ChannelStats;
import nibble.common.stats.ErrorStats;
import nibble.common.stats.TensorStats;
import nibble.common.table.FileEntry;
import nibble.common.table.Manifest;

/**
 * The statistics folder that {@code calibrate} writes (see docs/FORMAT.md): {@code channels/}, one
 * Parquet row per tensor row; {@code tensors/}, one per tensor; and {@code stats.json}, written last.
 * Column names are the Java fields' in snake_case.
 */
public final class StatsTables {
    public static final String CHANNELS_DIR = "channels";
    public static final String TENSORS_DIR = "tensors";
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

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

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

    /** A channel row back as statistics (columns in {@link #CHANNELS} order). */
    public static ChannelStats channelStats(Row r) {
        return new ChannelStats(r.getLong(2), r.getFloat(3), r.getFloat(4), r.getFloat(5), r.getDouble(6), r.getDouble(7),
                r.getDouble(8), r.getFloat(9), r.getFloat(10));
    }

    public static Row tensorRow(String tensor, TensorStats s) {
        List<Integer> outliers = new ArrayList<>();
        for (int c : s.outlierChannels()) {
            outliers.add(c);
        }
        return RowFactory.create(tensor, s.channels(), s.count(), s.min(), s.max(), s.absMax(), s.mean(), s.std(),
                s.medianChannelAbsMax(), s.maxChannelKurtosis(), scala.jdk.javaapi.CollectionConverters.asScala(outliers).toSeq());
    }

    /** The table checksums a {@code stats.json} was computed for. */
    @SuppressWarnings("unchecked")
    public static Map<String, String> readChecksums(Path record, org.apache.hadoop.conf.Configuration conf) throws java.io.IOException {
        org.apache.hadoop.fs.FileSystem fs = record.getFileSystem(conf);
        if (fs.getFileStatus(record).getLen() > Manifest.MAX_BYTES) {
            throw new nibble.common.InvalidInputException(record + ": larger than " + Manifest.MAX_BYTES + " bytes");
        }
        try (java.io.InputStream in = fs.open(record)) {
            Map<String, Object> root = JSON.readValue(in, Map.class);
            Object table = root.get("table");
            Object checksums = table instanceof Map<?, ?> t ? t.get("checksums") : null;
            if (!(checksums instanceof Map<?, ?>)) {
                throw new nibble.common.InvalidInputException(record + ": field 'table.checksums' is missing");
            }
            return new LinkedHashMap<>((Map<String, String>) checksums);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new nibble.common.InvalidInputException(record + ": not valid JSON");
        }
    }

    /** {@code stats.json}: what was measured, from which table, and where the files are. */
    public static byte[] record(String input, Manifest manifest, double outlierFactor, List<TensorInfo> infos,
                                Map<String, TensorStats> stats, List<FileEntry> files) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("format", FORMAT);
        root.put("format_version", 1);
        Map<String, Object> table = new LinkedHashMap<>();
        table.put("uri", input);
        Map<String, String> checksums = new LinkedHashMap<>();
        manifest.tensors().forEach(e -> checksums.put(e.info().name(), e.checksum()));
        table.put("checksums", checksums);
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
            e.put("max_channel_kurtosis", ErrorStats.finiteOrNull(s.maxChannelKurtosis()));
            e.put("outlier_channels", s.outlierChannels().length);
            tensors.add(e);
        }
        root.put("tensors", tensors);
        List<Map<String, Object>> fileList = new ArrayList<>();
        for (FileEntry f : files) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("path", f.path());
            e.put("rows", f.path().startsWith(TENSORS_DIR + "/") ? tensors.size() : f.rows());
            e.put("bytes", f.bytes());
            fileList.add(e);
        }
        root.put("files", fileList);
        try {
            return (JSON.writeValueAsString(root) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
