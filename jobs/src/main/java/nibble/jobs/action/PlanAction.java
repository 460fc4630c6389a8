package nibble.jobs.action;

import java.io.IOException;
import java.io.OutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import nibble.common.InvalidInputException;
import nibble.common.TensorInfo;
import nibble.common.eval.Sensitivity;
import nibble.common.model.LlamaConfig;
import nibble.common.model.LlamaModel;
import nibble.common.model.LlamaWeights;
import nibble.common.quant.Budget;
import nibble.common.quant.BudgetPlan;
import nibble.common.quant.Granularity;
import nibble.common.quant.Importance;
import nibble.common.quant.RangeMethod;
import nibble.common.quant.RowLayout;
import nibble.common.quant.Scheme;
import nibble.common.quant.Treatment;
import nibble.common.table.Manifest;
import nibble.jobs.io.PathOverlap;
import nibble.jobs.io.Uris;
import nibble.jobs.model.TableWeights;
import nibble.jobs.spark.JobDescription;
import nibble.jobs.spark.SerializableConf;
import nibble.jobs.table.FileCommitter;
import nibble.jobs.table.TensorTable;

/**
 * {@code nibble plan}: an accuracy budget turned into a recipe. Each of the model's matrices is
 * quantized alone with each smaller-than-kept option (the base recipe's scheme, int8 g32) and the
 * model measured on the calibration sequences; the measurements, one per (tensor,
 * option), are spread over Spark tasks, each task loading the table once; each gives the option's
 * cost in the budget's unit (mean KLD or mean NLL increase, {@link Budget}). {@link BudgetPlan} then
 * chooses, and the recipe is written as one file. A measurement does not depend on the task it ran
 * in, so the recipe is the same for any number of partitions. Schemes whose search is weighted by
 * activation statistics are measured unweighted (their error is at most that) and written as the
 * base recipe has them.
 */
public final class PlanAction {
    private static final String ACTION = "plan";

    private PlanAction() {
    }

    public static PlanResult execute(SparkSession spark, PlanArgs args, Notes notes) throws IOException {
        long t0 = System.nanoTime();
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        Manifest m = TensorTable.readManifest(args.input(), conf);
        String input = Uris.redact(args.input());
        if (m.kind() != Manifest.Kind.DENSE) {
            throw new InvalidInputException(input + ": plan reads dense tables; this one is '" + m.kind().label() + "'");
        }
        ActivationCalibration.Sequences seqs = ActivationCalibration.sequences(spark, args.input(), args.data(), args.text(),
                args.ctx(), args.chunks(), m);
        Map<String, List<Treatment>> ladders = ladders(args, m);
        List<Item> work = new ArrayList<>();
        ladders.forEach((name, ladder) -> {
            for (int o = 0; o < ladder.size(); o++) {
                if (ladder.get(o) instanceof Scheme s) {
                    work.add(new Item(name, o, s.withImportance(Importance.NONE)));
                }
            }
        });
        notes.note(ACTION, work.size() + " measurements (" + ladders.size() + " tensors) on " + seqs.tokens().size()
                + " calibration sequences from " + seqs.uri());
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        int partitions = args.partitions() > 0 ? args.partitions() : Math.max(1, Math.min(work.size(), 4 * jsc.defaultParallelism()));
        Task task = new Task(args.input(), new SerializableConf(conf), new ArrayList<>(seqs.tokens()));
        List<Measured> measured = work.isEmpty() ? List.of() : JobDescription.run(spark, "per-tensor sensitivity",
                () -> jsc.parallelize(work, partitions).mapPartitions(task::run).collect());
        BudgetPlan plan = BudgetPlan.choose(tensors(m, ladders, measured, args.budget()), args.budget());
        try (FileCommitter out = FileCommitter.begin(args.output(), args.overwrite(), conf,
                PathOverlap.table("--input", args.input()))) {
            try (OutputStream os = out.create()) {
                os.write(plan.recipeJson(args.recipe(), args.recipeName()));
            }
            out.commit();
        }
        long tokens = seqs.tokens().stream().mapToLong(t -> t.length).sum();
        return new PlanResult(args, plan, bytesAt(plan, 0), int8Bytes(plan), seqs.tokens().size(), tokens, System.nanoTime() - t0);
    }

    /** Each planned matrix's options, in manifest order; schemes that need weight statistics are refused. */
    private static Map<String, List<Treatment>> ladders(PlanArgs args, Manifest m) {
        Map<String, List<Treatment>> out = new LinkedHashMap<>();
        for (TensorInfo t : m.tensorInfos()) {
            Treatment base = args.recipe().schemeFor(t.name(), t.shape());
            if (t.shape().length != 2 || base.isKeep() || !LlamaWeights.isMatrix(t.name())) {
                continue;
            }
            Scheme s = (Scheme) base;
            if (s.granularity() == Granularity.TENSOR || s.range() == RangeMethod.PERCENTILE) {
                throw new InvalidInputException("recipe '" + args.recipeName() + "': tensor '" + t.name() + "' uses a scheme that needs "
                        + "weight statistics (per-tensor or percentile ranges), which plan does not measure");
            }
            out.put(t.name(), BudgetPlan.ladder(s));
        }
        return out;
    }

    private static List<BudgetPlan.Tensor> tensors(Manifest m, Map<String, List<Treatment>> ladders, List<Measured> measured,
                                                   Budget budget) {
        Map<String, Double> cost = new HashMap<>();
        for (Measured x : measured) {
            cost.put(x.tensor() + "#" + x.option(), budget.cost(x.cost().kld(), x.cost().nllIncrease()));
        }
        List<BudgetPlan.Tensor> out = new ArrayList<>();
        for (TensorInfo t : m.tensorInfos()) {
            List<Treatment> ladder = ladders.get(t.name());
            if (ladder == null) {
                continue;
            }
            List<BudgetPlan.Option> options = new ArrayList<>();
            for (int o = 0; o < ladder.size(); o++) {
                Treatment tr = ladder.get(o);
                long bytes = tr instanceof Scheme s ? t.rows() * RowLayout.of(s, Math.toIntExact(t.rowLength())).storedBytes() : t.byteLength();
                options.add(new BudgetPlan.Option(tr, bytes, tr.isKeep() ? 0 : cost.get(t.name() + "#" + o)));
            }
            options.sort(Comparator.comparingLong(BudgetPlan.Option::bytes));
            out.add(new BudgetPlan.Tensor(t.name(), options));
        }
        return out;
    }

    private static long bytesAt(BudgetPlan plan, int option) {
        return plan.tensors().stream().mapToLong(t -> t.options().get(Math.min(option, t.options().size() - 1)).bytes()).sum();
    }

    private static long int8Bytes(BudgetPlan plan) {
        long total = 0;
        for (BudgetPlan.Tensor t : plan.tensors()) {
            total += t.options().stream().filter(o -> o.treatment() instanceof Scheme s && s.bits() == 8).mapToLong(BudgetPlan.Option::bytes)
                    .findFirst().orElse(t.options().get(t.options().size() - 1).bytes());
        }
        return total;
    }

    /** One measurement to make: {@code tensor} quantized alone with {@code scheme}, its option number {@code option}. */
    record Item(String tensor, int option, Scheme scheme) implements Serializable {
    }

    /** A measurement made. */
    record Measured(String tensor, int option, Sensitivity.Cost cost) implements Serializable {
    }

    /** The per-partition work: load the table once, score the original, then each item. */
    record Task(String input, SerializableConf conf, ArrayList<int[]> sequences) implements Serializable {
        Iterator<Measured> run(Iterator<Item> items) throws IOException {
            if (!items.hasNext()) {
                return Collections.emptyIterator();
            }
            Manifest m = TensorTable.readManifest(input, conf.get());
            LlamaConfig c = LlamaConfig.fromArchitecture(m.architecture());
            TableWeights source = TableWeights.read(input, m, conf.get());
            LlamaWeights weights = LlamaWeights.load(c, source);
            LlamaModel original = new LlamaModel(c, weights);
            List<float[][]> reference = new ArrayList<>();
            for (int[] s : sequences) {
                reference.add(original.logits(s));
            }
            Map<String, TensorInfo> infos = new HashMap<>();
            m.tensorInfos().forEach(t -> infos.put(t.name(), t));
            List<Measured> out = new ArrayList<>();
            while (items.hasNext()) {
                Item it = items.next();
                TensorInfo info = infos.get(it.tensor());
                int rows = Math.toIntExact(info.rows());
                int cols = Math.toIntExact(info.rowLength());
                float[] q = Sensitivity.roundTrip(it.tensor(), source.vector(it.tensor(), rows * cols), rows, cols, it.scheme());
                LlamaModel model = new LlamaModel(c, weights.replacing(it.tensor(), q, c));
                out.add(new Measured(it.tensor(), it.option(), Sensitivity.measure(model, sequences, reference)));
            }
            return out.iterator();
        }
    }
}
