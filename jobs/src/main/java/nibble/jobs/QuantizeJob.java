package nibble.jobs;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
import nibble.common.quant.QuantDetails;
import nibble.common.quant.RangeMethod;
import nibble.common.quant.Recipe;
import nibble.common.quant.Scheme;
import nibble.common.quant.Treatment;
import nibble.common.stats.ErrorStats;
import nibble.common.table.FilePlan;
import nibble.common.table.Manifest;
import nibble.common.table.ShardPlanner;
import nibble.common.table.TensorEntry;
import nibble.jobs.cli.Console;
import nibble.jobs.cli.Options;
import nibble.jobs.cli.UsageException;
import nibble.jobs.spark.PartitionErrors;
import nibble.jobs.spark.Progress;
import nibble.jobs.spark.Sessions;
import nibble.jobs.table.PlannedRows;
import nibble.jobs.table.QuantTable;
import nibble.jobs.table.QuantizedTensors;
import nibble.jobs.table.StatsTables;
import nibble.jobs.table.TableCommitter;
import nibble.jobs.table.TableVerifier;
import nibble.jobs.table.TensorTable;

/**
 * {@code quantize}: a dense tensor table and a recipe in, a quantized table out (nibble-packed codes,
 * scales, zero-points; kept tensors carried over unchanged). Rows stream through one shuffle into
 * plan order, are quantized independently, and the reconstruction error is measured in the same
 * pass. The manifest records each tensor's scheme, bits per weight, error and checksums.
 */
public final class QuantizeJob implements Command {
    private static final Options.Spec SPEC = Options.spec("quantize",
                    "Quantize a tensor table with a recipe into a nibble-packed quantized table.")
            .value("input", "URI", null, "dense tensor table folder (required)")
            .value("output", "URI", null, "folder for the quantized table (required)")
            .value("recipe", "NAME|FILE", "int4-g128", "built-in recipe (" + String.join(", ", Recipe.BUILT_IN) + ") or a recipe JSON file")
            .value("stats", "URI", null, "statistics from calibrate, needed by percentile and per-tensor schemes (default: <input>/stats)")
            .value("target-file-mb", "MB", "128", "data per Parquet file")
            .flag("overwrite", "replace a table already at --output");

    public static void main(String[] args) {
        Nibble.submit("quantize", args);
    }

    @Override
    public Options.Spec spec() {
        return SPEC;
    }

    /** The parsed options; the recipe is loaded and checked here. */
    record Args(String input, String output, String recipeName, Recipe recipe, String stats, long targetBytes, boolean overwrite) {
        static Args parse(Options o) {
            long targetBytes = o.megabytes("target-file-mb");
            String input = o.require("input");
            String output = o.require("output");
            Recipe recipe = Recipe.load(o.get("recipe"));
            String stats = o.get("stats") != null ? o.get("stats") : StatsTables.defaultDir(input);
            return new Args(input, output, o.get("recipe"), recipe, stats, targetBytes, o.flag("overwrite"));
        }
    }

    @Override
    public String plan(Options o) {
        Args a = Args.parse(o);
        return "quantize the tensor table " + ShardJob.redact(a.input()) + " with recipe " + a.recipeName() + " (default "
                + a.recipe().defaultScheme() + "), statistics from " + ShardJob.redact(a.stats()) + " if the recipe needs them, write "
                + ShardJob.redact(a.output());
    }

    @Override
    public void run(Options o, Console console) throws Exception {
        Args a = Args.parse(o);
        String input = a.input();
        String output = a.output();
        long targetBytes = a.targetBytes();
        String recipeName = a.recipeName();
        Recipe recipe = a.recipe();
        SparkSession spark = Sessions.getOrCreate("nibble quantize");
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        long started = System.nanoTime();
        Manifest in = TensorTable.readManifest(input, conf);
        if (!"dense".equals(in.kind())) {
            throw new InvalidInputException(input + ": quantize reads dense tables; this one is '" + in.kind() + "'");
        }
        List<TensorInfo> infos = in.tensorInfos();
        HashMap<String, Treatment> treatments = new HashMap<>();
        for (TensorInfo t : infos) {
            treatments.put(t.name(), recipe.schemeFor(t.name(), t.shape()));
        }
        String statsDir = a.stats();
        Dataset<Row> rows = TensorTable.read(spark, input);
        HashMap<String, Clip> tensorClips = new HashMap<>();
        if (needs(treatments, s -> s.granularity() == Granularity.TENSOR)) {
            tensorClips = QuantizedTensors.tensorClips(spark, requireStats(statsDir, conf, recipeName, in), treatments);
        }
        if (needs(treatments, s -> s.range() == RangeMethod.PERCENTILE)) {
            rows = QuantizedTensors.withChannelClips(spark, rows, requireStats(statsDir, conf, recipeName, in), treatments);
        }
        TableCommitter committer = TableCommitter.begin(output, a.overwrite(), conf);
        try (Progress p = Progress.attach(spark, "quantize", console)) {
            Map<String, Long> storedBytes = QuantizedTensors.storedRowBytes(infos, treatments);
            List<FilePlan> plans = ShardPlanner.plan(infos, t -> storedBytes.get(t.name()), targetBytes);
            PartitionErrors errors = new PartitionErrors();
            spark.sparkContext().register(errors, "quantization error");
            RowQuantizer quantizer = new RowQuantizer(treatments, tensorClips, input);
            JavaRDD<Row> out = PlannedRows.of(rows.javaRDD().map(quantizer::quantizeRow), input, infos, plans)
                    .mapPartitions(errors::collect);
            spark.sparkContext().setJobDescription("quantize and write");
            spark.createDataFrame(out, QuantTable.SCHEMA).write()
                    .option("compression", "uncompressed")
                    .option("parquet.enable.dictionary#" + QuantTable.CODES, "false")
                    .option("parquet.enable.dictionary#" + TensorTable.DATA, "false")
                    .parquet(committer.tempDataDir());
            spark.sparkContext().setJobDescription("verify and checksum");
            Map<String, String> checksums;
            try {
                checksums = TableVerifier.checksums(spark, committer.tempDataDir(), QuantTable.SCHEMA,
                        List.of(TensorTable.DATA, QuantTable.CODES, QuantTable.SCALES, QuantTable.ZEROS), infos, storedBytes);
            } catch (TableVerifier.TableMismatchException e) {
                throw new InvalidInputException(input + ": " + e.getMessage());
            }
            spark.sparkContext().setJobDescription(null);
            Map<String, ErrorStats> error = errors.byTensor();
            List<TensorEntry> entries = new ArrayList<>();
            for (TensorEntry e : in.tensors()) {
                String name = e.info().name();
                entries.add(new TensorEntry(e.info(), checksums.get(name), e.sourceName(),
                        QuantDetails.details(treatments.get(name), e, storedBytes.get(name), error.get(name))));
            }
            Map<String, Object> source = new LinkedHashMap<>();
            source.put("format", Manifest.FORMAT);
            source.put("uri", ShardJob.redact(input));
            source.put("recipe", recipeName);
            source.put("recipe_text", recipe.source());
            source.put("origin", in.source());
            Manifest m = committer.commit(plans, files -> new Manifest("quantized", source, in.architecture(), entries, files));
            summarize(console, output, in, m, System.nanoTime() - started);
        } catch (Exception | Error e) {
            committer.abort();
            throw e;
        }
    }

    private static boolean needs(Map<String, Treatment> treatments, java.util.function.Predicate<Scheme> p) {
        return treatments.values().stream().anyMatch(t -> t instanceof Scheme s && p.test(s));
    }

    private static String requireStats(String statsDir, Configuration conf, String recipe, Manifest table) throws java.io.IOException {
        Path record = new Path(statsDir, TableCommitter.STATS_RECORD);
        if (!record.getFileSystem(conf).exists(record)) {
            throw new InvalidInputException(statsDir + ": recipe '" + recipe
                    + "' needs weight statistics and there are none here (run nibble calibrate first, or pass --stats)");
        }
        if (!StatsTables.readChecksums(record, conf).equals(checksums(table))) {
            throw new InvalidInputException(statsDir + ": these statistics were computed for a different table (checksums differ)");
        }
        return statsDir;
    }

    private static Map<String, String> checksums(Manifest m) {
        Map<String, String> c = new LinkedHashMap<>();
        m.tensors().forEach(e -> c.put(e.info().name(), e.checksum()));
        return c;
    }

    private static void summarize(Console console, String output, Manifest in, Manifest out, long nanos) {
        List<TensorEntry> shown = new ArrayList<>(out.tensors());
        boolean all = shown.size() <= 60;
        if (!all) {
            shown.removeIf(e -> QuantDetails.sqnr(e) == null);
            shown.sort(Comparator.comparingDouble(QuantDetails::sqnr));
            shown = shown.subList(0, Math.min(20, shown.size()));
        }
        List<List<String>> rows = new ArrayList<>();
        for (TensorEntry e : shown) {
            Double sqnr = QuantDetails.sqnr(e);
            rows.add(List.of(e.info().name(), QuantDetails.label(e),
                    String.format(Locale.ROOT, "%.2f", ((Number) e.details().get("bits_per_weight")).doubleValue()),
                    sqnr == null ? "exact" : String.format(Locale.ROOT, "%.1f", sqnr)));
        }
        long before = in.totalDataBytes();
        long after = QuantDetails.storedBytes(out);
        console.out().println();
        console.out().println(all ? "per tensor:" : "the 20 tensors with the lowest SQNR:");
        console.table(List.of("tensor", "scheme", "bits/weight", "SQNR dB"), rows);
        console.out().println();
        console.table(List.of("quantize", ""), List.of(
                List.of("output", ShardJob.redact(output)),
                List.of("tensors", out.tensors().size() + " (" + QuantDetails.quantizedCount(out) + " quantized)"),
                List.of("size before", Console.bytes(before)),
                List.of("size after", Console.bytes(after) + String.format(Locale.ROOT, " (%.2fx smaller)", before / (double) Math.max(1, after))),
                List.of("bits/weight", String.format(Locale.ROOT, "%.3f", 8.0 * after / Math.max(1, out.totalElements()))),
                List.of("time", String.format(Locale.ROOT, "%.1f s (%.2f M params/s)", nanos / 1e9,
                        out.totalElements() / 1e6 / (nanos / 1e9)))));
    }
}
