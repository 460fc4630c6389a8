package nibble.jobs;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import nibble.common.TensorInfo;
import nibble.common.Floats;
import nibble.common.stats.ChannelStats;
import nibble.common.stats.TensorStats;
import nibble.common.table.FilePlan;
import nibble.common.table.Manifest;
import nibble.common.table.ShardPlanner;
import nibble.jobs.cli.Console;
import nibble.jobs.cli.Options;
import nibble.jobs.cli.UsageException;
import nibble.jobs.spark.Progress;
import nibble.jobs.spark.Sessions;
import nibble.jobs.table.PlannedRows;
import nibble.jobs.table.StatsTables;
import nibble.jobs.table.TableCommitter;
import nibble.jobs.table.TensorTable;
import scala.Tuple2;

/**
 * {@code calibrate}: per-channel weight statistics of a tensor table (min, max, absmax, mean, std,
 * excess kurtosis, p99 and p99.9 of |w|), and per tensor the same merged plus its outlier channels.
 * Written as two Parquet tables and {@code stats.json}, by default into {@code <table>/stats}.
 */
public final class CalibrateJob implements Command {
    private static final Options.Spec SPEC = Options.spec("calibrate",
                    "Compute per-channel and per-tensor weight statistics of a tensor table.")
            .value("input", "URI", null, "tensor table folder (required)")
            .value("output", "URI", null, "statistics folder (default: <input>/stats)")
            .value("outlier-factor", "K", "5", "a channel is an outlier when its absmax exceeds K times the tensor's median channel absmax")
            .flag("overwrite", "replace statistics already at --output");

    public static void main(String[] args) {
        Nibble.submit("calibrate", args);
    }

    @Override
    public Options.Spec spec() {
        return SPEC;
    }

    /** The parsed options. */
    record Args(String input, String output, double outlierFactor, boolean overwrite) {
        static Args parse(Options o) {
            String input = o.require("input");
            double factor = o.getDouble("outlier-factor");
            if (!(factor > 1)) {
                throw new UsageException("--outlier-factor must be greater than 1");
            }
            String output = o.get("output") != null ? o.get("output") : StatsTables.defaultDir(input);
            return new Args(input, output, factor, o.flag("overwrite"));
        }
    }

    @Override
    public String plan(Options o) {
        Args a = Args.parse(o);
        return "read the tensor table " + ShardJob.redact(a.input()) + ", write weight statistics to "
                + ShardJob.redact(a.output()) + " (outlier factor " + a.outlierFactor() + ")";
    }

    @Override
    public void run(Options o, Console console) throws Exception {
        Args a = Args.parse(o);
        String input = a.input();
        String output = a.output();
        double factor = a.outlierFactor();
        SparkSession spark = Sessions.getOrCreate("nibble calibrate");
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        Manifest manifest = TensorTable.readManifest(input, conf);
        List<TensorInfo> infos = manifest.tensorInfos();
        TableCommitter committer = TableCommitter.begin(output, a.overwrite(), conf);
        try (Progress p = Progress.attach(spark, "calibrate", console)) {
            List<FilePlan> plans = ShardPlanner.plan(infos, t -> StatsTables.CHANNEL_ROW_BYTES, StatsTables.TARGET_FILE_BYTES);
            spark.sparkContext().setJobDescription("channel statistics");
            JavaRDD<Row> channels = PlannedRows.of(TensorTable.read(spark, input).javaRDD().map(CalibrateJob::channelRow),
                    input, infos, plans);
            spark.createDataFrame(channels, StatsTables.CHANNELS).write().parquet(committer.tempDir(StatsTables.CHANNELS_DIR));
            spark.sparkContext().setJobDescription("tensor statistics");
            Map<String, TensorStats> tensors = tensorStats(spark, committer.tempDir(StatsTables.CHANNELS_DIR), factor);
            List<Row> tensorRows = new ArrayList<>();
            for (TensorInfo t : infos) {
                TensorStats s = tensors.get(t.name());
                if (s != null) {
                    tensorRows.add(StatsTables.tensorRow(t.name(), s));
                }
            }
            spark.createDataFrame(tensorRows, StatsTables.TENSORS).coalesce(1).write()
                    .parquet(committer.tempDir(StatsTables.TENSORS_DIR));
            spark.sparkContext().setJobDescription(null);
            Map<String, List<FilePlan>> folders = new LinkedHashMap<>();
            folders.put(StatsTables.CHANNELS_DIR, plans);
            folders.put(StatsTables.TENSORS_DIR, List.of(new FilePlan(0, List.of())));
            committer.commit(folders, TableCommitter.STATS_RECORD,
                    files -> StatsTables.record(input, manifest, factor, infos, tensors, files));
            summarize(console, output, infos, tensors);
        } catch (Exception | Error e) {
            committer.abort();
            throw e;
        }
    }

    private static Row channelRow(Row r) {
        float[] values = Floats.decode((byte[]) r.get(3), nibble.common.DType.parse(r.getString(2), r.getString(0)),
                r.getString(0) + " row " + r.getLong(1));
        return StatsTables.channelRow(r.getString(0), r.getLong(1), ChannelStats.of(values));
    }

    /** Merges each tensor's channel statistics, read back from the written channel table. */
    private static Map<String, TensorStats> tensorStats(SparkSession spark, String channelsDir, double factor) {
        List<Tuple2<String, TensorStats>> merged = spark.read().schema(StatsTables.CHANNELS).parquet(channelsDir).javaRDD()
                .mapToPair(r -> new Tuple2<>(r.getString(0), new Tuple2<>(r.getLong(1), StatsTables.channelStats(r))))
                .groupByKey()
                .map(g -> {
                    List<Tuple2<Long, ChannelStats>> rows = new ArrayList<>();
                    g._2().forEach(rows::add);
                    rows.sort(Comparator.comparingLong(Tuple2::_1));
                    List<ChannelStats> stats = new ArrayList<>(rows.size());
                    rows.forEach(t -> stats.add(t._2()));
                    return new Tuple2<>(g._1(), TensorStats.of(stats, factor));
                })
                .collect();
        Map<String, TensorStats> out = new HashMap<>();
        merged.forEach(t -> out.put(t._1(), t._2()));
        return out;
    }

    private static void summarize(Console console, String output, List<TensorInfo> infos, Map<String, TensorStats> stats) {
        List<TensorInfo> sorted = new ArrayList<>(infos);
        sorted.removeIf(t -> !stats.containsKey(t.name()));
        sorted.sort(Comparator.comparingDouble((TensorInfo t) -> -stats.get(t.name()).maxChannelKurtosis()));
        List<List<String>> rows = new ArrayList<>();
        for (TensorInfo t : sorted.subList(0, Math.min(10, sorted.size()))) {
            TensorStats s = stats.get(t.name());
            rows.add(List.of(t.name(), fmt("%.4g", s.absMax()), fmt("%.4g", s.std()),
                    fmt("%.1f", s.maxChannelKurtosis()), s.outlierChannels().length + "/" + s.channels()));
        }
        console.out().println();
        console.out().println("statistics in " + output + " (" + infos.size() + " tensors; the 10 with the heaviest-tailed channels):");
        console.table(List.of("tensor", "absmax", "std", "max kurtosis", "outlier channels"), rows);
    }

    private static String fmt(String f, double v) {
        return String.format(Locale.ROOT, f, v);
    }
}
