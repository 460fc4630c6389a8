package nibble.jobs;

import java.util.List;
import java.util.Locale;
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
                    + "summed per-tensor KLD on calibration data stays within --target-kld; write the choice as a recipe.")
            .value("input", "URI", null, "dense tensor table (required)")
            .value("output", "URI", null, "recipe file to write (required)")
            .value("target-kld", "X", null, "the budget: mean KLD of the quantized model against the original (required)")
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
        return new PlanArgs(o.require("input"), o.require("output"), recipe, Recipe.load(recipe), o.getDouble("target-kld"),
                o.get("data"), o.get("text"), (int) o.getLong("ctx"), EvaluateJob.chunks(o), Math.toIntExact(o.getLong("partitions")),
                o.flag("overwrite"));
    }

    @Override
    public String plan(PlanArgs a) {
        return "measure each matrix of " + Uris.redact(a.input()) + " quantized alone (recipe " + a.recipeName() + ", int8 g32) on "
                + Uris.redact(a.data() != null ? a.data() : a.text()) + "; write the smallest recipe within mean KLD " + a.targetKld()
                + " to " + Uris.redact(a.output());
    }

    @Override
    public void run(PlanArgs a, Console console) throws Exception {
        PlanResult r = Command.onSpark("plan", console, spark -> PlanAction.execute(spark, a, console::progress));
        console.out().println();
        console.table(List.of("plan", ""), List.of(
                List.of("recipe", Uris.redact(a.output())),
                List.of("tensors", r.plan().count(4) + " at 4 bits, " + r.plan().count(8) + " at 8, " + r.plan().count(0) + " kept"),
                List.of("estimated KLD", String.format(Locale.ROOT, "%.5f (target %s; all smallest %.5f)", r.plan().estimatedKld(),
                        a.targetKld(), r.plan().smallestKld())),
                List.of("size", Console.bytes(r.plan().bytes()) + " (all smallest " + Console.bytes(r.smallestBytes()) + ", all int8 "
                        + Console.bytes(r.int8Bytes()) + ")"),
                List.of("calibration", r.sequences() + " sequences, " + r.tokens() + " tokens"),
                List.of("time", String.format(Locale.ROOT, "%.1f s", r.elapsedNanos() / 1e9))));
        console.out().println("check it on held-out data: nibble quantize --recipe " + Uris.redact(a.output())
                + ", then nibble evaluate --max-kld " + a.targetKld());
    }
}
