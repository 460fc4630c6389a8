package nibble.jobs;

import java.util.List;
import java.util.Locale;
import nibble.common.table.Manifest;
import nibble.jobs.action.ShardAction;
import nibble.jobs.action.ShardArgs;
import nibble.jobs.action.ShardResult;
import nibble.jobs.cli.Console;
import nibble.jobs.cli.Options;
import nibble.jobs.io.Uris;

/** {@code nibble shard}, and its {@code spark-submit} main: flags to {@link ShardArgs}, {@link ShardAction}, a summary. */
public final class ShardJob implements Command<ShardArgs> {
    private static final Options.Spec SPEC = Options.spec("shard",
                    "Split a checkpoint into a Parquet tensor table (bit-exact), or re-shard a table.")
            .value("input", "URI", null, "safetensors file or folder, llama2.c .bin, GGUF .gguf, or a tensor table folder (required)")
            .value("output", "URI", null, "folder to write the tensor table to (required)")
            .value("target-file-mb", "MB", "128", "data per Parquet file (fractions allowed, e.g. 0.5)")
            .value("compression", "CODEC", "uncompressed", "Parquet codec: uncompressed, snappy, zstd, gzip, lz4_raw (zstd saves ~20% on BF16)")
            .flag("overwrite", "replace a table already at --output")
            .flag("allow-non-finite", "write NaN and infinite values into the table (default: refuse the first one, naming its tensor and row)");

    public static void main(String[] args) {
        Nibble.submit("shard", args);
    }

    @Override
    public Options.Spec spec() {
        return SPEC;
    }

    @Override
    public ShardArgs args(Options o) {
        return new ShardArgs(o.require("input"), o.require("output"), o.megabytes("target-file-mb"), o.get("compression"),
                o.flag("overwrite"), o.flag("allow-non-finite"));
    }

    @Override
    public String plan(ShardArgs a) {
        return "read " + Uris.redact(a.input()) + ", write a tensor table to " + Uris.redact(a.output()) + " in files of about "
                + Console.bytes(a.targetFileBytes()) + " (" + a.compression() + ")" + (a.overwrite() ? ", replacing a table there" : "")
                + (a.allowNonFinite() ? ", NaN and infinities allowed" : "");
    }

    @Override
    public void run(ShardArgs a, Console console) throws Exception {
        render(Command.onSpark("shard", console, spark -> ShardAction.execute(spark, a, console::progress)), console);
    }

    static void render(ShardResult r, Console console) {
        Manifest m = r.manifest();
        double seconds = r.elapsedNanos() / 1e9;
        long bytes = m.totalDataBytes();
        console.out().println();
        console.table(List.of("shard", ""), List.of(
                List.of("input", Uris.redact(r.args().input())),
                List.of("output", Uris.redact(r.args().output())),
                List.of("tensors", Console.count(m.tensors().size())),
                List.of("rows", Console.count(m.totalRows())),
                List.of("elements", Console.count(m.totalElements())),
                List.of("data", Console.bytes(bytes)),
                List.of("files", m.files().size() + " (" + Console.bytes(r.writtenBytes()) + ")"),
                List.of("time", String.format(Locale.ROOT, "%.1f s (%.1f MB/s)", seconds, bytes / 1e6 / seconds))));
    }
}
