package nibble.jobs;

import nibble.jobs.action.SampleAction;
import nibble.jobs.action.SampleArgs;
import nibble.jobs.action.SampleResult;
import nibble.jobs.cli.Console;
import nibble.jobs.cli.Options;
import nibble.jobs.io.Uris;

/** {@code nibble sample}, and its {@code spark-submit} main: flags to {@link SampleArgs}, {@link SampleAction}. */
public final class SampleJob implements Command<SampleArgs> {
    private static final Options.Spec SPEC = Options.spec("sample",
                    "Sample token sequences from a model table with a seed, or tokenize a text into chunks (evaluation data).")
            .value("model", "URI", null, "dense tensor table of the model (required)")
            .value("output", "URI", null, "folder to write (required)")
            .value("sequences", "N", "64", "number of sequences")
            .value("sequence-length", "N", "128", "tokens per sequence")
            .value("seed", "N", "1234", "seed")
            .value("temperature", "T", "1.0", "sampling temperature")
            .value("text", "URI", null, "instead of sampling: text (UTF-8, or Parquet with a 'text' column) tokenized with the"
                    + " table's tokenizer and cut into chunks by llama-perplexity's protocol")
            .value("ctx", "N", "512", "with --text: tokens per chunk")
            .value("chunks", "N", null, "with --text: chunks to write (default: all the text gives)")
            .flag("overwrite", "replace sequences already at --output");

    public static void main(String[] args) {
        Nibble.submit("sample", args);
    }

    @Override
    public Options.Spec spec() {
        return SPEC;
    }

    @Override
    public SampleArgs args(Options o) {
        EvaluateJob.checkTextOptions(o);
        return new SampleArgs(o.require("model"), o.require("output"), (int) o.getLong("sequences"), (int) o.getLong("sequence-length"),
                o.getLong("seed"), (float) o.getDouble("temperature"), o.flag("overwrite"), o.get("text"), (int) o.getLong("ctx"),
                EvaluateJob.chunks(o));
    }

    @Override
    public String plan(SampleArgs a) {
        if (a.text() != null) {
            return "tokenize " + Uris.redact(a.text()) + " with the tokenizer of " + Uris.redact(a.model()) + " into "
                    + (a.chunks() > 0 ? "at most " + a.chunks() : "all") + " chunks of " + a.ctx() + " tokens, into "
                    + Uris.redact(a.output());
        }
        return "sample " + a.sequences() + " sequences of " + a.sequenceLength() + " tokens from " + a.model() + " with seed " + a.seed()
                + " into " + a.output();
    }

    @Override
    public void run(SampleArgs a, Console console) throws Exception {
        SampleResult r = Command.onSpark("sample", console, spark -> SampleAction.execute(spark, a));
        console.progress("sample", "wrote " + r.sequences() + " sequences of " + r.sequenceLength() + " tokens to "
                + Uris.redact(r.args().output()));
    }
}
