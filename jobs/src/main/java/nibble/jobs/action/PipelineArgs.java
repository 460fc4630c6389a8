package nibble.jobs.action;

import java.util.Objects;
import nibble.common.quant.Recipe;
import nibble.common.report.Gate;
import nibble.jobs.io.Uris;

/**
 * What {@link PipelineAction} runs: one source checkpoint into one registry prefix.
 *
 * @param input the source checkpoint, e.g. {@code s3a://registry/<model>/<version>/}
 * @param layout the output prefix's folders
 * @param recipeName the recipe as the user named it
 * @param recipe the loaded recipe
 * @param sequences evaluation sequences
 * @param sequenceLength tokens per evaluation sequence
 * @param seed the evaluation seed
 * @param gate thresholds the evaluation must meet for the version to be marked complete
 * @param force run even when the output is already complete
 */
public record PipelineArgs(String input, RegistryLayout layout, String recipeName, Recipe recipe, int sequences,
                           int sequenceLength, long seed, Gate.Thresholds gate, boolean force) {

    public PipelineArgs {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(layout, "layout");
        Objects.requireNonNull(recipe, "recipe");
        Objects.requireNonNull(gate, "gate");
        Uris.requireNoCredentials("--input", input);
        Uris.requireNoCredentials("--output", layout.output());
        Uris.requireNoCredentials("--recipe", recipeName);
        EvaluateArgs.requireSampling(sequences, sequenceLength, 1f);
    }

    public ShardArgs shard() {
        return ShardArgs.of(input, layout.table(), true);
    }

    public CalibrateArgs calibrate() {
        return new CalibrateArgs(layout.table(), layout.stats(), CalibrateArgs.DEFAULT_OUTLIER_FACTOR, true);
    }

    public QuantizeArgs quantize() {
        return new QuantizeArgs(layout.table(), layout.quantized(), recipeName, recipe, layout.stats(),
                ShardArgs.DEFAULT_TARGET_FILE_BYTES, true);
    }

    public EvaluateArgs evaluate() {
        return EvaluateArgs.sampled(layout.table(), layout.quantized(), layout.eval(), sequences, sequenceLength, seed, gate, true);
    }
}
