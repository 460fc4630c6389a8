package nibble.jobs.action;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import nibble.common.model.ActivationQuant;
import nibble.common.model.LinearInputs;
import nibble.common.model.LlamaConfig;
import nibble.common.model.LlamaModel;
import nibble.common.stats.ActivationAccumulator;
import nibble.common.stats.HessianAccumulator;
import nibble.jobs.io.Uris;
import nibble.jobs.model.TableModels;
import nibble.jobs.spark.JobDescription;
import nibble.jobs.spark.SerializableConf;
import nibble.jobs.table.HessianTables;
import scala.Tuple2;

/**
 * {@code calibrate --hessian}: each partition runs the model over its sequences once, feeding both
 * an {@link ActivationAccumulator} and a {@link HessianAccumulator}, and emits its activation
 * totals (key -1) and one exact partial {@code XᵀX} per linear input (key = input). Partials are
 * merged by key ({@code reduceByKey}, exact integer addition, so any grouping gives the same bits)
 * into partition {@code input}, which writes that input's Parquet file ({@link HessianTables}) from
 * the executor; the driver receives only the activation totals.
 */
final class HessianCalibration {
    private HessianCalibration() {
    }

    record Result(ActivationAccumulator activations, CalibrateResult.Hessian hessian) {
    }

    static Result run(SparkSession spark, JavaRDD<Tuple2<Long, int[]>> sequences, String table, SerializableConf conf,
                      LlamaConfig config, String dir) {
        HessianAccumulator shape = new HessianAccumulator(config);
        int inputs = shape.inputs();
        Task task = new Task(table, conf);
        JavaPairRDD<Integer, Object> merged = sequences.mapPartitionsToPair(task::run)
                .reduceByKey(new ByInput(inputs), HessianCalibration::merge)
                .persist(StorageLevel.DISK_ONLY()); // the merged totals (16 bytes per entry) stay off the heap between the two jobs
        try {
            ActivationAccumulator total = JobDescription.run(spark, "activation statistics and Hessians",
                    () -> (ActivationAccumulator) merged.filter(t -> t._1() < 0).values().collect().get(0));
            JobDescription.run(spark, "write Hessians", () -> spark.createDataFrame(
                    merged.filter(t -> t._1() >= 0).values().mapPartitions(HessianCalibration::rows), HessianTables.SCHEMA)
                    .write().parquet(dir));
            List<CalibrateResult.HessianInput> list = new ArrayList<>();
            for (int i = 0; i < inputs; i++) {
                list.add(new CalibrateResult.HessianInput(i, HessianTables.DIR + "/" + nibble.common.table.FilePlan.fileName(i),
                        shape.parts().get(i).channels(), total.tensors(i, config.tieWordEmbeddings())));
            }
            return new Result(total, new CalibrateResult.Hessian(total.tokens(), List.copyOf(list)));
        } finally {
            merged.unpersist(false);
        }
    }

    private static Iterator<org.apache.spark.sql.Row> rows(Iterator<Object> parts) {
        if (!parts.hasNext()) {
            return java.util.Collections.emptyIterator();
        }
        HessianAccumulator.Part p = (HessianAccumulator.Part) parts.next();
        if (parts.hasNext()) {
            throw new IllegalStateException("two Hessians in one partition");
        }
        return HessianTables.rows(p);
    }

    private static Object merge(Object a, Object b) {
        if (a instanceof ActivationAccumulator x) {
            return x.merge((ActivationAccumulator) b);
        }
        return ((HessianAccumulator.Part) a).merge((HessianAccumulator.Part) b);
    }

    /** Input {@code i} to partition {@code i}; the activation totals (key -1) to the last. */
    private static final class ByInput extends Partitioner {
        private static final long serialVersionUID = 1L;
        private final int inputs;

        ByInput(int inputs) {
            this.inputs = inputs;
        }

        @Override
        public int numPartitions() {
            return inputs + 1;
        }

        @Override
        public int getPartition(Object key) {
            int k = (Integer) key;
            return k < 0 ? inputs : k;
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

    /** One partition's work: the model once per JVM, every sequence through it with both observers. */
    private record Task(String table, SerializableConf conf) implements Serializable {
        Iterator<Tuple2<Integer, Object>> run(Iterator<Tuple2<Long, int[]>> sequences) throws IOException {
            LlamaModel model = TableModels.get(table, ActivationQuant.NONE, conf.get());
            ActivationAccumulator acc = new ActivationAccumulator(model.config());
            HessianAccumulator h = new HessianAccumulator(model.config());
            LinearInputs both = (layer, site, x, n) -> {
                acc.observe(layer, site, x, n);
                h.observe(layer, site, x, n);
            };
            while (sequences.hasNext()) {
                Tuple2<Long, int[]> s = sequences.next();
                String what = Uris.redact(table) + ": calibration sequence " + s._1();
                int[] tokens = s._2();
                h.reserve(tokens.length);
                var cache = model.newCache(Math.max(1, tokens.length));
                for (int p = 0; p < tokens.length; p++) {
                    model.forward(tokens[p], p, cache, both);
                }
                acc.endSequence(what);
                h.endSequence(what);
            }
            List<Tuple2<Integer, Object>> out = new ArrayList<>();
            out.add(new Tuple2<>(-1, acc));
            for (HessianAccumulator.Part p : h.parts()) {
                out.add(new Tuple2<>(p.input(), p));
            }
            return out.iterator();
        }
    }
}
