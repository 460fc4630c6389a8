package nibble.common.table;

/** One data file of a table: its path relative to the table root, row count and byte length. */
public record FileEntry(String path, long rows, long bytes) {
}
