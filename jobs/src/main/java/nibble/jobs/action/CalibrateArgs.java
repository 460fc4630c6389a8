package nibble.jobs.action;

import java.util.Objects;
import nibble.jobs.cli.UsageException;
import nibble.jobs.io.Uris;
import nibble.jobs.table.StatsTables;

/**
 * What {@link CalibrateAction} measures and where it writes.
 *
 * @param input the tensor table
 * @param output the statistics folder ({@code <input>/stats} when built with a null output)
 * @param outlierFactor a channel is an outlier when its absmax exceeds this times the tensor's median channel absmax
 * @param overwrite replace statistics already at {@code output}
 * @param data calibration token sequences ({@code nibble sample} output, or Parquet with a {@code tokens}
 *        array&lt;int&gt; column), or null; excludes {@code text}
 * @param text calibration text, tokenized with the table's tokenizer and cut into chunks of {@code ctx}, or null
 * @param ctx tokens per text chunk
 * @param chunks text chunks to use (0: all the text gives)
 * @param partitions Spark partitions for the sequences (0: four per core)
 * @param hessian also accumulate {@code XᵀX} of every linear input (needs {@code data} or {@code text})
 */
public record CalibrateArgs(String input, String output, double outlierFactor, boolean overwrite, String data, String text,
                            int ctx, int chunks, int partitions, boolean hessian) {
    public static final double DEFAULT_OUTLIER_FACTOR = 5;

    public CalibrateArgs {
        Objects.requireNonNull(input, "input");
        Uris.requireNoCredentials("--input", input);
        Uris.requireNoCredentials("--output", output);
        Uris.requireNoCredentials("--data", data);
        Uris.requireNoCredentials("--text", text);
        if (output == null) {
            output = StatsTables.defaultDir(input);
        }
        if (!(outlierFactor > 1)) {
            throw new UsageException("--outlier-factor must be greater than 1");
        }
        if (data != null && text != null) {
            throw new UsageException("--text and --data are mutually exclusive");
        }
        EvaluateArgs.requireChunking(ctx, chunks);
        if (partitions < 0) {
            throw new UsageException("--partitions must be zero (four per core) or positive");
        }
        if (hessian && data == null && text == null) {
            throw new UsageException("--hessian needs calibration data (--data or --text)");
        }
    }

    /** Without Hessians. */
    public CalibrateArgs(String input, String output, double outlierFactor, boolean overwrite, String data, String text,
                         int ctx, int chunks, int partitions) {
        this(input, output, outlierFactor, overwrite, data, text, ctx, chunks, partitions, false);
    }

    /** Weight statistics only. */
    public CalibrateArgs(String input, String output, double outlierFactor, boolean overwrite) {
        this(input, output, outlierFactor, overwrite, null, null, EvaluateArgs.DEFAULT_CTX, 0, 0);
    }

    /** Whether activation statistics are measured too. */
    public boolean activations() {
        return data != null || text != null;
    }
}
