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
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import nibble.common.InvalidInputException;
import nibble.common.TensorInfo;
import nibble.common.model.ActivationQuant;
import nibble.common.model.LlamaConfig;
import nibble.common.model.SequenceStats;
import nibble.common.model.Summary;
import nibble.common.quant.QuantDetails;
import nibble.common.quant.Scheme;
import nibble.common.report.EvalReport;
import nibble.common.report.Gate;
import nibble.common.report.KldHistogram;
import nibble.common.report.ModelLevel;
import nibble.common.report.ReportWriter;
import nibble.common.report.TensorError;
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
import nibble.jobs.spark.SerializableConf;
import nibble.jobs.spark.Sessions;
import nibble.jobs.table.PlannedRows;
import nibble.jobs.table.QuantTable;
import nibble.jobs.table.TableCommitter;
import nibble.jobs.table.TensorTable;
import scala.Tuple2;

/**
 * {@code evaluate}: how much accuracy quantization cost. Tensor level, always: every row of the
 * original beside its quantized row (a distributed join), with MSE, SQNR, max error and cosine per
 * channel, tensor and layer. Model level, when the architecture is known: evaluation sequences are
 * spread over executors, each loading both models once per JVM from the tables, and the report gives
 * perplexity before and after, KL divergence and top-1 agreement with 95% confidence intervals.
 * Writes {@code report.json} (last), {@code report.md}, {@code report.html} and a per-channel error
 * table; exits 4 when a gate threshold is exceeded.
 */
public final class EvaluateJob implements Command {
    private static final Options.Spec SPEC = Options.spec("evaluate",
                    "Compare a quantized table with its original: tensor errors and model-level accuracy, with a gate.")
            .value("original", "URI", null, "dense tensor table (required)")
            .value("quantized", "URI", null, "quantized table made from it (required)")
            .value("output", "URI", null, "folder for the report (required)")
            .value("data", "URI", null, "evaluation token sequences: Parquet with a 'tokens' array<int> column (default: sample them)")
            .value("sequences", "N", "64", "sequences to sample when no --data")
            .value("sequence-length", "N", "128", "tokens per sampled sequence")
            .value("seed", "N", "1234", "evaluation seed for sampling (must differ from any calibration seed)")
            .value("temperature", "T", "1.0", "sampling temperature")
            .value("partitions", "N", "0", "Spark partitions for the sequences (0: four per core)")
            .value("activations", "MODE", "none", "none, or int8-dynamic to quantize every linear layer's input per token (W4A8)")
            .value("max-kld", "X", null, "gate: fail when the mean KL divergence exceeds X")
            .value("max-ppl-increase", "X", null, "gate: fail when perplexity grows by more than X (0.05 = 5%)")
            .value("min-top1", "X", null, "gate: fail when top-1 agreement is below X")
            .flag("overwrite", "replace a report already at --output");

    public static void main(String[] args) {
        Nibble.submit("evaluate", args);
    }

    /** The parsed options. */
    record Args(String original, String quantized, String output, String data, int sequences, int length, long seed,
                float temperature, ActivationQuant activations, Gate.Thresholds gate, int partitions, boolean overwrite) {
        static Args parse(Options o) {
            int sequences = (int) o.getLong("sequences");
            int length = (int) o.getLong("sequence-length");
            if (sequences <= 0 || length < 2) {
                throw new UsageException("--sequences must be positive and --sequence-length at least 2");
            }
            float temperature = (float) o.getDouble("temperature");
            if (!(temperature >= 0)) {
                throw new UsageException("--temperature must be zero or positive");
            }
            ActivationQuant activations = switch (o.get("activations")) {
                case "none" -> ActivationQuant.NONE;
                case "int8-dynamic" -> ActivationQuant.INT8_DYNAMIC;
                default -> throw new UsageException("--activations must be none or int8-dynamic");
            };
            Gate.Thresholds gate = new Gate.Thresholds(optional(o, "max-kld"), optional(o, "max-ppl-increase"), optional(o, "min-top1"));
            int partitions = (int) o.getLong("partitions");
            if (partitions < 0) {
                throw new UsageException("--partitions must be 0 or positive");
            }
            return new Args(o.require("original"), o.require("quantized"), o.require("output"), o.get("data"), sequences,
                    length, o.getLong("seed"), temperature, activations, gate, partitions, o.flag("overwrite"));
        }

        private static Double optional(Options o, String name) {
            return o.get(name) == null ? null : o.getDouble(name);
        }
    }

    @Override
    public Options.Spec spec() {
        return SPEC;
    }

    @Override
    public String plan(Options o) {
        Args a = Args.parse(o);
        return "compare " + ShardJob.redact(a.quantized()) + " with " + ShardJob.redact(a.original()) + " on "
                + (a.data() != null ? "the sequences in " + ShardJob.redact(a.data())
                        : a.sequences() + " sampled sequences of " + a.length() + " tokens (seed " + a.seed() + ")")
                + ", write the report to " + ShardJob.redact(a.output()) + "; gate " + a.gate();
    }

    @Override
    public void run(Options o, Console console) throws Exception {
        Args a = Args.parse(o);
        SparkSession spark = Sessions.getOrCreate("nibble evaluate");
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        Manifest original = TensorTable.readManifest(a.original(), conf);
        Manifest quantized = TensorTable.readManifest(a.quantized(), conf);
        checkPair(a, original, quantized);
        TableCommitter committer = TableCommitter.begin(a.output(), a.overwrite(), conf);
        EvalReport report;
        try (Progress p = Progress.attach(spark, "evaluate", console)) {
            List<FilePlan> plans = ShardPlanner.plan(original.tensorInfos(), t -> 48, 64L << 20);
            List<TensorError> tensors = tensorErrors(spark, a, original, quantized, plans, committer);
            ModelLevel model = modelLevel(spark, a, original, console);
            report = EvalReport.of(a.original(), a.quantized(), recipe(quantized), a.activations(), a.gate(), model, tensors);
            Map<String, byte[]> extra = new LinkedHashMap<>();
            extra.put("report.md", ReportWriter.markdown(report).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            extra.put("report.html", ReportWriter.html(report).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            committer.commit(Map.of("channels", plans), "report.json", extra, files -> ReportWriter.json(report));
        } catch (Exception | Error e) {
            committer.abort();
            throw e;
        }
        summarize(console, a, report);
        if (!report.gate().passed()) {
            throw new GateException(String.join("; ", report.gate().failures()) + " (report in " + ShardJob.redact(a.output()) + ")");
        }
    }

    private static void checkPair(Args a, Manifest original, Manifest quantized) {
        if (!"dense".equals(original.kind())) {
            throw new InvalidInputException(a.original() + ": --original must be a dense table, this one is '" + original.kind() + "'");
        }
        if (!"quantized".equals(quantized.kind())) {
            throw new InvalidInputException(a.quantized() + ": --quantized must be a quantized table, this one is '" + quantized.kind() + "'");
        }
        Map<String, String> checksums = new HashMap<>();
        original.tensors().forEach(e -> checksums.put(e.info().name(), e.checksum()));
        for (TensorEntry e : quantized.tensors()) {
            Object src = e.details() == null ? null : e.details().get("source_checksum");
            if (!String.valueOf(src).equals(checksums.get(e.info().name()))) {
                throw new InvalidInputException(a.quantized() + ": tensor '" + e.info().name() + "' was not quantized from "
                        + a.original() + " (source checksums differ)");
            }
        }
        if (quantized.tensors().size() != original.tensors().size()) {
            throw new InvalidInputException(a.quantized() + ": holds " + quantized.tensors().size() + " tensors, the original "
                    + original.tensors().size());
        }
    }

    private static List<TensorError> tensorErrors(SparkSession spark, Args a, Manifest original, Manifest quantized,
                                                  List<FilePlan> plans, TableCommitter committer) {
        HashMap<String, TensorInfo> infos = new HashMap<>();
        original.tensorInfos().forEach(t -> infos.put(t.name(), t));
        HashMap<String, Scheme> schemes = new HashMap<>();
        for (TensorEntry e : quantized.tensors()) {
            Scheme s = QuantDetails.scheme(e, a.quantized());
            if (s != null) {
                schemes.put(e.info().name(), s);
            }
        }
        Dataset<Row> o = TensorTable.read(spark, a.original()).select(col(TensorTable.TENSOR), col(TensorTable.ROW),
                col(TensorTable.DTYPE), col(TensorTable.DATA).as("original"));
        Dataset<Row> q = spark.read().schema(QuantTable.SCHEMA).parquet(TensorTable.dataDir(a.quantized()))
                .select(col(TensorTable.TENSOR), col(TensorTable.ROW), col(TensorTable.DATA).as("kept"),
                        col(QuantTable.CODES), col(QuantTable.SCALES), col(QuantTable.ZEROS));
        Dataset<Row> joined = o.join(q, scala.jdk.javaapi.CollectionConverters.asScala(
                        List.of(TensorTable.TENSOR, TensorTable.ROW)).toSeq(), "full_outer")
                .select(col(TensorTable.TENSOR), col(TensorTable.ROW), col(TensorTable.DTYPE), col("original"), col("kept"),
                        col(QuantTable.CODES), col(QuantTable.SCALES), col(QuantTable.ZEROS));
        PartitionErrors errors = new PartitionErrors();
        spark.sparkContext().register(errors, "evaluation error");
        ChannelErrors compare = new ChannelErrors(a.quantized(), infos, schemes);
        JavaRDD<Row> channels = PlannedRows.of(joined.javaRDD().map(compare::compareRow), a.quantized(), original.tensorInfos(), plans)
                .mapPartitions(errors::collect);
        spark.sparkContext().setJobDescription("tensor errors");
        spark.createDataFrame(channels, ChannelErrors.SCHEMA).write().parquet(committer.tempDir("channels"));
        spark.sparkContext().setJobDescription(null);
        Map<String, ErrorStats> byTensor = errors.byTensor();
        List<TensorError> out = new ArrayList<>();
        for (TensorEntry e : quantized.tensors()) {
            double bpw = ((Number) e.details().get("bits_per_weight")).doubleValue();
            ErrorStats err = byTensor.getOrDefault(e.info().name(), new ErrorStats());
            out.add(TensorError.of(e.info().name(), QuantDetails.label(e), bpw, err));
        }
        return out;
    }

    private static ModelLevel modelLevel(SparkSession spark, Args a, Manifest original, Console console) {
        if (original.architecture() == null) {
            console.progress("evaluate", "no architecture in the manifest: tensor-level evaluation only");
            return null;
        }
        LlamaConfig config = LlamaConfig.fromArchitecture(original.architecture());
        List<Tuple2<Long, int[]>> sequences = sequences(spark, a, config);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        int partitions = a.partitions() > 0 ? a.partitions() : Math.max(1, Math.min(sequences.size(), 4 * jsc.defaultParallelism()));
        SequenceEval eval = new SequenceEval(a.original(), a.quantized(), a.activations(),
                new SerializableConf(spark.sparkContext().hadoopConfiguration()), a.seed(), a.length(), a.temperature());
        spark.sparkContext().setJobDescription("model-level evaluation");
        long started = System.nanoTime();
        List<Tuple2<Long, SequenceStats>> results = new ArrayList<>(jsc.parallelize(sequences, partitions)
                .mapPartitions(eval::evaluate).collect());
        double seconds = (System.nanoTime() - started) / 1e9;
        spark.sparkContext().setJobDescription(null);
        results.sort(Comparator.comparingLong(Tuple2::_1));
        List<SequenceStats> stats = new ArrayList<>();
        results.forEach(t -> stats.add(t._2()));
        int tokens = stats.stream().mapToInt(s -> s.tokenKl().length).sum();
        console.progress("evaluate", String.format(Locale.ROOT, "model-level seconds %.2f: %d sequences, %d tokens, %.0f tokens/s",
                seconds, stats.size(), tokens, tokens / seconds));
        double[] kl = new double[tokens];
        int at = 0;
        for (SequenceStats s : stats) {
            System.arraycopy(s.tokenKl(), 0, kl, at, s.tokenKl().length);
            at += s.tokenKl().length;
        }
        int length = a.data() != null ? stats.stream().mapToInt(s -> s.tokens() + 1).max().orElse(0) : a.length();
        return new ModelLevel(Summary.of(stats), a.seed(), length, null, KldHistogram.of(kl));
    }

    private static List<Tuple2<Long, int[]>> sequences(SparkSession spark, Args a, LlamaConfig config) {
        List<Tuple2<Long, int[]>> out = new ArrayList<>();
        if (a.data() == null) {
            if (a.length() > config.maxPositions()) {
                throw new UsageException("--sequence-length " + a.length() + " exceeds the model's " + config.maxPositions() + " positions");
            }
            for (long i = 0; i < a.sequences(); i++) {
                out.add(new Tuple2<>(i, null));
            }
            return out;
        }
        long i = 0;
        String dir = a.data();
        try {
            org.apache.hadoop.fs.Path record = new org.apache.hadoop.fs.Path(dir, SampleCommand.RECORD);
            if (record.getFileSystem(spark.sparkContext().hadoopConfiguration()).exists(record)) {
                dir = new org.apache.hadoop.fs.Path(dir, SampleCommand.DIR).toString();
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        Dataset<Row> data = spark.read().parquet(dir);
        if (java.util.Arrays.asList(data.columns()).contains("seq")) {
            data = data.orderBy("seq");
        }
        for (Row r : data.select("tokens").collectAsList()) {
            List<Integer> list = r.getList(0);
            int[] tokens = list.stream().mapToInt(Integer::intValue).toArray();
            if (tokens.length < 2 || tokens.length > config.maxPositions()) {
                throw new InvalidInputException(a.data() + ": sequence " + i + " has " + tokens.length
                        + " tokens (need 2.." + config.maxPositions() + ")");
            }
            for (int t : tokens) {
                if (t < 0 || t >= config.vocabSize()) {
                    throw new InvalidInputException(a.data() + ": sequence " + i + " holds token " + t + ", outside the vocabulary");
                }
            }
            out.add(new Tuple2<>(i++, tokens));
        }
        if (out.isEmpty()) {
            throw new InvalidInputException(a.data() + ": no sequences");
        }
        return out;
    }

    private static String recipe(Manifest quantized) {
        Object r = quantized.source() == null ? null : quantized.source().get("recipe");
        return r == null ? null : r.toString();
    }

    private static Column col(String name) {
        return functions.col(name);
    }

    private static void summarize(Console console, Args a, EvalReport report) {
        List<List<String>> rows = new ArrayList<>();
        double worst = Double.POSITIVE_INFINITY;
        for (TensorError t : report.tensors()) {
            if (t.sqnrDb() != null) {
                worst = Math.min(worst, t.sqnrDb());
            }
        }
        rows.add(List.of("tensors", Console.count(report.tensors().size()), "lowest SQNR " + (Double.isInfinite(worst) ? "exact" : fmt("%.1f dB", worst))));
        ModelLevel m = report.model();
        if (m != null) {
            Summary s = m.summary();
            rows.add(List.of("sequences", Console.count(s.sequences()), Console.count(s.tokens()) + " tokens, seed " + m.seed()));
            rows.add(List.of("perplexity", fmt("%.4f", s.perplexityP().mean()) + " -> " + fmt("%.4f", s.perplexityQ().mean()),
                    fmt("ratio %.4f", m.perplexityRatio())));
            rows.add(List.of("mean KLD", fmt("%.5f", s.kl().mean()), ci(s.kl())));
            rows.add(List.of("top-1 agreement", fmt("%.4f", s.top1Agreement().mean()), ci(s.top1Agreement())));
        }
        rows.add(List.of("gate", report.gate().passed() ? "PASS" : "FAIL", String.join("; ", report.gate().failures())));
        console.out().println();
        console.table(List.of("evaluate", "", ""), rows);
        console.out().println("report: " + ShardJob.redact(a.output()) + "/report.{json,md,html}");
    }

    private static String ci(nibble.common.model.Estimate e) {
        return "95% CI [" + fmt("%.5f", e.low()) + ", " + fmt("%.5f", e.high()) + "]";
    }

    private static String fmt(String f, double v) {
        return String.format(Locale.ROOT, f, v);
    }
}
