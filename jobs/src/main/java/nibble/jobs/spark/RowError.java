package nibble.jobs.spark;

import java.io.Serializable;
import org.apache.spark.sql.Row;
import nibble.common.stats.ErrorStats;

/**
 * An output row and the reconstruction error measured while making it, travelling together through
 * the shuffle into plan order, where {@link PartitionErrors#collect} takes the error off.
 *
 * @param row the output row, starting with {@code tensor, row}
 * @param error the row's error, or null for rows that carry none (kept tensors)
 */
public record RowError(Row row, ErrorStats error) implements Serializable {
}
