package nibble.jobs.action;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import nibble.common.eval.NonFiniteLogitsException;
import nibble.common.InvalidInputException;
import nibble.common.json.Json;
import nibble.common.model.ActivationQuant;
import nibble.common.model.LlamaModel;
import nibble.common.model.Sampler;
import nibble.common.table.FilePlan;
import nibble.jobs.io.PathOverlap;
import nibble.jobs.io.Uris;
import nibble.jobs.model.TableModels;
import nibble.jobs.spark.SerializableConf;
import nibble.jobs.table.CanonicalFooterFileSystem;
import nibble.jobs.table.TableCommitter;
import nibble.jobs.table.TensorTable;
import nibble.common.table.Manifest;
import scala.jdk.javaapi.CollectionConverters;

/**
 * {@code sample}: token sequences sampled from a model with a seed, for models whose tokenizer is not
 * at hand, or ({@code --text}) a text tokenized with the model's tokenizer and cut into chunks by
 * llama-perplexity's protocol ({@link TextChunks}), so that text is prepared once. Writes {@code sequences/} (Parquet: {@code seq} int64, {@code tokens} array&lt;int&gt;) and
 * {@code sample.json} (model, seed, counts), which {@code evaluate --data} reads ({@link #read}). Use a
 * different seed for calibration and evaluation sequences.
 */
public final class SampleAction {
    public static final String RECORD = "sample.json";
    public static final String DIR = "sequences";
    static final String TOKENS = "tokens";
    static final String SCORED_FROM = "scored_from";
    static final StructType SCHEMA = new StructType()
            .add("seq", DataTypes.LongType, false)
            .add(TOKENS, DataTypes.createArrayType(DataTypes.IntegerType, false), false);

    private SampleAction() {
    }

    public static SampleResult execute(SparkSession spark, SampleArgs args) throws IOException {
        TextChunks text = null;
        if (args.text() != null) {
            Manifest m = TensorTable.readManifest(args.model(), spark.sparkContext().hadoopConfiguration());
            text = TextChunks.read(args.model(), m, args.text(), args.ctx(), args.chunks(), spark.sparkContext().hadoopConfiguration());
        }
        List<PathOverlap.Read> reads = new ArrayList<>(PathOverlap.table("--model", args.model()));
        if (args.text() != null) {
            reads.add(new PathOverlap.Read("--text", args.text()));
        }
        try (TableCommitter committer = TableCommitter.begin(args.output(), args.overwrite(), spark.sparkContext().hadoopConfiguration(),
                reads)) {
            List<Row> rows = text != null ? chunkRows(text) : sampledRows(spark, args);
            CanonicalFooterFileSystem.parquet(spark, spark.createDataFrame(rows, SCHEMA).coalesce(1).write(), committer.tempDir(DIR));
            Map<String, Object> record = new LinkedHashMap<>();
            record.put("format", "nibble-sequences");
            record.put("model", Uris.redact(args.model()));
            if (text != null) {
                record.put("text", Uris.redact(args.text()));
                record.put("protocol", "llama-perplexity");
                record.put("sequences", text.chunks().size());
                record.put("sequence_length", text.ctx());
                record.put(SCORED_FROM, text.scoredFrom());
                record.put("text_tokens", text.textTokens());
                record.put("bos", text.bos());
            } else {
                record.put("seed", args.seed());
                record.put("sequences", args.sequences());
                record.put("sequence_length", args.sequenceLength());
                record.put("temperature", args.temperature());
            }
            committer.commit(Map.of(DIR, List.of(new FilePlan(0, List.of()))), RECORD, files -> Json.write(record));
            return new SampleResult(args, rows.size(), text == null ? args.sequenceLength() : text.ctx());
        }
    }

    private static List<Row> chunkRows(TextChunks text) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < text.chunks().size(); i++) {
            rows.add(RowFactory.create((long) i, CollectionConverters.asScala(Arrays.stream(text.chunks().get(i)).boxed().toList()).toSeq()));
        }
        return rows;
    }

    private static List<Row> sampledRows(SparkSession spark, SampleArgs args) {
        SerializableConf conf = new SerializableConf(spark.sparkContext().hadoopConfiguration());
        String model = args.model();
        int length = args.sequenceLength();
        long seed = args.seed();
        float temperature = args.temperature();
        List<Long> ids = new ArrayList<>();
        for (long i = 0; i < args.sequences(); i++) {
            ids.add(i);
        }
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        return jsc.parallelize(ids, Math.min(args.sequences(), 4 * jsc.defaultParallelism())).mapPartitions(it -> {
            LlamaModel m = TableModels.get(model, ActivationQuant.NONE, conf.get());
            List<Row> out = new ArrayList<>();
            while (it.hasNext()) {
                long i = it.next();
                int[] tokens;
                try {
                    tokens = Sampler.sample(m, length, SequenceEval.sequenceSeed(seed, i), temperature);
                } catch (NonFiniteLogitsException e) {
                    throw SequenceEval.nonFinite(model, i, e);
                }
                out.add(RowFactory.create(i, CollectionConverters.asScala(Arrays.stream(tokens).boxed().toList()).toSeq()));
            }
            return out.iterator();
        }).collect();
    }

    /**
     * Token sequences, the first position of each whose prediction is scored (0 unless the
     * sequences are text chunks, whose {@code sample.json} says {@code scored_from}), and the seed
     * they were sampled with ({@code sample.json}'s {@code seed}; null when there is none).
     */
    public record Sequences(List<int[]> tokens, int scoredFrom, Long seed) {
    }

    /**
     * The token sequences in {@code dir}, in {@code seq} order when there is one: a folder this
     * action wrote, or any Parquet with a {@code tokens} array&lt;int&gt; column.
     */
    static Sequences read(SparkSession spark, String dir) {
        String data = dir;
        int scoredFrom = 0;
        Long seed = null;
        try {
            Path record = new Path(dir, RECORD);
            FileSystem fs = record.getFileSystem(spark.sparkContext().hadoopConfiguration());
            if (!fs.exists(new Path(dir))) {
                throw new InvalidInputException(dir + ": no such file or directory");
            }
            if (fs.exists(record)) {
                data = new Path(dir, DIR).toString();
                Map<String, Object> fields = fields(dir, fs, record);
                scoredFrom = scoredFrom(dir, fields);
                seed = fields.get("seed") instanceof Number n ? n.longValue() : null;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Dataset<Row> rows = spark.read().parquet(data);
        if (!(Arrays.asList(rows.columns()).contains(TOKENS)
                && rows.schema().apply(TOKENS).dataType() instanceof ArrayType t && t.elementType() == DataTypes.IntegerType)) {
            throw new InvalidInputException(dir + ": no '" + TOKENS + "' column of array<int> (found " + rows.schema().simpleString() + ")");
        }
        if (Arrays.asList(rows.columns()).contains("seq")) {
            rows = rows.orderBy("seq");
        }
        List<int[]> out = new ArrayList<>();
        for (Row r : rows.select(TOKENS).collectAsList()) {
            List<Integer> list = r.getList(0);
            out.add(list.stream().mapToInt(Integer::intValue).toArray());
        }
        return new Sequences(out, scoredFrom, seed);
    }

    /** The fields of a {@code sample.json}. */
    private static Map<String, Object> fields(String dir, FileSystem fs, Path record) throws IOException {
        byte[] bytes;
        try (var in = fs.open(record)) {
            bytes = in.readNBytes(1 << 20);
        }
        return Json.parseObjectToMap(bytes, dir + "/" + RECORD);
    }

    /** {@code scored_from} of a {@code sample.json}: 0 when absent. */
    private static int scoredFrom(String dir, Map<String, Object> fields) {
        Object v = fields.get(SCORED_FROM);
        if (v == null) {
            return 0;
        }
        if (!(v instanceof Integer i) || i < 0) {
            throw new InvalidInputException(dir + "/" + RECORD + ": " + SCORED_FROM + " is " + v + ", not a position");
        }
        return i;
    }
}
