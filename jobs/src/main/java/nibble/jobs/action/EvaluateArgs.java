package nibble.jobs.action;

import java.util.Objects;
import nibble.common.model.ActivationQuant;
import nibble.common.report.Gate;
import nibble.jobs.cli.UsageException;
import nibble.jobs.io.Uris;

/**
 * What {@link EvaluateAction} compares, on which sequences, and the gate it applies.
 *
 * @param original the dense tensor table
 * @param quantized the quantized table made from it
 * @param output the report folder
 * @param data evaluation token sequences (Parquet with a {@code tokens} array&lt;int&gt; column, or a
 *        {@code sample} folder), or null to sample {@code sequences} from the original model
 * @param text evaluation text (UTF-8 text, or Parquet with a {@code text} column) to score by
 *        llama-perplexity's protocol ({@link TextChunks}), or null; excludes {@code data}
 * @param sequences sequences to sample when there is no {@code data}
 * @param sequenceLength tokens per sampled sequence
 * @param seed the evaluation seed for sampling
 * @param temperature the sampling temperature
 * @param activations how the quantized model treats activations
 * @param gate thresholds the evaluation must meet
 * @param partitions Spark partitions for the sequences (0: four per core)
 * @param overwrite replace a report already at {@code output}
 * @param ctx tokens per text chunk
 * @param chunks text chunks to score (0: all the text gives)
 */
public record EvaluateArgs(String original, String quantized, String output, String data, int sequences, int sequenceLength,
                           long seed, float temperature, ActivationQuant activations, Gate.Thresholds gate, int partitions,
                           boolean overwrite, String text, int ctx, int chunks) {
    public static final int DEFAULT_SEQUENCES = 64;
    /** llama-perplexity's customary context for published perplexities. */
    public static final int DEFAULT_CTX = 512;
    public static final int DEFAULT_SEQUENCE_LENGTH = 128;
    public static final long DEFAULT_SEED = 1234;

    public EvaluateArgs {
        Objects.requireNonNull(original, "original");
        Objects.requireNonNull(quantized, "quantized");
        Objects.requireNonNull(output, "output");
        Objects.requireNonNull(activations, "activations");
        Objects.requireNonNull(gate, "gate");
        Uris.requireNoCredentials("--original", original);
        Uris.requireNoCredentials("--quantized", quantized);
        Uris.requireNoCredentials("--output", output);
        Uris.requireNoCredentials("--data", data);
        Uris.requireNoCredentials("--text", text);
        if (text != null && data != null) {
            throw new UsageException("--text and --data are mutually exclusive");
        }
        requireChunking(ctx, chunks);
        requireSampling(sequences, sequenceLength, temperature);
        if (partitions < 0) {
            throw new UsageException("--partitions must be 0 or positive");
        }
    }

    /** Sequences given or sampled, no text. */
    public EvaluateArgs(String original, String quantized, String output, String data, int sequences, int sequenceLength,
                        long seed, float temperature, ActivationQuant activations, Gate.Thresholds gate, int partitions,
                        boolean overwrite) {
        this(original, quantized, output, data, sequences, sequenceLength, seed, temperature, activations, gate, partitions,
                overwrite, null, DEFAULT_CTX, 0);
    }

    /** The checks every action that cuts text into chunks makes of {@code --ctx} and {@code --chunks}. */
    static void requireChunking(int ctx, int chunks) {
        if (ctx < 4) {
            throw new UsageException("--ctx must be at least 4");
        }
        if (chunks < 0) {
            throw new UsageException("--chunks must be positive (default: all)");
        }
    }

    /** The checks every action that samples sequences makes of its counts and temperature. */
    static void requireSampling(int sequences, int sequenceLength, float temperature) {
        if (sequences <= 0 || sequenceLength < 2) {
            throw new UsageException("--sequences must be positive and --sequence-length at least 2");
        }
        if (!(temperature >= 0)) {
            throw new UsageException("--temperature must be zero or positive");
        }
    }

    /** Sampled sequences at temperature 1, no activation quantization, default partitions. */
    public static EvaluateArgs sampled(String original, String quantized, String output, int sequences, int sequenceLength,
                                       long seed, Gate.Thresholds gate, boolean overwrite) {
        return new EvaluateArgs(original, quantized, output, null, sequences, sequenceLength, seed, 1.0f, ActivationQuant.NONE,
                gate, 0, overwrite);
    }
}
