package nibble.jobs.action;

import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import nibble.jobs.cli.UsageException;
import nibble.jobs.io.Uris;

/**
 * What {@link ShardAction} reads and writes.
 *
 * @param input a checkpoint (safetensors file or folder, llama2.c {@code .bin}, GGUF {@code .gguf}) or a tensor table
 * @param output the folder of the tensor table to write
 * @param targetFileBytes data per Parquet file
 * @param compression the Parquet codec, one of {@link #COMPRESSIONS}
 * @param overwrite replace a table already at {@code output}
 * @param allowNonFinite write NaN and infinite values into the table instead of refusing the first
 *     one ({@code --allow-non-finite}; off by default: every later stage refuses them anyway)
 */
public record ShardArgs(String input, String output, long targetFileBytes, String compression, boolean overwrite,
                        boolean allowNonFinite) {
    public static final Set<String> COMPRESSIONS = Set.of("snappy", "zstd", "gzip", "lz4_raw", "uncompressed");
    public static final long DEFAULT_TARGET_FILE_BYTES = 128L << 20;

    public ShardArgs {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(output, "output");
        Uris.requireNoCredentials("--input", input);
        Uris.requireNoCredentials("--output", output);
        if (targetFileBytes <= 0) {
            throw new UsageException("--target-file-mb must be positive");
        }
        compression = compression.toLowerCase(Locale.ROOT);
        if (!COMPRESSIONS.contains(compression)) {
            throw new UsageException("--compression must be one of " + COMPRESSIONS);
        }
    }

    /** Non-finite values refused (the default). */
    public ShardArgs(String input, String output, long targetFileBytes, String compression, boolean overwrite) {
        this(input, output, targetFileBytes, compression, overwrite, false);
    }

    /** Defaults for everything but the paths: 128 MiB files, uncompressed. */
    public static ShardArgs of(String input, String output, boolean overwrite) {
        return new ShardArgs(input, output, DEFAULT_TARGET_FILE_BYTES, "uncompressed", overwrite);
    }
}
