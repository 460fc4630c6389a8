package nibble.jobs.action;

import java.util.Objects;
import nibble.jobs.io.Uris;

/**
 * What {@link SampleAction} samples and where it writes.
 *
 * @param model the dense tensor table of the model
 * @param output the folder to write
 * @param sequences number of sequences
 * @param sequenceLength tokens per sequence
 * @param seed the seed; sequence {@code i} uses a seed derived from it and {@code i}
 * @param temperature the sampling temperature
 * @param overwrite replace sequences already at {@code output}
 * @param text text to tokenize with the model's tokenizer and cut into chunks instead of sampling
 *        ({@link TextChunks}), or null
 * @param ctx tokens per text chunk
 * @param chunks text chunks to write (0: all the text gives)
 */
public record SampleArgs(String model, String output, int sequences, int sequenceLength, long seed, float temperature,
                         boolean overwrite, String text, int ctx, int chunks) {

    public SampleArgs {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(output, "output");
        Uris.requireNoCredentials("--model", model);
        Uris.requireNoCredentials("--output", output);
        Uris.requireNoCredentials("--text", text);
        EvaluateArgs.requireChunking(ctx, chunks);
        EvaluateArgs.requireSampling(sequences, sequenceLength, temperature);
    }

    /** Sequences sampled from the model. */
    public SampleArgs(String model, String output, int sequences, int sequenceLength, long seed, float temperature,
                      boolean overwrite) {
        this(model, output, sequences, sequenceLength, seed, temperature, overwrite, null, EvaluateArgs.DEFAULT_CTX, 0);
    }
}
