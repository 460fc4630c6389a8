package nibble.jobs.action;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.SparkSession;
import nibble.common.model.ActivationQuant;
import nibble.common.model.LlamaConfig;
import nibble.common.model.LlamaModel;
import nibble.common.stats.ActivationAccumulator;
import nibble.common.stats.HessianAccumulator;
import nibble.common.table.FilePlan;
import nibble.jobs.io.Uris;
import nibble.jobs.model.TableModels;
import nibble.jobs.spark.JobDescription;
import nibble.jobs.spark.SerializableConf;
import nibble.jobs.table.CanonicalFooterFileSystem;
import nibble.jobs.table.HessianTables;
import scala.Tuple2;

/**
 * {@code calibrate --hessian}, calibration's second pass: each input's fixed-point step comes from
 * the first pass's activation statistics ({@link HessianAccumulator#exponent}: tokens and max |x|);
 * each partition runs the model over its sequences again with a {@link HessianAccumulator} and
 * emits one exact partial {@code XᵀX} per linear input. Partials are merged by key
 * ({@code reduceByKey}: integer addition, so any grouping gives the same bits) into partition
 * {@code input}, which writes that input's Parquet file ({@link HessianTables}) from the executor.
 * The driver receives nothing but the job's end.
 */
final class HessianCalibration {
    private HessianCalibration() {
    }

    static CalibrateResult.Hessian run(SparkSession spark, JavaRDD<Tuple2<Long, int[]>> sequences, String table, SerializableConf conf,
                                       LlamaConfig config, ActivationAccumulator firstPass, String dir) {
        int inputs = firstPass.inputs();
        int[] exponents = new int[inputs];
        for (int i = 0; i < inputs; i++) {
            float max = 0;
            for (float v : firstPass.stats(i).maxAbs()) {
                max = Math.max(max, v);
            }
            exponents[i] = HessianAccumulator.exponent(firstPass.tokens(), max);
        }
        Task task = new Task(table, conf, exponents);
        JobDescription.run(spark, "Hessians", () -> CanonicalFooterFileSystem.parquet(spark, spark.createDataFrame(
                sequences.mapPartitionsToPair(task::run).reduceByKey(new ByInput(inputs), HessianAccumulator.Part::merge)
                        .values().mapPartitions(HessianCalibration::rows), HessianTables.SCHEMA).write(), dir));
        HessianAccumulator shape = new HessianAccumulator(config, exponents);
        List<CalibrateResult.HessianInput> list = new ArrayList<>();
        for (int i = 0; i < inputs; i++) {
            list.add(new CalibrateResult.HessianInput(i, HessianTables.DIR + "/" + FilePlan.fileName(i), shape.parts().get(i).channels(),
                    firstPass.tensors(i, config.tieWordEmbeddings())));
        }
        return new CalibrateResult.Hessian(firstPass.tokens(), List.copyOf(list));
    }

    private static Iterator<org.apache.spark.sql.Row> rows(Iterator<HessianAccumulator.Part> parts) {
        if (!parts.hasNext()) {
            return java.util.Collections.emptyIterator();
        }
        HessianAccumulator.Part p = parts.next();
        if (parts.hasNext()) {
            throw new IllegalStateException("two Hessians in one partition");
        }
        return HessianTables.rows(p);
    }

    /** Input {@code i} to partition {@code i}, so that file {@code part-i} holds input {@code i}. */
    private static final class ByInput extends Partitioner {
        private static final long serialVersionUID = 1L;
        private final int inputs;

        ByInput(int inputs) {
            this.inputs = inputs;
        }

        @Override
        public int numPartitions() {
            return inputs;
        }

        @Override
        public int getPartition(Object key) {
            return (Integer) key;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ByInput b && b.inputs == inputs;
        }

        @Override
        public int hashCode() {
            return inputs;
        }
    }

    /** One partition's work: the model once per JVM, every sequence through it. */
    private record Task(String table, SerializableConf conf, int[] exponents) implements Serializable {
        Iterator<Tuple2<Integer, HessianAccumulator.Part>> run(Iterator<Tuple2<Long, int[]>> sequences) throws IOException {
            LlamaModel model = TableModels.get(table, ActivationQuant.NONE, conf.get());
            HessianAccumulator h = new HessianAccumulator(model.config(), exponents);
            while (sequences.hasNext()) {
                Tuple2<Long, int[]> s = sequences.next();
                int[] tokens = s._2();
                h.reserve(tokens.length);
                model.prefill(tokens, tokens.length, h);
                h.endSequence(Uris.redact(table) + ": calibration sequence " + s._1());
            }
            List<Tuple2<Integer, HessianAccumulator.Part>> out = new ArrayList<>();
            for (HessianAccumulator.Part p : h.parts()) {
                out.add(new Tuple2<>(p.input(), p));
            }
            return out.iterator();
        }
    }
}
