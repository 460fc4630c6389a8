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
 */
public record CalibrateArgs(String input, String output, double outlierFactor, boolean overwrite) {
    public static final double DEFAULT_OUTLIER_FACTOR = 5;

    public CalibrateArgs {
        Objects.requireNonNull(input, "input");
        Uris.requireNoCredentials("--input", input);
        Uris.requireNoCredentials("--output", output);
        if (output == null) {
            output = StatsTables.defaultDir(input);
        }
        if (!(outlierFactor > 1)) {
            throw new UsageException("--outlier-factor must be greater than 1");
        }
    }
}
