package nibble.jobs.action;

import java.util.Objects;
import nibble.common.quant.Recipe;
import nibble.jobs.cli.UsageException;
import nibble.jobs.io.Uris;
import nibble.jobs.table.StatsTables;

/**
 * What {@link QuantizeAction} quantizes, how, and where it writes.
 *
 * @param input the dense tensor table
 * @param output the folder of the quantized table
 * @param recipeName the recipe as the user named it (a built-in name or a file), recorded in the manifest
 * @param recipe the loaded recipe
 * @param stats the statistics folder ({@code <input>/stats} when built with null), read only when the recipe needs it
 * @param targetFileBytes data per Parquet file
 * @param overwrite replace a table already at {@code output}
 */
public record QuantizeArgs(String input, String output, String recipeName, Recipe recipe, String stats, long targetFileBytes,
                           boolean overwrite) {

    public QuantizeArgs {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(output, "output");
        Objects.requireNonNull(recipe, "recipe");
        Uris.requireNoCredentials("--input", input);
        Uris.requireNoCredentials("--output", output);
        Uris.requireNoCredentials("--stats", stats);
        Uris.requireNoCredentials("--recipe", recipeName);
        if (stats == null) {
            stats = StatsTables.defaultDir(input);
        }
        if (targetFileBytes <= 0) {
            throw new UsageException("--target-file-mb must be positive");
        }
    }

    /** A built-in recipe or recipe file, statistics in their default place, 128 MiB files. */
    public static QuantizeArgs of(String input, String output, String recipe, boolean overwrite) {
        Uris.requireNoCredentials("--recipe", recipe);
        return new QuantizeArgs(input, output, recipe, Recipe.load(recipe), null, ShardArgs.DEFAULT_TARGET_FILE_BYTES, overwrite);
    }
}
