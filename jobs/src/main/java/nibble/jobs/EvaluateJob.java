package nibble.jobs;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import nibble.common.eval.Estimate;
import nibble.common.eval.Summary;
import nibble.common.model.ActivationQuant;
import nibble.common.report.EvalReport;
import nibble.common.report.Gate;
import nibble.common.report.ModelLevel;
import nibble.common.report.TensorError;
import nibble.jobs.action.EvaluateAction;
import nibble.jobs.action.EvaluateArgs;
import nibble.jobs.action.EvaluateResult;
import nibble.jobs.cli.Console;
import nibble.jobs.cli.Options;
import nibble.jobs.cli.UsageException;
import nibble.jobs.io.Uris;

/**
 * {@code nibble evaluate}, and its {@code spark-submit} main: flags to {@link EvaluateArgs},
 * {@link EvaluateAction}, a summary, and exit code 4 when the gate failed.
 */
public final class EvaluateJob implements Command<EvaluateArgs> {
    private static final Options.Spec SPEC = Options.spec("evaluate",
                    "Compare a quantized table with its original: tensor errors and model-level accuracy, with a gate.")
            .value("original", "URI", null, "dense tensor table (required)")
            .value("quantized", "URI", null, "quantized table made from it (required)")
            .value("output", "URI", null, "folder for the report (required)")
            .value("data", "URI", null, "evaluation token sequences: Parquet with a 'tokens' array<int> column (default: sample them)")
            .value("text", "URI", null, "evaluation text (UTF-8, or Parquet with a 'text' column), scored by llama-perplexity's"
                    + " protocol with the table's tokenizer; excludes --data")
            .value("ctx", "N", "512", "with --text: tokens per chunk (each chunk is scored on its second half)")
            .value("chunks", "N", null, "with --text: chunks to score (default: all the text gives)")
            .value("sequences", "N", "64", "sequences to sample when no --data")
            .value("sequence-length", "N", "128", "tokens per sampled sequence")
            .value("seed", "N", "1234", "evaluation seed for sampling (must differ from any calibration seed)")
            .value("temperature", "T", "1.0", "sampling temperature")
            .value("partitions", "N", "0", "Spark partitions for the sequences (0: four per core)")
            .value("activations", "MODE", "none", "none; int8-dynamic to quantize every linear layer's input per token (W4A8); q8_0 to round quantized layers' inputs to Q8_0 blocks as llama.cpp does")
            .value("max-kld", "X", null, "gate: fail when the mean KL divergence exceeds X")
            .value("max-ppl-increase", "X", null, "gate: fail when perplexity grows by more than X (0.05 = 5%)")
            .value("min-top1", "X", null, "gate: fail when top-1 agreement is below X")
            .flag("overwrite", "replace a report already at --output");

    public static void main(String[] args) {
        Nibble.submit("evaluate", args);
    }

    @Override
    public Options.Spec spec() {
        return SPEC;
    }

    @Override
    public EvaluateArgs args(Options o) {
        ActivationQuant activations = ActivationQuant.ofLabel(o.get("activations"));
        if (activations == null) {
            throw new UsageException("--activations must be none, int8-dynamic or q8_0");
        }
        checkTextOptions(o);
        return new EvaluateArgs(o.require("original"), o.require("quantized"), o.require("output"), o.get("data"),
                (int) o.getLong("sequences"), (int) o.getLong("sequence-length"), o.getLong("seed"), (float) o.getDouble("temperature"),
                activations, gate(o), (int) o.getLong("partitions"), o.flag("overwrite"), o.get("text"), (int) o.getLong("ctx"),
                chunks(o));
    }

    /**
     * The flags that go with {@code --text} and those that go without it: {@code --ctx} and
     * {@code --chunks} only with it, the sampling flags only without it.
     */
    static void checkTextOptions(Options o) {
        if (!o.has("text") && (o.has("ctx") || o.has("chunks"))) {
            throw new UsageException("--ctx and --chunks go with --text");
        }
        if (o.has("text")) {
            for (String sampling : List.of("sequences", "sequence-length", "seed", "temperature")) {
                if (o.has(sampling)) {
                    throw new UsageException("--" + sampling + " does not go with --text (the text gives the sequences)");
                }
            }
        }
    }

    /** {@code --chunks}: 0 (all) when absent. */
    static int chunks(Options o) {
        if (o.get("chunks") == null) {
            return 0;
        }
        long n = o.getLong("chunks");
        if (n <= 0 || n > Integer.MAX_VALUE) {
            throw new UsageException("--chunks must be positive (default: all)");
        }
        return (int) n;
    }

    /** The gate thresholds given by {@code --max-kld}, {@code --max-ppl-increase} and {@code --min-top1}. */
    static Gate.Thresholds gate(Options o) {
        try {
            return new Gate.Thresholds(optional(o, "max-kld"), optional(o, "max-ppl-increase"), optional(o, "min-top1"));
        } catch (IllegalArgumentException e) {
            // "max_kld must be a non-negative number, got -1.0": name the flag, as every other option check does
            throw new UsageException("--" + e.getMessage().replace('_', '-'));
        }
    }

    private static Double optional(Options o, String name) {
        return o.get(name) == null ? null : o.getDouble(name);
    }

    @Override
    public String plan(EvaluateArgs a) {
        return "compare " + Uris.redact(a.quantized()) + " with " + Uris.redact(a.original()) + " on "
                + (a.text() != null ? (a.chunks() > 0 ? "at most " + a.chunks() : "all") + " chunks of " + a.ctx()
                        + " tokens of " + Uris.redact(a.text()) + " (llama-perplexity's protocol)"
                        : a.data() != null ? "the sequences in " + Uris.redact(a.data())
                        : a.sequences() + " sampled sequences of " + a.sequenceLength() + " tokens (seed " + a.seed() + ")")
                + ", write the report to " + Uris.redact(a.output()) + "; gate " + a.gate();
    }

    @Override
    public void run(EvaluateArgs a, Console console) throws Exception {
        EvaluateResult r = Command.onSpark("evaluate", console, spark -> EvaluateAction.execute(spark, a, console::progress));
        render(r, console);
        requirePassed(r);
    }

    /** Throws the launcher's exit 4 when the gate failed. */
    static void requirePassed(EvaluateResult r) {
        if (!r.passed()) {
            throw new GateException(String.join("; ", r.report().gate().failures()) + " (report in " + Uris.redact(r.args().output()) + ")");
        }
    }

    static void render(EvaluateResult r, Console console) {
        EvalReport report = r.report();
        if (report.model() != null) {
            console.progress("evaluate", String.format(Locale.ROOT, "model-level seconds %.2f: %d sequences, %d tokens, %.0f tokens/s",
                    r.modelSeconds(), report.model().summary().sequences(), r.tokens(), r.tokens() / r.modelSeconds()));
        }
        List<List<String>> rows = new ArrayList<>();
        double worst = Double.POSITIVE_INFINITY;
        for (TensorError t : report.tensors()) {
            if (t.sqnrDb() != null) {
                worst = Math.min(worst, t.sqnrDb());
            }
        }
        rows.add(List.of("tensors", Console.count(report.tensors().size()), "lowest SQNR " + (Double.isInfinite(worst) ? "exact" : fmt("%.1f dB", worst))));
        ModelLevel m = report.model();
        if (m != null) {
            Summary s = m.summary();
            if (m.text() != null) {
                rows.add(List.of("chunks", Console.count(s.sequences()), "of " + m.text().ctx() + " tokens, " + Console.count(s.tokens())
                        + " scored (second halves), " + Console.count(m.text().textTokens()) + " in the text"));
            } else {
                rows.add(List.of("sequences", Console.count(s.sequences()), Console.count(s.tokens()) + " tokens, seed " + m.seed()));
            }
            rows.add(List.of("perplexity", fmt("%.4f", s.perplexityP().mean()) + " -> " + fmt("%.4f", s.perplexityQ().mean()),
                    fmt("ratio %.4f", m.perplexityRatio())));
            rows.add(List.of("mean KLD", fmt("%.5f", s.kl().mean()), ci(s.kl())));
            rows.add(List.of("top-1 agreement", fmt("%.4f", s.top1Agreement().mean()), ci(s.top1Agreement())));
        }
        rows.add(List.of("gate", report.gate().passed() ? "PASS" : "FAIL", String.join("; ", report.gate().failures())));
        console.out().println();
        console.table(List.of("evaluate", "", ""), rows);
        console.out().println("report: " + Uris.redact(r.args().output()) + "/report.{json,md,html}");
    }

    private static String ci(Estimate e) {
        return "95% CI [" + fmt("%.5f", e.low()) + ", " + fmt("%.5f", e.high()) + "]";
    }

    private static String fmt(String f, double v) {
        return String.format(Locale.ROOT, f, v);
    }
}
