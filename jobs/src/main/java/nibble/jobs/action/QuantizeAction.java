package nibble.jobs.action;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.ToIntFunction;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import nibble.common.InvalidInputException;
import nibble.common.TensorInfo;
import nibble.common.quant.Clip;
import nibble.common.quant.Granularity;
import nibble.common.quant.Importance;
import nibble.common.quant.RangeMethod;
import nibble.common.quant.Scheme;
import nibble.common.quant.Treatment;
import nibble.common.stats.ErrorStats;
import nibble.common.table.FilePlan;
import nibble.common.table.Manifest;
import nibble.common.table.QuantDetails;
import nibble.common.table.ShardPlanner;
import nibble.common.table.TensorEntry;
import nibble.jobs.io.PathOverlap;
import nibble.jobs.io.Uris;
import nibble.jobs.spark.JobDescription;
import nibble.jobs.spark.InputChecksums;
import nibble.jobs.spark.PartitionErrors;
import nibble.jobs.spark.SerializableConf;
import nibble.jobs.table.CanonicalFooterFileSystem;
import nibble.jobs.table.PlannedRows;
import nibble.jobs.table.QuantTable;
import nibble.jobs.table.QuantizedTensors;
import nibble.jobs.table.StatsTables;
import nibble.jobs.table.TableCommitter;
import nibble.jobs.table.TableVerifier;
import nibble.jobs.table.TensorTable;

/**
 * {@code quantize}: a dense tensor table and a recipe in, a quantized table out (nibble-packed codes,
 * scales, zero-points; kept tensors carried over unchanged). Each row is quantized as it is read
 * ({@link RowQuantizer}), its reconstruction error measured in the same pass. One task per output
 * file reads that file's rows from the input files and writes it ({@link PlannedQuantize}, no
 * shuffle); recipes with percentile clips, whose rows carry joined statistics, instead bring the
 * packed rows into file-plan order with one shuffle ({@link PlannedRows}). The manifest records each
 * tensor's scheme, bits per weight, error and checksums.
 */
public final class QuantizeAction {
    private QuantizeAction() {
    }

    public static QuantizeResult execute(SparkSession spark, QuantizeArgs args) throws IOException {
        String input = args.input();
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        long started = System.nanoTime();
        Manifest in = TensorTable.readManifest(input, conf);
        if (in.kind() != Manifest.Kind.DENSE) {
            throw new InvalidInputException(input + ": quantize reads dense tables; this one is '" + in.kind().label() + "'");
        }
        List<TensorInfo> infos = in.tensorInfos();
        HashMap<String, Treatment> treatments = new HashMap<>();
        for (TensorInfo t : infos) {
            treatments.put(t.name(), args.recipe().schemeFor(t.name(), t.shape()));
        }
        HashMap<String, Clip> tensorClips = new HashMap<>();
        if (needs(treatments, s -> s.granularity() == Granularity.TENSOR)) {
            tensorClips = QuantizedTensors.tensorClips(spark, requireStats(args, conf, in), treatments);
        }
        // Only the paths that read the table through Spark build its DataFrame (Spark lists its
        // files); the planned write reads the files the manifest names.
        boolean percentile = needs(treatments, s -> s.range() == RangeMethod.PERCENTILE);
        Dataset<Row> clipped = percentile
                ? QuantizedTensors.withChannelClips(spark, TensorTable.read(spark, input), requireStats(args, conf, in), treatments)
                : null;
        HashMap<String, double[]> importance = new HashMap<>();
        if (needs(treatments, s -> s.importance() == Importance.ACTIVATIONS)) {
            importance = importance(spark, args, in, treatments);
        }
        AwqScales.Plan awq = null;
        if (args.recipe().awq() != null) {
            awq = AwqScales.plan(spark, TensorTable.read(spark, input), input, in.architecture(), treatments, args.recipe().awq(), args.stats(), importance);
            importance = awq.importance();
        }
        RowQuantizer.Hessians hessians = RowQuantizer.Hessians.NONE;
        if (needs(treatments, s -> s.importance() == Importance.HESSIAN)) {
            hessians = new RowQuantizer.Hessians(args.stats(), hessians(args, conf, in, treatments), args.recipe().gptq(),
                    new SerializableConf(conf));
        }
        // the table's data, and the statistics folder whether or not this recipe reads it
        List<PathOverlap.Read> reads = new ArrayList<>(PathOverlap.table("--input", input));
        reads.add(new PathOverlap.Read("--stats", args.stats()));
        try (TableCommitter committer = TableCommitter.begin(args.output(), args.overwrite(), conf, reads)) {
            Map<String, Long> storedBytes = QuantizedTensors.storedRowBytes(infos, treatments);
            List<FilePlan> plans = ShardPlanner.plan(infos, t -> storedBytes.get(t.name()), args.targetFileBytes());
            PartitionErrors errors = new PartitionErrors();
            spark.sparkContext().register(errors, "quantization error");
            InputChecksums read = new InputChecksums(input, in, List.of(TensorTable.DATA));
            spark.sparkContext().register(read, "input checksums");
            RowQuantizer quantizer = new RowQuantizer(treatments, tensorClips, importance, input, hessians,
                    awq != null ? awq.folds() : new HashMap<>());
            Map<String, String> checksums;
            if (!percentile) { // no per-channel clips to join in
                checksums = JobDescription.run(spark, "quantize and write", () -> PlannedQuantize.write(spark, input, in, plans,
                        storedBytes, quantizer, read, errors, committer.tempDataDir()));
                read.requireMatch();
            } else {
                checksums = writeThroughShuffle(spark, clipped, quantizer, read, errors, input, infos, plans, storedBytes, committer);
            }
            Map<String, ErrorStats> error = errors.byTensor();
            List<TensorEntry> entries = new ArrayList<>();
            for (TensorEntry e : in.tensors()) {
                String name = e.info().name();
                entries.add(new TensorEntry(e.info(), checksums.get(name), e.sourceName(), e.sourceType(),
                        QuantDetails.of(treatments.get(name), e, storedBytes.get(name), error.get(name))));
            }
            Map<String, Object> source = new LinkedHashMap<>();
            source.put("format", Manifest.FORMAT);
            source.put("uri", Uris.redact(input));
            source.put("recipe", args.recipeName());
            source.put("recipe_text", args.recipe().source());
            source.put("origin", in.source());
            if (awq != null) {
                source.put("awq", awq.record());
            }
            Manifest m = committer.commit(plans, files -> new Manifest(Manifest.Kind.QUANTIZED, source, in.architecture(), entries, files));
            return new QuantizeResult(args, in, m, System.nanoTime() - started);
        }
    }

    /**
     * The path for rows that carry joined statistics columns (percentile clips): quantize each row as
     * Spark reads it, bring the packed rows into plan order with one shuffle, write them with Spark's
     * writer, read the files back for the checksums.
     */
    private static Map<String, String> writeThroughShuffle(SparkSession spark, Dataset<Row> rows, RowQuantizer quantizer,
                                                           InputChecksums read, PartitionErrors errors, String input,
                                                           List<TensorInfo> infos, List<FilePlan> plans,
                                                           Map<String, Long> storedBytes, TableCommitter committer) {
        JavaRDD<Row> out = PlannedRows.of(rows.javaRDD().mapPartitions(it -> quantizer.quantizeRows(read.digest(it, r -> r))),
                e -> e.row(), input, infos, plans).mapPartitions(errors::collect);
        JobDescription.run(spark, "quantize and write", () -> CanonicalFooterFileSystem.parquet(spark,
                spark.createDataFrame(out, QuantTable.SCHEMA).write()
                        .option("compression", "uncompressed")
                        .option("parquet.enable.dictionary#" + QuantTable.CODES, "false")
                        .option("parquet.enable.dictionary#" + TensorTable.DATA, "false"),
                committer.tempDataDir()));
        read.requireMatch();
        return verify(spark, committer, input, infos, storedBytes);
    }

    private static Map<String, String> verify(SparkSession spark, TableCommitter committer, String input, List<TensorInfo> infos,
                                              Map<String, Long> storedBytes) {
        try {
            return JobDescription.run(spark, "verify and checksum", () -> TableVerifier.checksums(spark, committer.tempDataDir(),
                    QuantTable.SCHEMA, List.of(TensorTable.DATA, QuantTable.CODES, QuantTable.SCALES, QuantTable.ZEROS), infos,
                    storedBytes));
        } catch (TableVerifier.TableMismatchException e) {
            committer.requireClaim();
            throw new InvalidInputException(input + ": " + e.getMessage());
        }
    }

    private static boolean needs(Map<String, Treatment> treatments, Predicate<Scheme> p) {
        return treatments.values().stream().anyMatch(t -> t instanceof Scheme s && p.test(s));
    }

    /**
     * Each tensor's activation mean x² for schemes that weigh errors by it, from the statistics
     * folder: bad input naming the folder and the table when there are none, or when a tensor that
     * needs them was never reached by calibration.
     */
    private static HashMap<String, double[]> importance(SparkSession spark, QuantizeArgs args, Manifest table,
                                                        Map<String, Treatment> treatments) throws IOException {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        Map<String, double[]> measured = checkedRecord(args.stats(), conf, table) != null
                ? StatsTables.readMeanSquares(spark, args.stats()) : null;
        return perTensor(args, table, treatments, Importance.ACTIVATIONS, measured, w -> w.length, "activation statistics of",
                "run nibble calibrate --input <table> with --data or --text first, or pass --stats");
    }

    /**
     * Each GPTQ tensor's input Hessian (file and width) from the statistics folder's {@code stats.json}:
     * bad input naming the folder and the table when there are none or a tensor's is missing.
     */
    private static HashMap<String, CalibrateResult.HessianInput> hessians(QuantizeArgs args, Configuration conf, Manifest table,
                                                                         Map<String, Treatment> treatments) throws IOException {
        Path record = checkedRecord(args.stats(), conf, table);
        Map<String, CalibrateResult.HessianInput> listed = record != null ? StatsTables.readHessians(record, conf) : null;
        return perTensor(args, table, treatments, Importance.HESSIAN, listed, CalibrateResult.HessianInput::channels,
                "the Hessians of", "run nibble calibrate --input <table> --hessian with --data or --text first, or pass --stats");
    }

    /**
     * {@code measured}'s entry for every tensor whose scheme weighs by {@code importance}, its width
     * checked against the tensor's columns: bad input naming the folder when there is nothing
     * measured or a tensor's entry is missing.
     */
    private static <T> HashMap<String, T> perTensor(QuantizeArgs args, Manifest table, Map<String, Treatment> treatments,
                                                    Importance importance, Map<String, T> measured, ToIntFunction<T> width,
                                                    String what, String hint) {
        String needs = args.stats() + ": recipe '" + args.recipeName() + "' needs " + what + " " + Uris.redact(args.input());
        if (measured == null) {
            throw new InvalidInputException(needs + " and there are none here (" + hint + ")");
        }
        HashMap<String, T> out = new HashMap<>();
        List<String> missing = new ArrayList<>();
        for (TensorInfo t : table.tensorInfos()) {
            if (treatments.get(t.name()) instanceof Scheme s && s.importance() == importance) {
                T m = measured.get(t.name());
                if (m == null || t.shape().length != 2 || width.applyAsInt(m) != t.shape()[1]) {
                    missing.add(t.name());
                } else {
                    out.put(t.name(), m);
                }
            }
        }
        if (!missing.isEmpty()) {
            throw new InvalidInputException(needs + " for " + missing.size() + " tensors that calibration did not measure ("
                    + String.join(", ", missing.subList(0, Math.min(3, missing.size()))) + (missing.size() > 3 ? ", ..." : "") + ")");
        }
        return out;
    }

    /** The folder's {@code stats.json}, checked to be of {@code table}; null when there is none. */
    private static Path checkedRecord(String statsDir, Configuration conf, Manifest table) throws IOException {
        Path record = new Path(statsDir, StatsTables.RECORD);
        if (!record.getFileSystem(conf).exists(record)) {
            return null;
        }
        if (!StatsTables.readChecksums(record, conf).equals(table.checksums())) {
            throw new InvalidInputException(statsDir + ": these statistics were computed for a different table (checksums differ)");
        }
        return record;
    }

    private static String requireStats(QuantizeArgs args, Configuration conf, Manifest table) throws IOException {
        if (checkedRecord(args.stats(), conf, table) == null) {
            throw new InvalidInputException(args.stats() + ": recipe '" + args.recipeName()
                    + "' needs weight statistics and there are none here (run nibble calibrate first, or pass --stats)");
        }
        return args.stats();
    }
}
