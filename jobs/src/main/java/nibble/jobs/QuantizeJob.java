package nibble.jobs;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import nibble.common.quant.Recipe;
import nibble.common.table.Manifest;
import nibble.common.table.TensorEntry;
import nibble.jobs.action.QuantizeAction;
import nibble.jobs.action.QuantizeArgs;
import nibble.jobs.action.QuantizeResult;
import nibble.jobs.cli.Console;
import nibble.jobs.cli.Options;
import nibble.jobs.io.Uris;

/** {@code nibble quantize}, and its {@code spark-submit} main: flags to {@link QuantizeArgs}, {@link QuantizeAction}, a summary. */
public final class QuantizeJob implements Command<QuantizeArgs> {
    private static final Options.Spec SPEC = Options.spec("quantize",
                    "Quantize a tensor table with a recipe into a nibble-packed quantized table.")
            .value("input", "URI", null, "dense tensor table folder (required)")
            .value("output", "URI", null, "folder for the quantized table (required)")
            .value("recipe", "NAME|FILE", "int4-g128", "built-in recipe (" + String.join(", ", Recipe.BUILT_IN) + ") or a recipe JSON file")
            .value("stats", "URI", null, "statistics from calibrate, needed by percentile and per-tensor schemes (default: <input>/stats)")
            .value("target-file-mb", "MB", "128", "data per Parquet file")
            .flag("overwrite", "replace a table already at --output");

    public static void main(String[] args) {
        Nibble.submit("quantize", args);
    }

    @Override
    public Options.Spec spec() {
        return SPEC;
    }

    @Override
    public QuantizeArgs args(Options o) {
        long targetBytes = o.megabytes("target-file-mb");
        String input = o.require("input");
        String output = o.require("output");
        Uris.requireNoCredentials("--recipe", o.get("recipe"));
        return new QuantizeArgs(input, output, o.get("recipe"), Recipe.load(o.get("recipe")), o.get("stats"), targetBytes,
                o.flag("overwrite"));
    }

    @Override
    public String plan(QuantizeArgs a) {
        return "quantize the tensor table " + Uris.redact(a.input()) + " with recipe " + a.recipeName() + " (default "
                + a.recipe().defaultScheme() + "), statistics from " + Uris.redact(a.stats()) + " if the recipe needs them, write "
                + Uris.redact(a.output());
    }

    @Override
    public void run(QuantizeArgs a, Console console) throws Exception {
        render(Command.onSpark("quantize", console, spark -> QuantizeAction.execute(spark, a)), console);
    }

    /** Per tensor (or the 20 with the lowest SQNR in a large model), then the totals. */
    static void render(QuantizeResult r, Console console) {
        Manifest out = r.output();
        List<TensorEntry> shown = new ArrayList<>(out.tensors());
        boolean all = shown.size() <= 60;
        if (!all) {
            shown.removeIf(e -> e.quant().sqnrDb() == null);
            shown.sort(Comparator.comparingDouble(e -> e.quant().sqnrDb()));
            shown = shown.subList(0, Math.min(20, shown.size()));
        }
        List<List<String>> rows = new ArrayList<>();
        for (TensorEntry e : shown) {
            Double sqnr = e.quant().sqnrDb();
            rows.add(List.of(e.info().name(), e.quant().label(), String.format(Locale.ROOT, "%.2f", e.quant().bitsPerWeight()),
                    sqnr == null ? "exact" : String.format(Locale.ROOT, "%.1f", sqnr)));
        }
        long before = r.input().totalDataBytes();
        long after = out.storedBytes();
        double seconds = r.elapsedNanos() / 1e9;
        console.out().println();
        console.out().println(all ? "per tensor:" : "the 20 tensors with the lowest SQNR:");
        console.table(List.of("tensor", "scheme", "bits/weight", "SQNR dB"), rows);
        console.out().println();
        console.table(List.of("quantize", ""), List.of(
                List.of("output", Uris.redact(r.args().output())),
                List.of("tensors", out.tensors().size() + " (" + out.quantizedCount() + " quantized)"),
                List.of("size before", Console.bytes(before)),
                List.of("size after", Console.bytes(after) + String.format(Locale.ROOT, " (%.2fx smaller)", before / (double) Math.max(1, after))),
                List.of("bits/weight", String.format(Locale.ROOT, "%.3f", 8.0 * after / Math.max(1, out.totalElements()))),
                List.of("time", String.format(Locale.ROOT, "%.1f s (%.2f M params/s)", seconds, out.totalElements() / 1e6 / seconds))));
    }
}
