package nibble.jobs;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import nibble.common.format.GgufExport;
import nibble.jobs.action.ExportAction;
import nibble.jobs.action.ExportArgs;
import nibble.jobs.action.ExportResult;
import nibble.jobs.cli.Console;
import nibble.jobs.cli.Options;
import nibble.jobs.io.Uris;

/** {@code nibble export}, and its {@code spark-submit} main: flags to {@link ExportArgs}, {@link ExportAction}. */
public final class ExportJob implements Command<ExportArgs> {
    private static final Options.Spec SPEC = Options.spec("export",
                    "Write a tensor table (quantized or dense) as a GGUF file for llama.cpp.")
            .value("input", "URI", null, "tensor table (required)")
            .value("output", "URI", null, "GGUF file to write (required)")
            .value("format", "NAME", ExportArgs.GGUF, "output format (gguf)")
            .flag("strict", "refuse tensors that no GGUF type stores unchanged instead of re-quantizing them")
            .flag("overwrite", "replace a file already at --output");

    public static void main(String[] args) {
        Nibble.submit("export", args);
    }

    @Override
    public Options.Spec spec() {
        return SPEC;
    }

    @Override
    public ExportArgs args(Options o) {
        return new ExportArgs(o.require("input"), o.require("output"), o.get("format"), o.flag("strict"), o.flag("overwrite"));
    }

    @Override
    public String plan(ExportArgs a) {
        return "export " + Uris.redact(a.input()) + " as " + a.format() + " to " + Uris.redact(a.output()) + (a.strict() ? " (strict)" : "");
    }

    @Override
    public void run(ExportArgs a, Console console) throws Exception {
        ExportResult r = Command.onSpark("export", console, spark -> ExportAction.execute(spark, a, console::progress));
        double seconds = r.elapsedNanos() / 1e9;
        console.out().println();
        console.table(List.of("export", ""), List.of(
                List.of("output", Uris.redact(a.output())),
                List.of("tensors", r.tensors().size() + " (" + typeCounts(r) + ")"),
                List.of("values", carried(r)),
                List.of("size", Console.bytes(r.bytes())),
                List.of("time", String.format(Locale.ROOT, "%.1f s (%.1f MB/s)", seconds, r.bytes() / 1e6 / seconds))));
    }

    private static String typeCounts(ExportResult r) {
        Map<String, Long> n = new TreeMap<>();
        r.tensors().forEach(t -> n.merge(t.type().name(), 1L, Long::sum));
        StringBuilder b = new StringBuilder();
        n.forEach((k, v) -> b.append(b.length() == 0 ? "" : ", ").append(v).append(' ').append(k));
        return b.toString();
    }

    private static String carried(ExportResult r) {
        StringBuilder b = new StringBuilder();
        for (GgufExport.Carry c : GgufExport.Carry.values()) {
            long n = r.count(c);
            if (n > 0) {
                b.append(b.length() == 0 ? "" : ", ").append(n).append(' ').append(c.name().toLowerCase(Locale.ROOT));
            }
        }
        return b.toString();
    }
}
