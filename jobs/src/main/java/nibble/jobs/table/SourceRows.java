package nibble.jobs.table;

import java.io.IOException;
import java.io.Serializable;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.Path;
import nibble.common.FiniteRows;
import nibble.common.format.SourceTensor;
import nibble.common.table.FilePlan;
import nibble.common.table.RowRange;
import nibble.jobs.spark.SerializableConf;

/**
 * Reads one file plan's rows straight from the source checkpoint with sequential reads from each
 * range's start, a few MiB of whole rows at a time into one reused buffer; a GGUF row (a whole number
 * of ggml blocks) is dequantized to F32 by its tensor's {@link SourceTensor#decodeRow}. A row
 * holding a NaN or an infinity is refused ({@link FiniteRows}) unless {@code --allow-non-finite}
 * was given. Runs in tasks; the driver never touches tensor data.
 */
public final class SourceRows implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final int BUFFER = 1 << 20;
    /** Bytes of whole rows read at once by {@link #forEachRow}. */
    private static final int CHUNK = 4 << 20;

    private final String baseDir;
    private final List<SourceTensor> tensors;
    private final SerializableConf conf;
    private final String input;
    private final boolean allowNonFinite;

    /**
     * @param input the checkpoint as errors name it (credentials removed)
     * @param allowNonFinite pass NaN and infinities through instead of refusing the first one ({@link FiniteRows})
     */
    public SourceRows(String baseDir, List<SourceTensor> tensors, SerializableConf conf, String input, boolean allowNonFinite) {
        this.baseDir = baseDir;
        this.tensors = List.copyOf(tensors);
        this.conf = conf;
        this.input = input;
        this.allowNonFinite = allowNonFinite;
    }

    /** Receives rows from {@link #forEachRow}: the payload is {@code buf[off, off+len)}, valid only during the call. */
    @FunctionalInterface
    public interface RowSink {
        void row(int tensor, long row, byte[] buf, int off, int len) throws IOException;
    }

    /**
     * Hands the plan's rows, in plan order, to {@code sink}, reading up to {@link #CHUNK} bytes of
     * whole rows per read into one buffer that is reused: no allocation or copy per row for sources
     * stored as the table's dtype (a GGUF row is decoded, one allocation per row).
     */
    public void forEachRow(FilePlan plan, RowSink sink) throws IOException {
        Map<String, FSDataInputStream> streams = new HashMap<>();
        try {
            byte[] buf = new byte[0];
            for (RowRange range : plan.ranges()) {
                SourceTensor t = tensors.get(range.tensor());
                int rowBytes = (int) t.sourceRowBytes();
                long perRead = rowBytes == 0 ? range.count() : Math.max(1, CHUNK / rowBytes);
                FSDataInputStream in = null;
                if (range.count() > 0 && rowBytes > 0) {
                    in = streams.get(t.file());
                    if (in == null) {
                        Path p = new Path(baseDir, t.file());
                        in = p.getFileSystem(conf.get()).open(p, BUFFER);
                        streams.put(t.file(), in);
                    }
                    in.seek(t.offset() + range.start() * rowBytes);
                }
                for (long row = range.start(); row < range.end(); ) {
                    int n = (int) Math.min(perRead, range.end() - row);
                    int bytes = n * rowBytes;
                    if (buf.length < bytes) {
                        buf = new byte[bytes];
                    }
                    if (in != null) {
                        try {
                            in.readFully(buf, 0, bytes);
                        } catch (IOException e) {
                            throw new IOException(baseDir + "/" + t.file() + ": reading tensor '" + t.info().name()
                                    + "' rows " + row + ".." + (row + n - 1) + ": " + e.getMessage(), e);
                        }
                    }
                    for (int i = 0; i < n; i++, row++) {
                        if (t.sourceType() == null) {
                            emit(sink, range.tensor(), t, row, buf, i * rowBytes, rowBytes);
                        } else {
                            byte[] decoded = t.decodeRow(Arrays.copyOfRange(buf, i * rowBytes, (i + 1) * rowBytes));
                            emit(sink, range.tensor(), t, row, decoded, 0, decoded.length);
                        }
                    }
                }
            }
        } finally {
            for (FSDataInputStream in : streams.values()) {
                try {
                    in.close();
                } catch (IOException ignored) {
                    // reading is done; a failed close loses nothing
                }
            }
        }
    }

    private void emit(RowSink sink, int tensor, SourceTensor t, long row, byte[] buf, int off, int len) throws IOException {
        if (!allowNonFinite) {
            FiniteRows.require(input, t.info().name(), row, buf, off, len, t.info().dtype(), FiniteRows.SHARD_HINT);
        }
        sink.row(tensor, row, buf, off, len);
    }
}
