package nibble.common.table;

import java.io.Serializable;

/** Rows {@code [start, end)} of the tensor at {@code tensor} (an index into the table's tensor list). */
public record RowRange(int tensor, long start, long end) implements Serializable {
    public long count() {
        return end - start;
    }
}
