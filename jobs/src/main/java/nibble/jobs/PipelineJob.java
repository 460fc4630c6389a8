package nibble.jobs;

import nibble.common.quant.Recipe;
import nibble.jobs.action.PipelineAction;
import nibble.jobs.action.PipelineArgs;
import nibble.jobs.action.PipelineResult;
import nibble.jobs.action.RegistryLayout;
import nibble.jobs.cli.Console;
import nibble.jobs.cli.Options;
import nibble.jobs.io.Uris;

/**
 * {@code nibble pipeline}, and its {@code spark-submit} main: flags to {@link PipelineArgs},
 * {@link PipelineAction}, each stage's summary, and exit code 4 when the gate failed.
 */
public final class PipelineJob implements Command<PipelineArgs> {
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
    public PipelineArgs args(Options o) {
        Uris.requireNoCredentials("--input", o.get("input"));
        Uris.requireNoCredentials("--output", o.get("output"));
        Uris.requireNoCredentials("--recipe", o.get("recipe"));
        return new PipelineArgs(o.require("input"), new RegistryLayout(o.require("output")), o.get("recipe"), Recipe.load(o.get("recipe")),
                (int) o.getLong("sequences"), (int) o.getLong("sequence-length"), o.getLong("seed"), EvaluateJob.gate(o), o.flag("force"));
    }

    @Override
    public String plan(PipelineArgs a) {
        return "shard " + Uris.redact(a.input()) + ", then calibrate, quantize (" + a.recipeName() + ") and evaluate into "
                + Uris.redact(a.layout().output()) + ", then mark it " + RegistryLayout.SUCCESS;
    }

    @Override
    public void run(PipelineArgs a, Console console) throws Exception {
        PipelineResult r = Command.onSpark("pipeline", console, spark -> PipelineAction.execute(spark, a, console::progress));
        String output = Uris.redact(a.layout().output());
        if (r.skipped()) {
            console.out().println("nibble pipeline: " + output + " is already complete (" + RegistryLayout.SUCCESS
                    + " present); nothing to do (pass --force to redo it)");
            return;
        }
        ShardJob.render(r.shard(), console);
        CalibrateJob.render(r.calibrate(), console);
        QuantizeJob.render(r.quantize(), console);
        EvaluateJob.render(r.evaluate(), console);
        EvaluateJob.requirePassed(r.evaluate());
        console.out().println("pipeline done: " + output + " is complete");
    }
}
