package nibble.jobs.action;

import java.io.IOException;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import nibble.common.Crc32c;
import nibble.common.InvalidInputException;
import nibble.common.TensorInfo;
import nibble.common.model.ActivationQuant;
import nibble.common.model.LlamaConfig;
import nibble.common.model.LlamaModel;
import nibble.common.stats.ActivationAccumulator;
import nibble.common.table.Manifest;
import nibble.jobs.io.Uris;
import nibble.jobs.model.TableModels;
import nibble.jobs.spark.JobDescription;
import nibble.jobs.spark.SerializableConf;
import nibble.jobs.table.CanonicalFooterFileSystem;
import nibble.jobs.table.StatsTables;
import scala.Tuple2;

/**
 * The activation half of {@code calibrate}: calibration sequences spread over Spark partitions;
 * each partition loads the original model from the table once per JVM ({@link TableModels}) and
 * runs it over its sequences, adding every linear layer's input to an {@link ActivationAccumulator};
 * the partitions' accumulators are merged by exact addition ({@code treeReduce}), so the statistics
 * are the same for any number of partitions. The driver holds per-channel statistics, never
 * activations.
 */
final class ActivationCalibration {
    private ActivationCalibration() {
    }

    /** The calibration sequences, checked against the model, and their identity. */
    record Sequences(List<int[]> tokens, String kind, String uri, String checksum, Long seed) {
    }

    static Sequences sequences(SparkSession spark, CalibrateArgs a, Manifest m) throws IOException {
        return sequences(spark, a.input(), a.data(), a.text(), a.ctx(), a.chunks(), m);
    }

    /** The sequences of {@code data}, or the chunks of {@code text}, for the model of table {@code input}. */
    static Sequences sequences(SparkSession spark, String input, String data, String text, int ctx, int chunks, Manifest m)
            throws IOException {
        if (m.architecture() == null) {
            throw new InvalidInputException(Uris.redact(input) + ": no architecture in the manifest, so there is no model to run "
                    + "calibration data through");
        }
        LlamaConfig config = LlamaConfig.fromArchitecture(m.architecture());
        List<int[]> tokens;
        String kind;
        String uri;
        Long seed = null;
        if (text != null) {
            tokens = TextChunks.read(input, m, text, ctx, chunks, spark.sparkContext().hadoopConfiguration()).chunks();
            kind = "text";
            uri = text;
        } else {
            SampleAction.Sequences given = SampleAction.read(spark, data);
            tokens = given.tokens();
            kind = "data";
            uri = data;
            seed = given.seed();
        }
        if (tokens.isEmpty()) {
            throw new InvalidInputException(Uris.redact(uri) + ": no sequences");
        }
        for (int i = 0; i < tokens.size(); i++) {
            int[] t = tokens.get(i);
            if (t.length < 1 || t.length > config.maxPositions()) {
                throw new InvalidInputException(Uris.redact(uri) + ": sequence " + i + " has " + t.length + " tokens (need 1.."
                        + config.maxPositions() + ")");
            }
            for (int v : t) {
                if (v < 0 || v >= config.vocabSize()) {
                    throw new InvalidInputException(Uris.redact(uri) + ": sequence " + i + " holds token " + v + ", outside the vocabulary");
                }
            }
        }
        return new Sequences(tokens, kind, Uris.redact(uri), Crc32c.hex(checksum(tokens)), seed);
    }

    /** CRC-32C of each sequence's length and tokens in order, as little-endian int32. */
    static int checksum(List<int[]> sequences) {
        int crc = 0;
        for (int[] s : sequences) {
            ByteBuffer b = ByteBuffer.allocate(4 * (s.length + 1)).order(ByteOrder.LITTLE_ENDIAN);
            b.putInt(s.length);
            for (int t : s) {
                b.putInt(t);
            }
            crc = Crc32c.combine(crc, Crc32c.of(b.array()), b.capacity());
        }
        return crc;
    }

    /**
     * Runs the model over the sequences and writes the activation table into {@code dir} and, with
     * {@code --hessian}, the Hessians into {@code hessianDir}.
     */
    static CalibrateResult.Calibration run(SparkSession spark, CalibrateArgs a, Manifest m, Sequences s, String dir, String hessianDir) {
        LlamaConfig config = LlamaConfig.fromArchitecture(m.architecture());
        List<Tuple2<Long, int[]>> work = new ArrayList<>();
        for (int i = 0; i < s.tokens().size(); i++) {
            work.add(new Tuple2<>((long) i, s.tokens().get(i)));
        }
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        int partitions = a.partitions() > 0 ? a.partitions() : Math.max(1, Math.min(work.size(), 4 * jsc.defaultParallelism()));
        Task task = new Task(a.input(), new SerializableConf(spark.sparkContext().hadoopConfiguration()));
        ActivationAccumulator total = JobDescription.run(spark, "activation statistics",
                () -> jsc.parallelize(work, partitions).mapPartitions(task::run).treeReduce(ActivationAccumulator::merge));
        CalibrateResult.Hessian hessian = a.hessian()
                ? HessianCalibration.run(spark, jsc.parallelize(work, partitions), task.table(), task.conf(), config, total, hessianDir)
                : null;
        Map<String, ActivationAccumulator.InputStats> byName = new HashMap<>();
        total.measured(config.tieWordEmbeddings()).forEach(x -> byName.put(x.tensor(), x.stats()));
        List<Row> rows = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (TensorInfo t : m.tensorInfos()) {
            ActivationAccumulator.InputStats st = byName.get(t.name());
            if (st != null && t.shape().length == 2 && t.shape()[1] == st.meanSq().length) {
                rows.add(StatsTables.activationRow(t.name(), st));
            } else if (t.shape().length == 2) {
                missing.add(t.name());
            }
        }
        JobDescription.run(spark, "write activation statistics",
                () -> CanonicalFooterFileSystem.parquet(spark, spark.createDataFrame(rows, StatsTables.ACTIVATIONS).coalesce(1).write(), dir));
        return new CalibrateResult.Calibration(s.kind(), s.uri(), s.checksum(), s.seed(), total.sequences(), total.tokens(),
                rows.size(), List.copyOf(missing), hessian);
    }

    /** One partition's work: the model once per JVM, every sequence through it. */
    private record Task(String table, SerializableConf conf) implements Serializable {
        Iterator<ActivationAccumulator> run(Iterator<Tuple2<Long, int[]>> sequences) throws IOException {
            LlamaModel model = TableModels.get(table, ActivationQuant.NONE, conf.get());
            ActivationAccumulator acc = new ActivationAccumulator(model.config());
            while (sequences.hasNext()) {
                Tuple2<Long, int[]> s = sequences.next();
                acc.addSequence(model, s._2(), Uris.redact(table) + ": calibration sequence " + s._1());
            }
            return List.of(acc).iterator();
        }
    }
}
