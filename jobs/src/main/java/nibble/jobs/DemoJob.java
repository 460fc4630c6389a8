package nibble.jobs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import nibble.common.DType;
import nibble.common.model.ActivationQuant;
import nibble.common.report.Gate;
import nibble.common.synth.SyntheticCheckpoint;
import nibble.jobs.action.CalibrateAction;
import nibble.jobs.action.CalibrateArgs;
import nibble.jobs.action.EvaluateAction;
import nibble.jobs.action.EvaluateArgs;
import nibble.jobs.action.ExportAction;
import nibble.jobs.action.ExportArgs;
import nibble.jobs.action.QuantizeAction;
import nibble.jobs.action.QuantizeArgs;
import nibble.jobs.action.RegistryLayout;
import nibble.jobs.action.ShardAction;
import nibble.jobs.action.ShardArgs;
import nibble.jobs.cli.Console;
import nibble.jobs.cli.Options;
import nibble.jobs.io.Uris;

/**
 * {@code nibble demo}: the whole pipeline on an embedded default, in the registry layout under
 * {@code --work}. Without {@code --model} it makes a small synthetic checkpoint; with one (e.g.
 * {@code ../shared/models/stories260K.bin}, or a GGUF file) it runs on that. Each stage's summary is
 * printed as it finishes; the quantized model ends as {@code model.gguf}, and for a GGUF model with
 * {@code --text}, llama.cpp scores the original and the export ({@link LlamaCppVerdict}).
 */
public final class DemoJob implements Command<DemoJob.Args> {
    /** The quantized model as GGUF, in the work folder. */
    static final String GGUF_FILE = "model.gguf";
    private static final Options.Spec SPEC = Options.spec("demo",
                    "Run every stage on a small synthetic checkpoint (or --model) in local mode and summarize.")
            .value("model", "URI", null, "checkpoint to use instead of a synthetic one")
            .value("work", "DIR", "nibble-demo", "folder for the demo's outputs (replaced on each run)")
            .value("preset", "NAME", "demo", "synthetic checkpoint size when no --model: tiny, demo, bench-2g")
            .value("recipe", "NAME|FILE", "int4-g32-mse", "quantization recipe")
            .value("sequences", "N", "16", "evaluation sequences")
            .value("sequence-length", "N", "64", "tokens per evaluation sequence")
            .value("text", "URI", null, "evaluation text for a model with a tokenizer (a GGUF --model): scored by llama-perplexity's"
                    + " protocol instead of sampled sequences")
            .value("ctx", "N", "128", "with --text: tokens per chunk")
            .value("chunks", "N", "2", "with --text: chunks to score");

    /**
     * The demo's inputs: a checkpoint (null: make a synthetic one of {@code preset}), the work folder,
     * the recipe, the evaluation, and the GGUF export of the quantized table.
     */
    public record Args(String model, Path work, String preset, QuantizeArgs quantize, EvaluateArgs evaluate, ExportArgs export) {
    }

    @Override
    public Options.Spec spec() {
        return SPEC;
    }

    @Override
    public Args args(Options o) {
        Uris.requireNoCredentials("--model", o.get("model"));
        Uris.requireNoCredentials("--recipe", o.get("recipe"));
        Path work = Path.of(o.get("work")).toAbsolutePath();
        RegistryLayout layout = new RegistryLayout(work.toString());
        QuantizeArgs quantize = QuantizeArgs.of(layout.table(), layout.quantized(), o.get("recipe"), true);
        EvaluateArgs evaluate = new EvaluateArgs(layout.table(), layout.quantized(), layout.eval(), null, (int) o.getLong("sequences"),
                (int) o.getLong("sequence-length"), EvaluateArgs.DEFAULT_SEED, 1.0f, ActivationQuant.NONE,
                new Gate.Thresholds(null, null, null), 0, true, o.get("text"), (int) o.getLong("ctx"), (int) o.getLong("chunks"));
        ExportArgs export = new ExportArgs(layout.quantized(), work.resolve(GGUF_FILE).toString(), ExportArgs.GGUF, false, true);
        return new Args(o.get("model"), work, o.get("preset"), quantize, evaluate, export);
    }

    @Override
    public String plan(Args a) {
        return "run every stage on " + (a.model() != null ? a.model() : "a synthetic '" + a.preset() + "' checkpoint") + " in " + a.work();
    }

    @Override
    public void run(Args a, Console console) throws Exception {
        Files.createDirectories(a.work());
        String model = a.model() != null ? a.model() : synthesize(a, console);
        RegistryLayout layout = new RegistryLayout(a.work().toString());
        Command.onSpark("demo", console, spark -> {
            ShardJob.render(ShardAction.execute(spark, ShardArgs.of(model, layout.table(), true), console::progress), console);
            CalibrateJob.render(CalibrateAction.execute(spark, new CalibrateArgs(layout.table(), layout.stats(),
                    CalibrateArgs.DEFAULT_OUTLIER_FACTOR, true)), console);
            QuantizeJob.render(QuantizeAction.execute(spark, a.quantize()), console);
            EvaluateJob.render(EvaluateAction.execute(spark, a.evaluate(), console::progress), console);
            ExportJob.render(ExportAction.execute(spark, a.export(), console::progress), console);
            return null;
        });
        if (a.model() != null && a.model().endsWith(".gguf") && a.evaluate().text() != null) {
            LlamaCppVerdict.of(console).render(a.model(), a.export().output(), a.evaluate().text(), a.evaluate().ctx(), a.evaluate().chunks());
        }
        console.out().println();
        console.out().println("demo done: table " + layout.table() + ", statistics " + layout.stats() + ", quantized table "
                + layout.quantized() + ", report " + layout.eval() + "/report.html, GGUF " + a.export().output());
    }

    private static String synthesize(Args a, Console console) throws IOException {
        Path ckpt = a.work().resolve("checkpoint");
        deleteTree(ckpt);
        console.progress("demo", "making a synthetic '" + a.preset() + "' checkpoint in " + ckpt);
        SyntheticCheckpoint.write(ckpt, SynthJob.spec(a.preset(), DType.F32, 42), 0);
        return ckpt.toString();
    }

    private static void deleteTree(Path p) throws IOException {
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
