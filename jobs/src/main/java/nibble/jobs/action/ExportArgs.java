package nibble.jobs.action;

import java.util.Objects;
import nibble.jobs.cli.UsageException;
import nibble.jobs.io.Uris;

/**
 * What {@link ExportAction} writes.
 *
 * @param input the tensor table (quantized or dense)
 * @param output the GGUF file to write
 * @param format the output format; only {@code gguf}
 * @param strict refuse tensors whose scheme has no ggml type that stores its values unchanged
 * @param overwrite replace a file already at {@code output}
 */
public record ExportArgs(String input, String output, String format, boolean strict, boolean overwrite) {
    public static final String GGUF = "gguf";

    public ExportArgs {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(output, "output");
        Uris.requireNoCredentials("--input", input);
        Uris.requireNoCredentials("--output", output);
        if (!GGUF.equals(format)) {
            throw new UsageException("--format " + format + " is not supported (supported: gguf)");
        }
    }
}
