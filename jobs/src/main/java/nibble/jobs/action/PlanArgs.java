package nibble.jobs.action;

import java.util.Objects;
import nibble.common.quant.Budget;
import nibble.common.quant.Recipe;
import nibble.jobs.cli.UsageException;
import nibble.jobs.io.Uris;

/**
 * What {@link PlanAction} plans: a recipe for {@code input} whose summed per-tensor costs on the
 * calibration data stay within {@code budget}.
 *
 * @param input the dense tensor table
 * @param output the recipe file to write
 * @param recipeName the base recipe (its 4-bit schemes are the smallest options)
 * @param recipe the base recipe, loaded
 * @param budget the model's mean KLD against the original, or its perplexity increase, not to exceed
 * @param data calibration token sequences, or null; excludes {@code text}
 * @param text calibration text, or null
 * @param ctx tokens per text chunk
 * @param chunks text chunks to use (0: all)
 * @param partitions Spark partitions for the measurements (0: four per core)
 * @param overwrite replace a file already at {@code output}
 */
public record PlanArgs(String input, String output, String recipeName, Recipe recipe, Budget budget, String data, String text,
                       int ctx, int chunks, int partitions, boolean overwrite) {

    public PlanArgs {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(output, "output");
        Objects.requireNonNull(recipe, "recipe");
        Uris.requireNoCredentials("--input", input);
        Uris.requireNoCredentials("--output", output);
        Uris.requireNoCredentials("--data", data);
        Uris.requireNoCredentials("--text", text);
        Objects.requireNonNull(budget, "budget");
        if (!(budget.target() > 0)) {
            throw new UsageException("--" + budget.metric().flag() + " must be a positive number");
        }
        if ((data == null) == (text == null)) {
            throw new UsageException("give calibration data with exactly one of --data and --text");
        }
        if (ctx < 2 || chunks < 0 || partitions < 0) {
            throw new UsageException("--ctx must be at least 2, --chunks and --partitions not negative");
        }
    }
}
