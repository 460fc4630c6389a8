package nibble.jobs.action;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import nibble.common.InvalidInputException;
import nibble.common.TensorInfo;
import nibble.common.eval.SequenceStats;
import nibble.common.eval.Summary;
import nibble.common.model.LlamaConfig;
import nibble.common.quant.Scheme;
import nibble.common.report.EvalReport;
import nibble.common.report.KldHistogram;
import nibble.common.report.ModelLevel;
import nibble.common.report.ReportWriter;
import nibble.common.report.TensorError;
import nibble.common.stats.ErrorStats;
import nibble.common.table.FilePlan;
import nibble.common.table.Manifest;
import nibble.common.table.ShardPlanner;
import nibble.common.table.TensorEntry;
import nibble.jobs.cli.UsageException;
import nibble.jobs.io.PathOverlap;
import nibble.jobs.io.Uris;
import nibble.jobs.spark.JobDescription;
import nibble.jobs.spark.InputChecksums;
import nibble.jobs.spark.PartitionErrors;
import nibble.jobs.spark.SerializableConf;
import nibble.jobs.table.CanonicalFooterFileSystem;
import nibble.jobs.table.PlannedRows;
import nibble.jobs.table.TableCommitter;
import nibble.jobs.table.TensorTable;
import scala.Tuple2;

/**
 * {@code evaluate}: how much accuracy quantization cost. Tensor level, always: every row of the
 * original beside its quantized row (a distributed join, {@link ChannelErrors}), with MSE, SQNR, max
 * error and cosine per channel, tensor and layer. Model level, when the architecture is known:
 * evaluation sequences are spread over executors ({@link SequenceEval}), each loading both models
 * once per JVM from the tables, and the report gives perplexity before and after, KL divergence and
 * top-1 agreement with 95% confidence intervals. Writes {@code report.json} (last), {@code report.md},
 * {@code report.html} and a per-channel error table, whether or not the gate passes.
 */
public final class EvaluateAction {
    /** The report's record file, written last. */
    public static final String REPORT = "report.json";
    static final String CHANNELS_DIR = "channels";

    private EvaluateAction() {
    }

    public static EvaluateResult execute(SparkSession spark, EvaluateArgs args) throws IOException {
        return execute(spark, args, Notes.NONE);
    }

    public static EvaluateResult execute(SparkSession spark, EvaluateArgs args, Notes notes) throws IOException {
        Manifest original = TensorTable.readManifest(args.original(), spark.sparkContext().hadoopConfiguration());
        Manifest quantized = TensorTable.readManifest(args.quantized(), spark.sparkContext().hadoopConfiguration());
        checkPair(args, original, quantized);
        TextChunks text = args.text() == null ? null : TextChunks.read(args.original(), original, args.text(), args.ctx(),
                args.chunks(), spark.sparkContext().hadoopConfiguration());
        try (TableCommitter committer = TableCommitter.begin(args.output(), args.overwrite(), spark.sparkContext().hadoopConfiguration(),
                reads(args))) {
            List<FilePlan> plans = ShardPlanner.plan(original.tensorInfos(), t -> 48, 64L << 20);
            List<TensorError> tensors = tensorErrors(spark, args, original, quantized, plans, committer);
            ModelRun model = modelLevel(spark, args, original, text, notes);
            EvalReport report = EvalReport.of(args.original(), args.quantized(), recipe(quantized), args.activations(), args.gate(),
                    model.level(), tensors);
            Map<String, byte[]> extra = new LinkedHashMap<>();
            extra.put("report.md", ReportWriter.markdown(report).getBytes(StandardCharsets.UTF_8));
            extra.put("report.html", ReportWriter.html(report).getBytes(StandardCharsets.UTF_8));
            committer.commit(Map.of(CHANNELS_DIR, plans), REPORT, extra, files -> ReportWriter.json(report));
            return new EvaluateResult(args, report, model.seconds());
        }
    }

    /** What evaluate reads: both tables' data and the sequences. */
    private static List<PathOverlap.Read> reads(EvaluateArgs a) {
        List<PathOverlap.Read> reads = new ArrayList<>(PathOverlap.table("--original", a.original()));
        reads.addAll(PathOverlap.table("--quantized", a.quantized()));
        if (a.data() != null) {
            reads.add(new PathOverlap.Read("--data", a.data()));
        }
        if (a.text() != null) {
            reads.add(new PathOverlap.Read("--text", a.text()));
        }
        return reads;
    }

    private static void checkPair(EvaluateArgs a, Manifest original, Manifest quantized) {
        if (original.kind() != Manifest.Kind.DENSE) {
            throw new InvalidInputException(a.original() + ": --original must be a dense table, this one is '" + original.kind().label() + "'");
        }
        if (quantized.kind() != Manifest.Kind.QUANTIZED) {
            throw new InvalidInputException(a.quantized() + ": --quantized must be a quantized table, this one is '"
                    + quantized.kind().label() + "'");
        }
        Map<String, String> checksums = original.checksums();
        for (TensorEntry e : quantized.tensors()) {
            if (!e.quant().sourceChecksum().equals(checksums.get(e.info().name()))) {
                throw new InvalidInputException(a.quantized() + ": tensor '" + e.info().name() + "' was not quantized from "
                        + a.original() + " (source checksums differ)");
            }
        }
        if (quantized.tensors().size() != original.tensors().size()) {
            throw new InvalidInputException(a.quantized() + ": holds " + quantized.tensors().size() + " tensors, the original "
                    + original.tensors().size());
        }
    }

    private static List<TensorError> tensorErrors(SparkSession spark, EvaluateArgs a, Manifest original, Manifest quantized,
                                                  List<FilePlan> plans, TableCommitter committer) {
        HashMap<String, TensorInfo> infos = new HashMap<>();
        original.tensorInfos().forEach(t -> infos.put(t.name(), t));
        HashMap<String, Scheme> schemes = new HashMap<>();
        for (TensorEntry e : quantized.tensors()) {
            if (e.quant().scheme() != null) {
                schemes.put(e.info().name(), e.quant().scheme());
            }
        }
        PartitionErrors errors = new PartitionErrors();
        spark.sparkContext().register(errors, "evaluation error");
        ChannelErrors compare = new ChannelErrors(a.original(), a.quantized(), infos, schemes);
        InputChecksums readOriginal = new InputChecksums(a.original(), original, List.of(ChannelErrors.ORIGINAL));
        InputChecksums readQuantized = new InputChecksums(a.quantized(), quantized, ChannelErrors.QUANTIZED_PAYLOAD);
        spark.sparkContext().register(readOriginal, "original checksums");
        spark.sparkContext().register(readQuantized, "quantized checksums");
        JavaRDD<Row> channels = PlannedRows.of(ChannelErrors.pairs(spark, a.original(), a.quantized()).javaRDD()
                        .mapPartitions(it -> readQuantized.digest(readOriginal.digest(it, r -> r), r -> r)).map(compare::compareRow),
                e -> e.row(), a.quantized(), original.tensorInfos(), plans).mapPartitions(errors::collect);
        JobDescription.run(spark, "tensor errors",
                () -> CanonicalFooterFileSystem.parquet(spark, spark.createDataFrame(channels, ChannelErrors.SCHEMA).write(),
                        committer.tempDir(CHANNELS_DIR)));
        readOriginal.requireMatch();
        readQuantized.requireMatch();
        Map<String, ErrorStats> byTensor = errors.byTensor();
        List<TensorError> out = new ArrayList<>();
        for (TensorEntry e : quantized.tensors()) {
            ErrorStats err = byTensor.getOrDefault(e.info().name(), new ErrorStats());
            out.add(TensorError.of(e.info().name(), e.quant().label(), e.quant().bitsPerWeight(), err));
        }
        return out;
    }

    /** The model level of a report (null without an architecture) and the seconds its Spark job took. */
    private record ModelRun(ModelLevel level, double seconds) {
    }

    private static ModelRun modelLevel(SparkSession spark, EvaluateArgs a, Manifest original, TextChunks text, Notes notes) {
        if (original.architecture() == null) {
            notes.note("evaluate", "no architecture in the manifest: tensor-level evaluation only");
            return new ModelRun(null, 0);
        }
        LlamaConfig config = LlamaConfig.fromArchitecture(original.architecture());
        List<Tuple2<Long, int[]>> sequences;
        int scoredFrom = 0;
        if (text != null) {
            sequences = new ArrayList<>();
            for (int i = 0; i < text.chunks().size(); i++) {
                sequences.add(new Tuple2<>((long) i, text.chunks().get(i)));
            }
            scoredFrom = text.scoredFrom();
        } else if (a.data() != null) {
            SampleAction.Sequences given = SampleAction.read(spark, a.data());
            sequences = given(a, config, given);
            scoredFrom = given.scoredFrom();
        } else {
            sequences = sampled(a, config);
        }
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        int partitions = a.partitions() > 0 ? a.partitions() : Math.max(1, Math.min(sequences.size(), 4 * jsc.defaultParallelism()));
        SequenceEval eval = new SequenceEval(a.original(), a.quantized(), a.activations(),
                new SerializableConf(spark.sparkContext().hadoopConfiguration()), a.seed(), a.sequenceLength(), a.temperature(),
                scoredFrom);
        long started = System.nanoTime();
        List<Tuple2<Long, int[]>> work = sequences;
        List<Tuple2<Long, SequenceStats>> results = new ArrayList<>(JobDescription.run(spark, "model-level evaluation",
                () -> jsc.parallelize(work, partitions).mapPartitions(eval::evaluate).collect()));
        double seconds = (System.nanoTime() - started) / 1e9;
        results.sort(Comparator.comparingLong(Tuple2::_1));
        List<SequenceStats> stats = new ArrayList<>();
        results.forEach(t -> stats.add(t._2()));
        int tokens = stats.stream().mapToInt(s -> s.tokenKl().length).sum();
        double[] kl = new double[tokens];
        int at = 0;
        for (SequenceStats s : stats) {
            System.arraycopy(s.tokenKl(), 0, kl, at, s.tokenKl().length);
            at += s.tokenKl().length;
        }
        int length = text != null ? text.ctx()
                : a.data() != null ? sequences.stream().mapToInt(s -> s._2().length).max().orElse(0) : a.sequenceLength();
        ModelLevel.Text source = text == null ? null
                : new ModelLevel.Text(Uris.redact(a.text()), text.ctx(), text.scoredFrom(), text.textTokens(), text.bos());
        return new ModelRun(new ModelLevel(Summary.of(stats), a.seed(), length, null, KldHistogram.of(kl), source), seconds);
    }

    /** (index, null) for each sequence to sample. */
    private static List<Tuple2<Long, int[]>> sampled(EvaluateArgs a, LlamaConfig config) {
        if (a.sequenceLength() > config.maxPositions()) {
            throw new UsageException("--sequence-length " + a.sequenceLength() + " exceeds the model's "
                    + config.maxPositions() + " positions");
        }
        List<Tuple2<Long, int[]>> out = new ArrayList<>();
        for (long i = 0; i < a.sequences(); i++) {
            out.add(new Tuple2<>(i, null));
        }
        return out;
    }

    /** (index, tokens) given by {@code --data}, checked against the model. */
    private static List<Tuple2<Long, int[]>> given(EvaluateArgs a, LlamaConfig config, SampleAction.Sequences sequences) {
        List<Tuple2<Long, int[]>> out = new ArrayList<>();
        long i = 0;
        int min = sequences.scoredFrom() + 2;
        for (int[] tokens : sequences.tokens()) {
            if (tokens.length < min || tokens.length > config.maxPositions()) {
                throw new InvalidInputException(a.data() + ": sequence " + i + " has " + tokens.length
                        + " tokens (need " + min + ".." + config.maxPositions() + ")");
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
}
