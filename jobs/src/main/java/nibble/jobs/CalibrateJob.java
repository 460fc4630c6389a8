package nibble.jobs;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import nibble.common.TensorInfo;
import nibble.common.stats.TensorStats;
import nibble.jobs.action.CalibrateAction;
import nibble.jobs.action.CalibrateArgs;
import nibble.jobs.action.CalibrateResult;
import nibble.jobs.cli.Console;
import nibble.jobs.cli.Options;
import nibble.jobs.io.Uris;

/** {@code nibble calibrate}, and its {@code spark-submit} main: flags to {@link CalibrateArgs}, {@link CalibrateAction}, a summary. */
public final class CalibrateJob implements Command<CalibrateArgs> {
    private static final Options.Spec SPEC = Options.spec("calibrate",
                    "Compute per-channel and per-tensor weight statistics of a tensor table; with --data or --text, also "
                    + "per-channel statistics of every linear layer's input, running the model over calibration sequences.")
            .value("input", "URI", null, "tensor table folder (required)")
            .value("output", "URI", null, "statistics folder (default: <input>/stats)")
            .value("outlier-factor", "K", "5", "a channel is an outlier when its absmax exceeds K times the tensor's median channel absmax")
            .value("data", "URI", null, "calibration token sequences (nibble sample output, or Parquet with a tokens array<int> column)")
            .value("text", "URI", null, "calibration text (UTF-8, or Parquet with a text column), tokenized with the table's tokenizer")
            .value("ctx", "N", "512", "with --text: tokens per chunk")
            .value("chunks", "N", null, "with --text: chunks to use (default: all the text gives)")
            .value("partitions", "N", "0", "Spark partitions for the calibration sequences (0: four per core)")
            .flag("overwrite", "replace statistics already at --output")
            .flag("hessian", "with --data or --text: also XᵀX of every linear layer's input (for GPTQ recipes such as int4-g32-gptq)");

    public static void main(String[] args) {
        Nibble.submit("calibrate", args);
    }

    @Override
    public Options.Spec spec() {
        return SPEC;
    }

    @Override
    public CalibrateArgs args(Options o) {
        if (!o.has("text") && (o.has("ctx") || o.has("chunks"))) {
            throw new nibble.jobs.cli.UsageException("--ctx and --chunks go with --text");
        }
        long partitions = o.getLong("partitions");
        if (partitions > Integer.MAX_VALUE) {
            throw new nibble.jobs.cli.UsageException("--partitions is too large");
        }
        return new CalibrateArgs(o.require("input"), o.get("output"), o.getDouble("outlier-factor"), o.flag("overwrite"),
                o.get("data"), o.get("text"), (int) o.getLong("ctx"), EvaluateJob.chunks(o), (int) partitions,
                o.flag("hessian"));
    }

    @Override
    public String plan(CalibrateArgs a) {
        String activations = a.data() != null ? "; run the model over the sequences in " + Uris.redact(a.data())
                + " and write activation statistics"
                : a.text() != null ? "; run the model over " + (a.chunks() > 0 ? "at most " + a.chunks() : "all") + " chunks of "
                + a.ctx() + " tokens of " + Uris.redact(a.text()) + " and write activation statistics" : "";
        if (a.hessian()) {
            activations += " and the Hessian (XᵀX) of every linear input";
        }
        return "read the tensor table " + Uris.redact(a.input()) + ", write weight statistics to "
                + Uris.redact(a.output()) + " (outlier factor " + a.outlierFactor() + ")" + activations;
    }

    @Override
    public void run(CalibrateArgs a, Console console) throws Exception {
        render(Command.onSpark("calibrate", console, spark -> CalibrateAction.execute(spark, a)), console);
    }

    /** The ten tensors with the heaviest-tailed channels. */
    static void render(CalibrateResult r, Console console) {
        List<TensorInfo> sorted = new ArrayList<>(r.tensors());
        sorted.removeIf(t -> !r.stats().containsKey(t.name()));
        sorted.sort(Comparator.comparingDouble((TensorInfo t) -> -r.stats().get(t.name()).maxChannelKurtosis()));
        List<List<String>> rows = new ArrayList<>();
        for (TensorInfo t : sorted.subList(0, Math.min(10, sorted.size()))) {
            TensorStats s = r.stats().get(t.name());
            rows.add(List.of(t.name(), fmt("%.4g", s.absMax()), fmt("%.4g", s.std()),
                    fmt("%.1f", s.maxChannelKurtosis()), s.outlierChannels().length + "/" + s.channels()));
        }
        console.out().println();
        console.out().println("statistics in " + r.args().output() + " (" + r.tensors().size()
                + " tensors; the 10 with the heaviest-tailed channels):");
        console.table(List.of("tensor", "absmax", "std", "max kurtosis", "outlier channels"), rows);
        if (r.calibration() != null) {
            console.out().println("activation statistics of " + r.calibration().measured() + " tensors from "
                    + Console.count(r.calibration().sequences()) + " sequences, " + Console.count(r.calibration().tokens())
                    + " tokens (" + r.calibration().missing().size() + " 2-D tensors not reached)");
        }
    }

    private static String fmt(String f, double v) {
        return String.format(Locale.ROOT, f, v);
    }
}
