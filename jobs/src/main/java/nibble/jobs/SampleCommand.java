package nibble.jobs;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import nibble.common.model.ActivationQuant;
import nibble.common.model.LlamaModel;
import nibble.common.model.Sampler;
import nibble.common.table.FilePlan;
import nibble.jobs.cli.Console;
import nibble.jobs.cli.Options;
import nibble.jobs.cli.UsageException;
import nibble.jobs.model.TableModels;
import nibble.jobs.spark.SerializableConf;
import nibble.jobs.spark.Sessions;
import nibble.jobs.table.TableCommitter;

/**
 * {@code sample}: token sequences sampled from a model with a seed, for models whose tokenizer is not
 * at hand. Writes {@code sequences/} (Parquet: {@code seq} int64, {@code tokens} array&lt;int&gt;) and
 * {@code sample.json} (model, seed, counts), which {@code evaluate --data} reads. Use a different seed
 * for calibration and evaluation sequences.
 */
public final class SampleCommand implements Command {
    static final String RECORD = "sample.json";
    static final String DIR = "sequences";
    static final StructType SCHEMA = new StructType()
            .add("seq", DataTypes.LongType, false)
            .add("tokens", DataTypes.createArrayType(DataTypes.IntegerType, false), false);

    private static final Options.Spec SPEC = Options.spec("sample",
                    "Sample token sequences from a model table with a seed (evaluation or calibration data).")
            .value("model", "URI", null, "dense tensor table of the model (required)")
            .value("output", "URI", null, "folder to write (required)")
            .value("sequences", "N", "64", "number of sequences")
            .value("sequence-length", "N", "128", "tokens per sequence")
            .value("seed", "N", "1234", "seed")
            .value("temperature", "T", "1.0", "sampling temperature")
            .flag("overwrite", "replace sequences already at --output");

    @Override
    public Options.Spec spec() {
        return SPEC;
    }

    @Override
    public String plan(Options o) {
        int n = (int) o.getLong("sequences");
        int len = (int) o.getLong("sequence-length");
        if (n <= 0 || len < 2) {
            throw new UsageException("--sequences must be positive and --sequence-length at least 2");
        }
        return "sample " + n + " sequences of " + len + " tokens from " + o.require("model") + " with seed " + o.getLong("seed")
                + " into " + o.require("output");
    }

    @Override
    public void run(Options o, Console console) throws Exception {
        plan(o);
        String model = o.require("model");
        int n = (int) o.getLong("sequences");
        int length = (int) o.getLong("sequence-length");
        long seed = o.getLong("seed");
        float temperature = (float) o.getDouble("temperature");
        SparkSession spark = Sessions.getOrCreate("nibble sample");
        TableCommitter committer = TableCommitter.begin(o.require("output"), o.flag("overwrite"), spark.sparkContext().hadoopConfiguration());
        try {
            SerializableConf conf = new SerializableConf(spark.sparkContext().hadoopConfiguration());
            List<Long> ids = new ArrayList<>();
            for (long i = 0; i < n; i++) {
                ids.add(i);
            }
            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            List<Row> rows = jsc.parallelize(ids, Math.min(n, 4 * jsc.defaultParallelism())).mapPartitions(it -> {
                LlamaModel m = TableModels.get(model, ActivationQuant.NONE, conf.get());
                List<Row> out = new ArrayList<>();
                while (it.hasNext()) {
                    long i = it.next();
                    int[] tokens = Sampler.sample(m, length, SequenceEval.sequenceSeed(seed, i), temperature);
                    List<Integer> boxed = new ArrayList<>();
                    for (int t : tokens) {
                        boxed.add(t);
                    }
                    out.add(RowFactory.create(i, scala.jdk.javaapi.CollectionConverters.asScala(boxed).toSeq()));
                }
                return out.iterator();
            }).collect();
            spark.createDataFrame(rows, SCHEMA).coalesce(1).write().parquet(committer.tempDir(DIR));
            Map<String, Object> record = new LinkedHashMap<>();
            record.put("format", "nibble-sequences");
            record.put("model", ShardJob.redact(model));
            record.put("seed", seed);
            record.put("sequences", n);
            record.put("sequence_length", length);
            record.put("temperature", temperature);
            committer.commit(Map.of(DIR, List.of(new FilePlan(0, List.of()))), RECORD, files -> json(record));
        } catch (Exception | Error e) {
            committer.abort();
            throw e;
        }
        console.progress("sample", "wrote " + n + " sequences of " + length + " tokens to " + o.require("output"));
    }

    private static byte[] json(Map<String, Object> record) {
        try {
            return (new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(record) + "\n")
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
