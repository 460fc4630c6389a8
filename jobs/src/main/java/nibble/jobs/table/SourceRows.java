package nibble.jobs.table;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import nibble.common.FiniteRows;
import nibble.common.TensorInfo;
import nibble.common.format.SourceTensor;
import nibble.common.table.FilePlan;
import nibble.common.table.RowRange;
import nibble.jobs.spark.SerializableConf;

/**
 * Reads one file plan's rows straight from the source checkpoint with sequential reads from each
 * range's start, one row in memory at a time; a GGUF row (a whole number of ggml blocks) is
 * dequantized to F32 by its tensor's {@link SourceTensor#decodeRow}. A row holding a NaN or an
 * infinity is refused ({@link FiniteRows}) unless {@code --allow-non-finite} was given. Runs in tasks; the driver never
 * touches tensor data.
 */
public final class SourceRows implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final int BUFFER = 1 << 20;

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

    /** The plan's rows as table rows, in plan order. */
    public Iterator<Row> rows(FilePlan plan) {
        return new RowIterator(plan);
    }

    private final class RowIterator implements Iterator<Row> {
        private final List<RowRange> ranges;
        private final Map<String, FSDataInputStream> streams = new HashMap<>();
        private int rangeIndex = -1;
        private RowRange range;
        private long row;

        RowIterator(FilePlan plan) {
            this.ranges = plan.ranges();
            TaskContext ctx = TaskContext.get();
            if (ctx != null) {
                ctx.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) c -> closeAll());
            }
            advanceRange();
        }

        @Override
        public boolean hasNext() {
            return range != null;
        }

        @Override
        public Row next() {
            if (range == null) {
                throw new NoSuchElementException();
            }
            SourceTensor t = tensors.get(range.tensor());
            TensorInfo info = t.info();
            byte[] raw = new byte[(int) t.sourceRowBytes()];
            try {
                stream(t.file()).readFully(raw);
            } catch (IOException e) {
                throw new UncheckedIOException(baseDir + "/" + t.file() + ": reading tensor '" + info.name()
                        + "' row " + row + ": " + e.getMessage(), e);
            }
            byte[] data = t.decodeRow(raw);
            if (!allowNonFinite) {
                FiniteRows.require(input, info.name(), row, data, info.dtype(), FiniteRows.SHARD_HINT);
            }
            Row out = RowFactory.create(info.name(), row, info.dtype().name(), data);
            if (++row == range.end()) {
                advanceRange();
            }
            return out;
        }

        private void advanceRange() {
            rangeIndex++;
            range = rangeIndex < ranges.size() ? ranges.get(rangeIndex) : null;
            if (range == null) {
                closeAll();
                return;
            }
            row = range.start();
            SourceTensor t = tensors.get(range.tensor());
            try {
                stream(t.file()).seek(t.offset() + range.start() * t.sourceRowBytes());
            } catch (IOException e) {
                throw new UncheckedIOException(baseDir + "/" + t.file() + ": " + e.getMessage(), e);
            }
        }

        private FSDataInputStream stream(String file) throws IOException {
            FSDataInputStream in = streams.get(file);
            if (in == null) {
                Path p = new Path(baseDir, file);
                FileSystem fs = p.getFileSystem(conf.get());
                in = fs.open(p, BUFFER);
                streams.put(file, in);
            }
            return in;
        }

        private void closeAll() {
            for (FSDataInputStream in : streams.values()) {
                try {
                    in.close();
                } catch (IOException ignored) {
                    // reading is done; a failed close loses nothing
                }
            }
            streams.clear();
        }
    }
}
