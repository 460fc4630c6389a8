package nibble.jobs.table;

import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.zip.CRC32C;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.mapreduce.RecordWriter;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetOutputFormat;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.api.Binary;
import nibble.common.Crc32c;
import nibble.common.TensorInfo;
import nibble.common.table.FilePlan;
import nibble.common.table.RowRange;

/**
 * Writes one planned file of a dense table from inside a task, with parquet-mr directly: rows go
 * from the caller's (reused) buffer into the column writer, and each range's CRC-32C is computed as
 * its rows pass, so no second read of the written data is needed for the manifest's checksums.
 *
 * <p>The file is written under a hidden attempt name and renamed to {@code part-NNNNN.parquet} when
 * complete; since a plan's file depends only on the plan, any complete attempt is the right file.
 * The Parquet settings are the ones Spark's DataFrame writer uses for a table (same Hadoop
 * configuration keys, dictionary off for {@code data}), so the bytes are the same as before; the
 * file is created through {@link CanonicalFooterFileSystem}, so its footer is canonical.
 */
public final class PlanFileWriter<T> implements AutoCloseable {
    private final FilePlan plan;
    private final List<TensorInfo> infos;
    private final long[] rowBytes;
    private final FileSystem fs;
    private final Path tmp;
    private final Path dest;
    private final RecordWriter<Void, T> writer;
    private final DenseRowWriteSupport.DenseRow row = new DenseRowWriteSupport.DenseRow();
    private final int[] shares;
    private final CRC32C crc = new CRC32C();
    private int rangeIndex = -1;
    private RowRange range;
    private long next;
    private long written;
    private boolean closed;

    /** What one task wrote: its plan's file, and per range the range's share of its tensor's checksum. */
    public record WrittenFile(int plan, long rows, int[] tensors, int[] shares) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** A dense table's file: rows are written with {@link #write(int, long, byte[], int, int)}. */
    public static PlanFileWriter<DenseRowWriteSupport.DenseRow> dense(Configuration conf, String dataDir, FilePlan plan,
                                                                      List<TensorInfo> infos, String codec, long attempt)
            throws IOException {
        long[] rowBytes = infos.stream().mapToLong(TensorInfo::rowBytes).toArray();
        return new PlanFileWriter<>(conf, dataDir, plan, infos, rowBytes, new DenseRowWriteSupport(), List.of(TensorTable.DATA),
                codec, attempt);
    }

    /**
     * Opens {@code dataDir/part-NNNNN.parquet}'s attempt file.
     *
     * @param rowBytes each tensor's stored payload bytes per row, by tensor index
     * @param noDictionary columns written without a dictionary (as the DataFrame writer's options had them)
     * @param codec a Spark compression name ({@code uncompressed}, {@code snappy}, {@code zstd}, ...)
     */
    public PlanFileWriter(Configuration conf, String dataDir, FilePlan plan, List<TensorInfo> infos, long[] rowBytes,
                          org.apache.parquet.hadoop.api.WriteSupport<T> support, List<String> noDictionary, String codec,
                          long attempt) throws IOException {
        this.plan = plan;
        this.infos = infos;
        this.rowBytes = rowBytes;
        Configuration c = new Configuration(conf);
        for (String column : noDictionary) {
            c.set("parquet.enable.dictionary#" + column, "false");
        }
        this.dest = new Path(dataDir, plan.fileName());
        this.tmp = new Path(dataDir, "." + plan.fileName() + ".attempt-" + attempt);
        this.fs = dest.getFileSystem(c);
        CanonicalFooterFileSystem.install(c, dest); // parquet-mr opens tmp through it: a canonical footer
        this.shares = new int[plan.ranges().size()];
        try {
            this.writer = new ParquetOutputFormat<>(support)
                    .getRecordWriter(c, tmp, codecName(codec), ParquetFileWriter.Mode.OVERWRITE);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted opening " + tmp, e);
        }
        nextRange();
    }

    static CompressionCodecName codecName(String codec) {
        return CompressionCodecName.valueOf(codec.toUpperCase(Locale.ROOT));
    }

    /**
     * Writes the plan's next dense row, {@code buf[off, off+len)}; rows must come in plan order.
     * Only for a writer made by {@link #dense}.
     *
     * @param tensor the row's tensor index, which must be the current range's
     */
    @SuppressWarnings("unchecked")
    public void write(int tensor, long rowIndex, byte[] buf, int off, int len) throws IOException {
        CRC32C c = begin(tensor, rowIndex);
        c.update(buf, off, len);
        row.row = rowIndex;
        row.buffer = buf;
        row.offset = off;
        row.length = len;
        write((T) row, len);
    }

    /**
     * Checks that row {@code rowIndex} of tensor {@code tensor} is the plan's next, and returns the
     * checksum to update with its payload before {@link #write(Object, long)}.
     */
    public CRC32C begin(int tensor, long rowIndex) {
        if (range == null || tensor != range.tensor() || rowIndex != next) {
            throw new IllegalStateException(plan.fileName() + ": row " + rowIndex + " of tensor " + tensor
                    + " out of plan order (expected " + (range == null ? "none" : range.tensor() + "/" + next) + ")");
        }
        return crc;
    }

    /** Writes the record begun with {@link #begin}, whose payload is {@code payloadBytes} long. */
    public void write(T record, long payloadBytes) throws IOException {
        int tensor = range.tensor();
        if (payloadBytes != rowBytes[tensor]) {
            throw new IllegalStateException(plan.fileName() + ": tensor '" + infos.get(tensor).name() + "' row " + next
                    + " has " + payloadBytes + " bytes, expected " + rowBytes[tensor]);
        }
        try {
            writer.write(null, record);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted writing " + tmp, e);
        }
        written++;
        if (++next == range.end()) {
            TensorInfo t = infos.get(tensor);
            shares[rangeIndex] = Crc32c.share((int) crc.getValue(), (t.rows() - range.end()) * rowBytes[tensor]);
            nextRange();
        }
    }

    private void nextRange() {
        rangeIndex++;
        // empty ranges (a tensor without rows) have no rows to wait for
        while (rangeIndex < plan.ranges().size() && plan.ranges().get(rangeIndex).count() == 0) {
            rangeIndex++;
        }
        range = rangeIndex < plan.ranges().size() ? plan.ranges().get(rangeIndex) : null;
        if (range != null) {
            TensorInfo t = infos.get(range.tensor());
            row.tensor = Binary.fromConstantByteArray(t.name().getBytes(StandardCharsets.UTF_8));
            row.dtype = Binary.fromConstantByteArray(t.dtype().name().getBytes(StandardCharsets.UTF_8));
            next = range.start();
            crc.reset();
        }
    }

    /** Closes the file, moves it to its plan name and returns what was written; every planned row must have been written. */
    public WrittenFile finish() throws IOException {
        if (range != null) {
            throw new IllegalStateException(plan.fileName() + ": finished before tensor " + range.tensor() + " row " + next);
        }
        closeWriter();
        if (fs.exists(dest)) {
            fs.delete(dest, false); // an earlier attempt's complete file: the same bytes
        }
        if (!fs.rename(tmp, dest)) {
            throw new IOException("could not move " + tmp + " to " + dest);
        }
        int[] tensors = plan.ranges().stream().mapToInt(RowRange::tensor).toArray();
        return new WrittenFile(plan.index(), written, tensors, Arrays.copyOf(shares, shares.length));
    }

    private void closeWriter() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            writer.close(null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted closing " + tmp, e);
        }
    }

    /** Closes an unfinished file and deletes it. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        try {
            closeWriter();
            fs.delete(tmp, false);
        } catch (IOException | RuntimeException ignored) {
            // the attempt failed already; the temporary folder goes with the run
        }
    }
}
