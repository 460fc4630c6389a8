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
                    "Compute per-channel and per-tensor weight statistics of a tensor table.")
            .value("input", "URI", null, "tensor table folder (required)")
            .value("output", "URI", null, "statistics folder (default: <input>/stats)")
            .value("outlier-factor", "K", "5", "a channel is an outlier when its absmax exceeds K times the tensor's median channel absmax")
            .flag("overwrite", "replace statistics already at --output");

    public static void main(String[] args) {
        Nibble.submit("calibrate", args);
    }

    @Override
    public Options.Spec spec() {
        return SPEC;
    }

    @Override
    public CalibrateArgs args(Options o) {
        return new CalibrateArgs(o.require("input"), o.get("output"), o.getDouble("outlier-factor"), o.flag("overwrite"));
    }

    @Override
    public String plan(CalibrateArgs a) {
        return "read the tensor table " + Uris.redact(a.input()) + ", write weight statistics to "
                + Uris.redact(a.output()) + " (outlier factor " + a.outlierFactor() + ")";
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
    }

    private static String fmt(String f, double v) {
        return String.format(Locale.ROOT, f, v);
    }
}
