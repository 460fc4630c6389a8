package nibble.jobs.action;

import nibble.common.table.Manifest;

/**
 * What {@link ShardAction} wrote.
 *
 * @param manifest the committed table's manifest
 * @param elapsedNanos wall time of the whole action
 */
public record ShardResult(ShardArgs args, Manifest manifest, long elapsedNanos) {

    /** Bytes of all written Parquet files. */
    public long writtenBytes() {
        return manifest.files().stream().mapToLong(f -> f.bytes()).sum();
    }
}
