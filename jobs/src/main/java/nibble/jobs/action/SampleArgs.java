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
 */
public record SampleArgs(String model, String output, int sequences, int sequenceLength, long seed, float temperature,
                         boolean overwrite) {

    public SampleArgs {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(output, "output");
        Uris.requireNoCredentials("--model", model);
        Uris.requireNoCredentials("--output", output);
        EvaluateArgs.requireSampling(sequences, sequenceLength, temperature);
    }
}
