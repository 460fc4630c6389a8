package nibble.jobs.table;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.column.ColumnDescriptor;
import org.apache.parquet.column.ColumnReader;
import org.apache.parquet.column.impl.ColumnReadStoreImpl;
import org.apache.parquet.column.page.PageReadStore;
import org.apache.parquet.example.data.simple.convert.GroupRecordConverter;
import org.apache.parquet.HadoopReadOptions;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.schema.MessageType;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import nibble.common.InvalidInputException;
import nibble.common.TensorInfo;
import nibble.common.table.FileEntry;
import nibble.common.table.FilePlan;
import nibble.common.table.Manifest;
import nibble.common.table.RowRange;
import nibble.jobs.cli.Failures;
import nibble.jobs.io.Uris;

/**
 * Reads the rows of one output file plan straight from a dense table's Parquet files, in plan order,
 * with parquet-mr in the task: no shuffle. A table's files hold its rows in table order (tensors in
 * manifest order, rows in order; that is how {@code shard} plans them), so the manifest's file list
 * and row counts say which files, and which rows in them, hold a plan's rows. Every row read is
 * checked to be the one expected there (tensor name and row index); a table whose files are not in
 * that order is bad input naming the file. Row groups without wanted rows are skipped unread.
 *
 * <p>A row's {@code data} array is reused for the next row of the same length (a tensor's rows all
 * have one length), as Hadoop's record readers reuse their values: a row is valid until the next call
 * of {@code next()}, and a consumer that keeps rows copies their data. A new array per row cost a
 * quarter of this reader's CPU (zeroing and first touches of fresh heap); the copy into a reused one
 * stays in cache. Row groups are read into a {@link PooledBuffers} and their pages closed when done.
 */
public final class PlannedInput implements Serializable {
    private static final long serialVersionUID = 1L;
    private final String table;
    private final List<String> files;
    private final long[] fileStart;
    private final long[] tensorStart;
    private final List<TensorInfo> infos;
    private final Binary[] names;
    private final Binary[] dtypes;

    public PlannedInput(String table, Manifest manifest) {
        this.table = table;
        this.infos = manifest.tensorInfos();
        this.files = new ArrayList<>();
        this.fileStart = new long[manifest.files().size() + 1];
        for (int i = 0; i < manifest.files().size(); i++) {
            FileEntry f = manifest.files().get(i);
            files.add(f.path());
            fileStart[i + 1] = fileStart[i] + f.rows();
        }
        this.names = new Binary[infos.size()];
        this.dtypes = new Binary[infos.size()];
        for (int i = 0; i < infos.size(); i++) {
            names[i] = Binary.fromString(infos.get(i).name());
            dtypes[i] = Binary.fromString(infos.get(i).dtype().name());
        }
        this.tensorStart = new long[infos.size() + 1];
        for (int i = 0; i < infos.size(); i++) {
            tensorStart[i + 1] = tensorStart[i] + infos.get(i).rows();
        }
        if (fileStart[files.size()] != tensorStart[infos.size()]) {
            throw new InvalidInputException(Uris.redact(table) + ": the manifest's files hold " + fileStart[files.size()]
                    + " rows, its tensors " + tensorStart[infos.size()]);
        }
    }

    /**
     * The plan's rows ({@code tensor, row, dtype, data}) in plan order, each valid until the next is
     * read; the caller drains or abandons it.
     */
    public Iterator<Row> rows(Configuration conf, FilePlan plan) {
        return new Rows(conf, plan);
    }

    private final class Rows implements Iterator<Row> {
        private final Configuration conf;
        private final List<RowRange> ranges;
        private int rangeIndex = -1;
        private int tensor;
        private long row;
        private long end;
        // the open file and where its readers stand
        private int file = -1;
        private ParquetFileReader reader;
        private long fileRow;            // next row of the file the readers would give
        private long groupEnd;           // file row where the loaded row group ends
        private List<BlockMetaData> blocks;
        private int nextBlock;
        private ColumnReader[] columns;
        private MessageType schema;
        private byte[] data = new byte[0]; // the last row's, reused
        private PageReadStore pages;     // the loaded row group's, whose buffers go back to the pool when done
        private final PooledBuffers pool = new PooledBuffers();

        Rows(Configuration conf, FilePlan plan) {
            this.conf = conf;
            this.ranges = plan.ranges();
            nextRange();
        }

        private void nextRange() {
            do {
                rangeIndex++;
            } while (rangeIndex < ranges.size() && ranges.get(rangeIndex).count() == 0);
            if (rangeIndex < ranges.size()) {
                RowRange r = ranges.get(rangeIndex);
                tensor = r.tensor();
                row = r.start();
                end = r.end();
            } else {
                close();
            }
        }

        @Override
        public boolean hasNext() {
            return rangeIndex < ranges.size();
        }

        @Override
        public Row next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            try {
                Row out = read(tensorStart[tensor] + row);
                if (++row == end) {
                    nextRange();
                }
                return out;
            } catch (IOException | RuntimeException e) {
                String at = where();
                close();
                if (e instanceof InvalidInputException i) {
                    throw i;
                }
                if (Failures.isNetwork(e)) {
                    throw e instanceof IOException io ? new UncheckedIOException(at + ": " + io.getMessage(), io) : (RuntimeException) e;
                }
                // a damaged page, a failed .crc checksum: as Spark's reader reports it (cli.Failures)
                throw new InvalidInputException(at + ": cannot read this data file (damaged, or not written by Nibble): "
                        + Failures.rootMessage(e), e);
            }
        }

        private String where() {
            return file < 0 ? Uris.redact(table) : Uris.redact(table) + "/" + files.get(file);
        }

        /** The row at table position {@code global}, which is at or after the last one read. */
        private Row read(long global) throws IOException {
            int j = fileOf(global);
            if (j != file) {
                open(j);
            }
            long want = global - fileStart[j];
            while (want >= groupEnd) { // skip whole row groups before the wanted row
                BlockMetaData b = blocks.get(nextBlock);
                if (want >= groupEnd + b.getRowCount()) {
                    releasePages();
                    reader.skipNextRowGroup();
                    nextBlock++;
                    groupEnd += b.getRowCount();
                    fileRow = groupEnd;
                } else {
                    releasePages();
                    pages = reader.readNextRowGroup();
                    nextBlock++;
                    ColumnReadStoreImpl store = new ColumnReadStoreImpl(pages, new GroupRecordConverter(schema).getRootConverter(),
                            schema, reader.getFooter().getFileMetaData().getCreatedBy());
                    List<ColumnDescriptor> cols = schema.getColumns();
                    columns = new ColumnReader[cols.size()];
                    for (int c = 0; c < cols.size(); c++) {
                        columns[c] = store.getColumnReader(cols.get(c));
                    }
                    fileRow = groupEnd;
                    groupEnd += b.getRowCount();
                }
            }
            for (; fileRow < want; fileRow++) {
                for (ColumnReader c : columns) {
                    c.skip();
                    c.consume();
                }
            }
            // the expected tensor's name and dtype are compared as bytes, and the row carries the
            // manifest's strings: no string decoded per row, and their hash codes are cached
            TensorInfo t = infos.get(tensor);
            Binary nameBytes = columns[0].getBinary();
            boolean expectedName = nameBytes.equals(names[tensor]);
            String name = expectedName ? t.name() : nameBytes.toStringUsingUTF8();
            long r = columns[1].getLong();
            Binary dtypeBytes = columns[2].getBinary();
            String dtype = dtypeBytes.equals(dtypes[tensor]) ? t.dtype().name() : dtypeBytes.toStringUsingUTF8();
            Binary bytes = columns[3].getBinary();
            if (data.length != bytes.length()) {
                data = new byte[bytes.length()];
            }
            bytes.toByteBuffer().get(data);
            for (ColumnReader c : columns) {
                c.consume();
            }
            fileRow++;
            if (!expectedName || r != row) {
                throw new InvalidInputException(where() + ": row " + (fileRow - 1) + " of the file holds tensor '" + name
                        + "' row " + r + " where the manifest's file list puts tensor '" + t.name() + "' row " + row);
            }
            return new GenericRowWithSchema(new Object[] {name, r, dtype, data}, TensorTable.SCHEMA);
        }

        private int fileOf(long global) {
            int lo = 0;
            int hi = files.size() - 1;
            while (lo < hi) {
                int mid = (lo + hi + 1) >>> 1;
                if (fileStart[mid] <= global) {
                    lo = mid;
                } else {
                    hi = mid - 1;
                }
            }
            // a file without rows never holds the row
            while (fileStart[lo + 1] <= global) {
                lo++;
            }
            return lo;
        }

        private void open(int j) throws IOException {
            closeReader();
            file = j;
            Path p = new Path(new Path(table), files.get(j));
            reader = ParquetFileReader.open(HadoopInputFile.fromPath(p, conf), HadoopReadOptions.builder(conf, p).withAllocator(pool).build());
            schema = reader.getFooter().getFileMetaData().getSchema();
            List<String> names = new ArrayList<>();
            schema.getFields().forEach(f -> names.add(f.getName()));
            if (!names.equals(List.of(TensorTable.TENSOR, TensorTable.ROW, TensorTable.DTYPE, TensorTable.DATA))) {
                throw new InvalidInputException(where() + ": columns " + names + " are not a dense table's");
            }
            blocks = reader.getRowGroups();
            long rows = blocks.stream().mapToLong(BlockMetaData::getRowCount).sum();
            if (rows != fileStart[j + 1] - fileStart[j]) {
                throw new InvalidInputException(where() + ": holds " + rows + " rows, the manifest says " + (fileStart[j + 1] - fileStart[j]));
            }
            nextBlock = 0;
            groupEnd = 0;
            fileRow = 0;
            columns = null;
        }

        private void releasePages() {
            if (pages != null) {
                try {
                    pages.close();
                } catch (Exception e) {
                    throw new IllegalStateException(e); // releasing heap buffers into the pool does not fail
                }
                pages = null;
            }
        }

        private void closeReader() {
            releasePages();
            if (reader != null) {
                try {
                    reader.close();
                } catch (IOException ignored) {
                    // reading is done
                }
                reader = null;
            }
        }

        private void close() {
            closeReader();
            rangeIndex = ranges.size();
        }
    }
}
