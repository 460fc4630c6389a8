package nibble.jobs.action;

import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.HashPartitioner;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import nibble.common.DType;
import nibble.common.Floats;
import nibble.common.InvalidInputException;
import nibble.common.model.LlamaConfig;
import nibble.common.quant.Awq;
import nibble.common.quant.AwqFolds;
import nibble.common.quant.Importance;
import nibble.common.quant.Quantizer;
import nibble.common.quant.Scheme;
import nibble.common.quant.Treatment;
import nibble.jobs.spark.JobDescription;
import nibble.jobs.table.StatsTables;
import nibble.jobs.table.TensorTable;
import scala.Tuple2;

/**
 * The Spark part of AWQ in {@code quantize}: one task per scale group ({@link AwqFolds.Group}) gathers
 * the group's matrices from the dense table and searches its scales ({@link Awq#search}); the driver
 * gets the scales (a few thousand floats per layer), turns them into each changed tensor's fold
 * ({@link AwqFolds#folds}), which {@link RowQuantizer} applies to rows before quantizing them, and
 * into the record written to the manifest's {@code source.awq}. Each group's result depends only on
 * its matrices and statistics, so it does not depend on how the table is split.
 */
final class AwqScales {
    private AwqScales() {
    }

    /** The outcome: the folds by tensor, the importance to quantize with after scaling, the manifest record. */
    record Plan(HashMap<String, AwqFolds.TensorFold> folds, HashMap<String, double[]> importance, Map<String, Object> record) {
    }

    /** A row of a group's matrix, on its way to the group's task. */
    private record Part(int tensor, long row, float[] values) implements Serializable {
    }

    /**
     * Searches the scales of every scale group whose matrices are quantized with activation
     * importance; {@code meanSq} is those tensors' activation mean x² (from {@code quantize}'s
     * importance lookup), the mean |x| is read from the statistics folder's activation table.
     */
    static Plan plan(SparkSession spark, Dataset<Row> rows, String input, Map<String, Object> architecture,
                     Map<String, Treatment> treatments, Awq.Options options, String statsDir, HashMap<String, double[]> meanSq) {
        LlamaConfig config;
        try {
            config = LlamaConfig.fromArchitecture(architecture);
        } catch (InvalidInputException e) {
            throw new InvalidInputException(input + ": the recipe's awq scaling needs a Llama model: " + e.getMessage(), e);
        }
        List<AwqFolds.Group> groups = AwqFolds.groups(config, t -> treatments.get(t) instanceof Scheme s
                && s.importance() == Importance.ACTIVATIONS && meanSq.containsKey(t));
        HashMap<String, double[]> meanAbs = readMeanAbs(spark, statsDir);
        for (AwqFolds.Group g : groups) {
            if (!meanAbs.containsKey(g.statsTensor()) || meanAbs.get(g.statsTensor()).length != g.columns()) {
                throw new InvalidInputException(statsDir + ": no activation mean |x| of " + g.columns() + " channels for tensor '"
                        + g.statsTensor() + "' of " + input);
            }
        }
        HashMap<String, int[]> slot = new HashMap<>(); // tensor -> {group, index in group}
        for (int i = 0; i < groups.size(); i++) {
            for (int j = 0; j < groups.get(i).tensors().size(); j++) {
                slot.put(groups.get(i).tensors().get(j), new int[] {i, j});
            }
        }
        List<Awq.Choice> choices = new ArrayList<>();
        if (!groups.isEmpty()) {
            Map<Integer, Awq.Choice> byGroup = JobDescription.run(spark, "awq scale search",
                    () -> search(spark, rows, input, groups, slot, treatments, options, meanAbs, meanSq));
            for (int i = 0; i < groups.size(); i++) {
                choices.add(byGroup.get(i));
            }
        }
        List<float[]> scales = new ArrayList<>();
        choices.forEach(c -> scales.add(c.scales()));
        HashMap<String, AwqFolds.TensorFold> folds = new HashMap<>(AwqFolds.folds(groups, scales));
        HashMap<String, double[]> importance = new HashMap<>(meanSq);
        folds.forEach((t, f) -> {
            if (f.columnScale() != null) {
                importance.put(t, Awq.scaledImportance(meanSq.get(t), f.columnScale()));
            }
        });
        return new Plan(folds, importance, record(options, groups, choices));
    }

    private static Map<Integer, Awq.Choice> search(SparkSession spark, Dataset<Row> rows, String input, List<AwqFolds.Group> groups,
                                                   HashMap<String, int[]> slot, Map<String, Treatment> treatments, Awq.Options options,
                                                   HashMap<String, double[]> meanAbs, HashMap<String, double[]> meanSq) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        int partitions = Math.max(1, Math.min(groups.size(), 4 * jsc.defaultParallelism()));
        HashMap<String, Treatment> schemes = new HashMap<>(treatments);
        return rows.javaRDD()
                .filter(r -> slot.containsKey(TensorTable.tensor(r)))
                .mapToPair(r -> {
                    String tensor = TensorTable.tensor(r);
                    long row = TensorTable.row(r);
                    float[] v = Floats.decode(TensorTable.data(r), DType.parse(TensorTable.dtype(r), tensor), "tensor '" + tensor + "' row " + row);
                    try {
                        Quantizer.requireFinite(tensor, row, v);
                    } catch (InvalidInputException e) {
                        throw new InvalidInputException(input + ": " + e.getMessage(), e);
                    }
                    int[] s = slot.get(tensor);
                    return new Tuple2<>(s[0], new Part(s[1], row, v));
                })
                .groupByKey(new HashPartitioner(partitions))
                .mapToPair(e -> new Tuple2<>(e._1(), choose(groups.get(e._1()), e._2(), schemes, options, meanAbs, meanSq)))
                .collectAsMap();
    }

    /** One group's task: its matrices assembled by row number, then the search. */
    private static Awq.Choice choose(AwqFolds.Group g, Iterable<Part> parts, Map<String, Treatment> schemes, Awq.Options options,
                                     HashMap<String, double[]> meanAbs, HashMap<String, double[]> meanSq) {
        int cols = g.columns();
        float[][] matrices = new float[g.tensors().size()][];
        long[] filled = new long[matrices.length];
        for (Part p : parts) {
            if (p.values().length != cols) {
                throw new InvalidInputException("tensor '" + g.tensors().get(p.tensor()) + "' row " + p.row() + " has " + p.values().length
                        + " values, expected " + cols);
            }
            if (matrices[p.tensor()] == null) {
                matrices[p.tensor()] = new float[0];
            }
            int need = (int) ((p.row() + 1) * cols);
            if (matrices[p.tensor()].length < need) {
                matrices[p.tensor()] = java.util.Arrays.copyOf(matrices[p.tensor()], Math.max(need, 2 * matrices[p.tensor()].length));
            }
            System.arraycopy(p.values(), 0, matrices[p.tensor()], (int) (p.row() * cols), cols);
            filled[p.tensor()] = Math.max(filled[p.tensor()], p.row() + 1);
        }
        for (int i = 0; i < matrices.length; i++) {
            matrices[i] = java.util.Arrays.copyOf(matrices[i] == null ? new float[0] : matrices[i], (int) (filled[i] * cols));
        }
        Scheme scheme = (Scheme) schemes.get(g.tensors().get(0));
        return Awq.search(matrices, cols, g.scaleMagnitudes(meanAbs.get(g.statsTensor())), meanSq.get(g.statsTensor()), g.channelOf(),
                scheme, options);
    }

    private static HashMap<String, double[]> readMeanAbs(SparkSession spark, String statsDir) {
        HashMap<String, double[]> out = new HashMap<>();
        for (Row r : spark.read().schema(StatsTables.ACTIVATIONS).parquet(new Path(statsDir, StatsTables.ACTIVATIONS_DIR).toString())
                .select("tensor", "mean_abs").collectAsList()) {
            List<Double> a = r.getList(1);
            double[] w = new double[a.size()];
            for (int i = 0; i < w.length; i++) {
                w[i] = a.get(i);
            }
            out.put(r.getString(0), w);
        }
        return out;
    }

    /** {@code source.awq} of the manifest: the settings and, per group, what was scaled, where the division went, alpha, scales. */
    private static Map<String, Object> record(Awq.Options options, List<AwqFolds.Group> groups, List<Awq.Choice> choices) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("grid", options.grid());
        out.put("error", "diagonal");
        out.put("magnitude", "mean_abs");
        List<Object> list = new ArrayList<>();
        for (int i = 0; i < groups.size(); i++) {
            AwqFolds.Group g = groups.get(i);
            Awq.Choice c = choices.get(i);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("layer", g.layer());
            m.put("input", g.site().label());
            m.put("tensors", g.tensors());
            m.put("folded_into", g.foldInto());
            m.put("fold", g.foldIntoRows() ? "rows" : "elements");
            m.put("alpha", c.alpha());
            m.put("error", c.error());
            m.put("error_unscaled", c.unscaledError());
            ByteBuffer b = ByteBuffer.allocate(4 * c.scales().length).order(ByteOrder.LITTLE_ENDIAN);
            for (float s : c.scales()) {
                b.putFloat(s);
            }
            m.put("scales_f32_base64", Base64.getEncoder().encodeToString(b.array()));
            list.add(m);
        }
        out.put("groups", list);
        return out;
    }
}
