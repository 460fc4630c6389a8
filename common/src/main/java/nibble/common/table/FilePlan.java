package nibble.common.table;

import java.io.Serializable;
import java.util.List;

/**
 * The rows that go into one Parquet file of a tensor table, in order. One plan is one Spark
 * partition and one output file, which is what makes the files independent of the executor count.
 */
public record FilePlan(int index, List<RowRange> ranges) implements Serializable {

    public long rows() {
        long n = 0;
        for (RowRange r : ranges) {
            n += r.count();
        }
        return n;
    }

    /** The file's name inside the table's {@code tensors/} folder. */
    public String fileName() {
        return fileName(index);
    }

    public static String fileName(int index) {
        return String.format("part-%05d.parquet", index);
    }
}
