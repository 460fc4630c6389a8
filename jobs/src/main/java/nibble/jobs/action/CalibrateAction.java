package nibble.jobs.action;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import nibble.common.DType;
import nibble.common.InvalidInputException;
import nibble.common.Floats;
import nibble.common.TensorInfo;
import nibble.common.stats.ChannelStats;
import nibble.common.stats.TensorStats;
import nibble.common.table.FilePlan;
import nibble.common.table.Manifest;
import nibble.common.table.ShardPlanner;
import nibble.jobs.io.PathOverlap;
import nibble.jobs.io.Uris;
import nibble.jobs.spark.InputChecksums;
import nibble.jobs.spark.JobDescription;
import nibble.jobs.table.CanonicalFooterFileSystem;
import nibble.jobs.table.HessianTables;
import nibble.jobs.table.PlannedRows;
import nibble.jobs.table.StatsTables;
import nibble.jobs.table.TableCommitter;
import nibble.jobs.table.TensorTable;
import scala.Tuple2;

/**
 * {@code calibrate}: per-channel weight statistics of a tensor table (min, max, absmax, mean, std,
 * excess kurtosis, p99 and p99.9 of |w|), and per tensor the same merged plus its outlier channels.
 * With calibration data ({@code --data} or {@code --text}), also the statistics of every linear
 * layer's input per input channel, from the model run over the sequences ({@link ActivationCalibration}).
 * Written as Parquet tables and {@code stats.json} ({@link StatsTables}).
 */
public final class CalibrateAction {
    private CalibrateAction() {
    }

    public static CalibrateResult execute(SparkSession spark, CalibrateArgs args) throws IOException {
        String input = args.input();
        Manifest manifest = TensorTable.readManifest(input, spark.sparkContext().hadoopConfiguration());
        if (manifest.kind() != Manifest.Kind.DENSE) {
            throw new InvalidInputException(input + ": calibrate reads dense tables; this one is '" + manifest.kind().label() + "'");
        }
        List<TensorInfo> infos = manifest.tensorInfos();
        // the table's data is read; its folder may hold the statistics (<table>/stats is the default)
        ActivationCalibration.Sequences sequences = args.activations()
                ? ActivationCalibration.sequences(spark, args, manifest) : null;
        List<PathOverlap.Read> reads = new ArrayList<>(PathOverlap.table("--input", input));
        if (args.data() != null) {
            reads.add(new PathOverlap.Read("--data", args.data()));
        }
        if (args.text() != null) {
            reads.add(new PathOverlap.Read("--text", args.text()));
        }
        try (TableCommitter committer = TableCommitter.begin(args.output(), args.overwrite(),
                spark.sparkContext().hadoopConfiguration(), reads)) {
            List<FilePlan> plans = ShardPlanner.plan(infos, t -> StatsTables.CHANNEL_ROW_BYTES, StatsTables.TARGET_FILE_BYTES);
            String channelsDir = committer.tempDir(StatsTables.CHANNELS_DIR);
            InputChecksums read = new InputChecksums(input, manifest, List.of(TensorTable.DATA));
            spark.sparkContext().register(read, "input checksums");
            JobDescription.run(spark, "channel statistics", () -> {
                JavaRDD<Row> channels = PlannedRows.of(TensorTable.read(spark, input).javaRDD()
                        .mapPartitions(it -> read.digest(it, r -> r)).map(r -> channelRow(input, r)), r -> r, input, infos, plans);
                CanonicalFooterFileSystem.parquet(spark, spark.createDataFrame(channels, StatsTables.CHANNELS).write(), channelsDir);
            });
            read.requireMatch();
            Map<String, TensorStats> tensors = JobDescription.run(spark, "tensor statistics", () -> {
                Map<String, TensorStats> merged = tensorStats(spark, channelsDir, args.outlierFactor());
                List<Row> tensorRows = new ArrayList<>();
                for (TensorInfo t : infos) {
                    TensorStats s = merged.get(t.name());
                    if (s != null) {
                        tensorRows.add(StatsTables.tensorRow(t.name(), s));
                    }
                }
                CanonicalFooterFileSystem.parquet(spark, spark.createDataFrame(tensorRows, StatsTables.TENSORS).coalesce(1).write(),
                        committer.tempDir(StatsTables.TENSORS_DIR));
                return merged;
            });
            Map<String, List<FilePlan>> folders = new LinkedHashMap<>();
            folders.put(StatsTables.CHANNELS_DIR, plans);
            folders.put(StatsTables.TENSORS_DIR, List.of(new FilePlan(0, List.of())));
            CalibrateResult.Calibration calibration = null;
            if (sequences != null) {
                calibration = ActivationCalibration.run(spark, args, manifest, sequences, committer.tempDir(StatsTables.ACTIVATIONS_DIR),
                        committer.tempDir(HessianTables.DIR));
                folders.put(StatsTables.ACTIVATIONS_DIR, List.of(new FilePlan(0, List.of())));
                if (calibration.hessian() != null) {
                    List<FilePlan> hessianFiles = new ArrayList<>();
                    calibration.hessian().inputs().forEach(h -> hessianFiles.add(new FilePlan(h.input(), List.of())));
                    folders.put(HessianTables.DIR, hessianFiles);
                }
            }
            CalibrateResult.Calibration measured = calibration;
            committer.commit(folders, StatsTables.RECORD,
                    files -> StatsTables.record(input, manifest, args.outlierFactor(), infos, tensors, measured, files));
            return new CalibrateResult(args, infos, tensors, calibration);
        }
    }

    /** A row's channel statistics; a NaN or infinity is bad input naming the table, tensor, row and column. */
    private static Row channelRow(String table, Row r) {
        String tensor = TensorTable.tensor(r);
        float[] values = Floats.decode(TensorTable.data(r), DType.parse(TensorTable.dtype(r), tensor),
                tensor + " row " + TensorTable.row(r));
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                throw new InvalidInputException(Uris.redact(table) + ": tensor '" + tensor + "' row " + TensorTable.row(r)
                        + " holds a non-finite value " + values[i] + " at column " + i
                        + " (statistics of NaN or infinite weights would be NaN)");
            }
        }
        return StatsTables.channelRow(tensor, TensorTable.row(r), ChannelStats.of(values));
    }

    /** Merges each tensor's channel statistics, read back from the written channel table. */
    private static Map<String, TensorStats> tensorStats(SparkSession spark, String channelsDir, double factor) {
        List<Tuple2<String, TensorStats>> merged = spark.read().schema(StatsTables.CHANNELS).parquet(channelsDir).javaRDD()
                .mapToPair(r -> new Tuple2<>(TensorTable.tensor(r), new Tuple2<>(TensorTable.row(r), StatsTables.channelStats(r))))
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
}
