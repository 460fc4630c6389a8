package nibble.jobs;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import nibble.common.DType;
import nibble.common.synth.SyntheticCheckpoint;
import nibble.jobs.cli.Console;
import nibble.jobs.cli.Options;

/**
 * {@code demo}: the whole pipeline on an embedded default. Without {@code --model} it makes a small
 * synthetic checkpoint; with one (e.g. {@code ../shared/models/stories260K.bin}) it runs on that.
 */
public final class Demo implements Command {
    private static final Options.Spec SPEC = Options.spec("demo",
                    "Run every stage on a small synthetic checkpoint (or --model) in local mode and summarize.")
            .value("model", "URI", null, "checkpoint to use instead of a synthetic one")
            .value("work", "DIR", "nibble-demo", "folder for the demo's outputs (replaced on each run)")
            .value("preset", "NAME", "demo", "synthetic checkpoint size when no --model: tiny, demo, bench-2g")
            .value("recipe", "NAME|FILE", "int4-g32-mse", "quantization recipe")
            .value("sequences", "N", "16", "evaluation sequences")
            .value("sequence-length", "N", "64", "tokens per evaluation sequence");

    @Override
    public Options.Spec spec() {
        return SPEC;
    }

    @Override
    public String plan(Options o) {
        return "run every stage on " + (o.get("model") != null ? o.get("model") : "a synthetic '" + o.get("preset") + "' checkpoint")
                + " in " + Path.of(o.get("work")).toAbsolutePath();
    }

    @Override
    public void run(Options o, Console console) throws Exception {
        Path work = Path.of(o.get("work")).toAbsolutePath();
        Files.createDirectories(work);
        String model = o.get("model");
        if (model == null) {
            Path ckpt = work.resolve("checkpoint");
            deleteTree(ckpt);
            console.progress("demo", "making a synthetic '" + o.get("preset") + "' checkpoint in " + ckpt);
            SyntheticCheckpoint.write(ckpt, SynthCommand.spec(o.get("preset"), DType.F32, 42), 0);
            model = ckpt.toString();
        }
        String table = work.resolve("table").toString();
        String quantized = work.resolve("quantized").toString();
        String eval = work.resolve("eval").toString();
        stage(new ShardJob(), console, "--input", model, "--output", table, "--overwrite");
        stage(new CalibrateJob(), console, "--input", table, "--overwrite");
        stage(new QuantizeJob(), console, "--input", table, "--output", quantized, "--recipe", o.get("recipe"), "--overwrite");
        stage(new EvaluateJob(), console, "--original", table, "--quantized", quantized, "--output", eval,
                "--sequences", o.get("sequences"), "--sequence-length", o.get("sequence-length"), "--overwrite");
        console.out().println();
        console.out().println("demo done: table " + table + ", statistics " + table + "/stats, quantized table " + quantized
                + ", report " + eval + "/report.html");
    }

    private static void stage(Command c, Console console, String... args) throws Exception {
        c.run(c.spec().parse(args), console);
    }

    private static void deleteTree(Path p) throws java.io.IOException {
        if (!Files.exists(p)) {
            return;
        }
        List<Path> all = new ArrayList<>();
        try (var s = Files.walk(p)) {
            s.forEach(all::add);
        }
        for (int i = all.size() - 1; i >= 0; i--) {
            Files.delete(all.get(i));
        }
    }
}
