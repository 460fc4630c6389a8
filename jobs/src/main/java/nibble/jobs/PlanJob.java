package nibble.jobs;

import java.util.List;
import java.util.Locale;
import nibble.common.quant.Budget;
import nibble.common.quant.Recipe;
import nibble.jobs.action.PlanAction;
import nibble.jobs.action.PlanArgs;
import nibble.jobs.action.PlanResult;
import nibble.jobs.cli.Console;
import nibble.jobs.cli.Options;
import nibble.jobs.cli.UsageException;
import nibble.jobs.io.Uris;

/** {@code nibble plan}, and its {@code spark-submit} main: flags to {@link PlanArgs}, {@link PlanAction}, a summary. */
public final class PlanJob implements Command<PlanArgs> {
    private static final Options.Spec SPEC = Options.spec("plan",
                    "Choose per tensor among the recipe's 4-bit scheme, int8 g32 and keeping it, for the smallest model whose "
                    + "summed per-tensor cost on calibration data (mean KLD, or perplexity increase) stays within --target-kld or "
                    + "--target-ppl-increase; write the choice as a recipe.")
            .value("input", "URI", null, "dense tensor table (required)")
            .value("output", "URI", null, "recipe file to write (required)")
            .value("target-kld", "X", null, "the budget: mean KLD of the quantized model against the original")
            .value("target-ppl-increase", "X", null, "the budget: perplexity increase over the original (0.05 = 5%); "
                    + "exactly one of the two targets")
            .value("recipe", "NAME|FILE", "int4-g32-mse", "base recipe: its schemes are the smallest options")
            .value("data", "URI", null, "calibration token sequences (nibble sample output, or Parquet with a tokens array<int> column)")
            .value("text", "URI", null, "calibration text (UTF-8, or Parquet with a text column), tokenized with the table's tokenizer")
            .value("ctx", "N", "512", "with --text: tokens per chunk")
            .value("chunks", "N", null, "with --text: chunks to use (default: all the text gives)")
            .value("partitions", "N", "0", "Spark partitions for the measurements (0: four per core)")
            .flag("overwrite", "replace a file already at --output");

    public static void main(String[] args) {
        Nibble.submit("plan", args);
    }

    @Override
    public Options.Spec spec() {
        return SPEC;
    }

    @Override
    public PlanArgs args(Options o) {
        if (!o.has("text") && (o.has("ctx") || o.has("chunks"))) {
            throw new UsageException("--ctx and --chunks go with --text");
        }
        String recipe = o.get("recipe");
        return new PlanArgs(o.require("input"), o.require("output"), recipe, Recipe.load(recipe), budget(o),
                o.get("data"), o.get("text"), (int) o.getLong("ctx"), EvaluateJob.chunks(o), Math.toIntExact(o.getLong("partitions")),
                o.flag("overwrite"));
    }

    private static Budget budget(Options o) {
        if (o.has("target-kld") == o.has("target-ppl-increase")) {
            throw new UsageException("give exactly one of --target-kld and --target-ppl-increase");
        }
        Budget.Metric metric = o.has("target-kld") ? Budget.Metric.KLD : Budget.Metric.PPL_INCREASE;
        double target = o.getDouble(metric.flag());
        if (!(target > 0) || Double.isInfinite(target)) {
            throw new UsageException("--" + metric.flag() + " must be a positive number");
        }
        return new Budget(metric, target);
    }

    @Override
    public String plan(PlanArgs a) {
        return "measure each matrix of " + Uris.redact(a.input()) + " quantized alone (recipe " + a.recipeName() + ", int8 g32) on "
                + Uris.redact(a.data() != null ? a.data() : a.text()) + "; write the smallest recipe within " + a.budget()
                + " to " + Uris.redact(a.output());
    }

    @Override
    public void run(PlanArgs a, Console console) throws Exception {
        PlanResult r = Command.onSpark("plan", console, spark -> PlanAction.execute(spark, a, console::progress));
        console.out().println();
        console.table(List.of("plan", ""), List.of(
                List.of("recipe", Uris.redact(a.output())),
                List.of("tensors", r.plan().count(4) + " at 4 bits, " + r.plan().count(8) + " at 8, " + r.plan().count(0) + " kept"),
                List.of("estimated " + a.budget().metric().label(), String.format(Locale.ROOT, "%.5f (target %s; all smallest %.5f)",
                        r.plan().estimated(), a.budget().target(), r.plan().smallest())),
                List.of("size", Console.bytes(r.plan().bytes()) + " (all smallest " + Console.bytes(r.smallestBytes()) + ", all int8 "
                        + Console.bytes(r.int8Bytes()) + ")"),
                List.of("calibration", r.sequences() + " sequences, " + r.tokens() + " tokens"),
                List.of("time", String.format(Locale.ROOT, "%.1f s", r.elapsedNanos() / 1e9))));
        console.out().println("check it on held-out data: nibble quantize --recipe " + Uris.redact(a.output())
                + ", then nibble evaluate --" + (a.budget().metric() == Budget.Metric.KLD ? "max-kld " : "max-ppl-increase ")
                + a.budget().target());
    }
}
