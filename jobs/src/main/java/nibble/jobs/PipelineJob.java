package nibble.jobs;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import nibble.jobs.cli.Console;
import nibble.jobs.cli.Options;
import nibble.jobs.spark.Sessions;

/**
 * {@code pipeline}: every stage in one Spark application, following the registry convention
 * (docs/REGISTRY.md): a source version in, {@code <output>/table}, {@code <output>/table/stats},
 * {@code <output>/quantized} and {@code <output>/eval} out, and {@code <output>/_SUCCESS} written
 * last when the gate passes. A version that already has {@code _SUCCESS} is left alone unless
 * {@code --force}.
 */
public final class PipelineJob implements Command {
    /** The completion marker of a quantized registry version. */
    public static final String SUCCESS = "_SUCCESS";

    private static final Options.Spec SPEC = Options.spec("pipeline",
                    "Run shard, calibrate, quantize and evaluate for one model version into a registry prefix.")
            .value("input", "URI", null, "source checkpoint, e.g. s3a://registry/<model>/<version>/ (required)")
            .value("output", "URI", null, "output prefix, e.g. s3a://registry/<model>/<version>-<recipe>/ (required)")
            .value("recipe", "NAME|FILE", "int4-g128", "quantization recipe")
            .value("sequences", "N", "64", "evaluation sequences")
            .value("sequence-length", "N", "128", "tokens per evaluation sequence")
            .value("seed", "N", "1234", "evaluation seed")
            .value("max-kld", "X", null, "gate: maximum mean KL divergence")
            .value("max-ppl-increase", "X", null, "gate: maximum relative perplexity increase")
            .value("min-top1", "X", null, "gate: minimum top-1 agreement")
            .flag("force", "run even when the output is already complete");

    public static void main(String[] args) {
        Nibble.submit("pipeline", args);
    }

    @Override
    public Options.Spec spec() {
        return SPEC;
    }

    @Override
    public String plan(Options o) {
        for (String[] stage : stages(o)) {
            Command c = Nibble.command(stage[0]);
            c.plan(c.spec().parse(java.util.Arrays.copyOfRange(stage, 1, stage.length)));
        }
        return "shard " + ShardJob.redact(o.require("input")) + ", then calibrate, quantize (" + o.get("recipe") + ") and evaluate into "
                + ShardJob.redact(o.require("output")) + ", then mark it " + SUCCESS;
    }

    @Override
    public void run(Options o, Console console) throws Exception {
        plan(o);
        Configuration conf = Sessions.getOrCreate("nibble pipeline").sparkContext().hadoopConfiguration();
        Path marker = new Path(o.require("output"), SUCCESS);
        FileSystem fs = marker.getFileSystem(conf);
        if (fs.exists(marker) && !o.flag("force")) {
            console.out().println("nibble pipeline: " + ShardJob.redact(o.require("output")) + " is already complete ("
                    + SUCCESS + " present); nothing to do (pass --force to redo it)");
            return;
        }
        fs.delete(marker, false);
        for (String[] stage : stages(o)) {
            Command c = Nibble.command(stage[0]);
            console.progress("pipeline", "stage " + stage[0]);
            c.run(c.spec().parse(java.util.Arrays.copyOfRange(stage, 1, stage.length)), console);
        }
        writeMarker(fs, marker, o);
        console.out().println("pipeline done: " + ShardJob.redact(o.require("output")) + " is complete");
    }

    private static void writeMarker(FileSystem fs, Path marker, Options o) throws IOException {
        try (OutputStream out = fs.create(marker, true)) {
            out.write(("{\"input\": \"" + ShardJob.redact(o.require("input")) + "\", \"recipe\": \"" + o.get("recipe") + "\"}\n")
                    .getBytes(StandardCharsets.UTF_8));
        }
    }

    private static String[][] stages(Options o) {
        String out = o.require("output");
        String table = new Path(out, "table").toString();
        String quantized = new Path(out, "quantized").toString();
        java.util.List<String> eval = new java.util.ArrayList<>(java.util.List.of("evaluate", "--original", table,
                "--quantized", quantized, "--output", new Path(out, "eval").toString(), "--sequences", o.get("sequences"),
                "--sequence-length", o.get("sequence-length"), "--seed", o.get("seed"), "--overwrite"));
        for (String gate : new String[] {"max-kld", "max-ppl-increase", "min-top1"}) {
            if (o.get(gate) != null) {
                eval.add("--" + gate);
                eval.add(o.get(gate));
            }
        }
        return new String[][] {
            {"shard", "--input", o.require("input"), "--output", table, "--overwrite"},
            {"calibrate", "--input", table, "--overwrite"},
            {"quantize", "--input", table, "--output", quantized, "--recipe", o.get("recipe"), "--overwrite"},
            eval.toArray(new String[0])};
    }
}
