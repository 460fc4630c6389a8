package nibble.jobs.table;

import java.io.IOException;
import java.util.List;
import java.util.zip.CRC32C;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetReader;
import nibble.jobs.cli.Failures;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import nibble.common.Crc32c;
import nibble.common.InvalidInputException;
import nibble.common.table.FileEntry;
import nibble.common.table.Manifest;
import nibble.common.table.TensorEntry;

/**
 * Streams a table's rows in table order (manifest tensor order, then row order: the order its files
 * are written in, docs/FORMAT.md) in one JVM, one row in memory at a time, and checks on the way that
 * every row is where the manifest says and that each tensor's checksum matches it. For a writer of
 * one sequential file, such as a GGUF export.
 */
public final class OrderedRows {
    /** One stored row: the payload columns of a dense ({@code data}) or quantized table, null where absent. */
    public record StoredRow(TensorEntry entry, int row, byte[] data, byte[] codes, byte[] scales, byte[] zeros) {
    }

    /** Receives rows in order, and the end of each tensor after its checksum was verified. */
    public interface Visitor {
        void row(StoredRow row) throws IOException;

        void endTensor(TensorEntry entry) throws IOException;
    }

    private final String table;
    private final List<TensorEntry> tensors;
    private int tensor;
    private long row;
    private final CRC32C crc = new CRC32C();

    private OrderedRows(String table, Manifest m) {
        this.table = table;
        this.tensors = m.tensors();
    }

    /**
     * Reads every row of {@code table} (described by {@code m}) in order into {@code v}.
     *
     * @throws InvalidInputException naming the table, tensor and row when a row is out of order,
     *     missing or extra, or a tensor's bytes do not match the manifest's checksum
     */
    public static void read(String table, Manifest m, Configuration conf, Visitor v) throws IOException {
        OrderedRows r = new OrderedRows(table, m);
        r.skipEmpty(v);
        for (FileEntry f : m.files()) {
            Path p = new Path(table, f.path());
            try (ParquetReader<Group> reader = ParquetReader.builder(new GroupReadSupport(), p).withConf(conf).build()) {
                for (Group g = next(reader, p); g != null; g = next(reader, p)) {
                    r.accept(g, v);
                }
            }
        }
        if (r.tensor < r.tensors.size()) {
            TensorEntry e = r.tensors.get(r.tensor);
            throw new InvalidInputException(table + ": tensor '" + e.info().name() + "' has " + r.row + " of its "
                    + e.info().rows() + " rows");
        }
    }

    /**
     * The next record of {@code file}; a file the Parquet reader cannot decode (a damaged page, a
     * failed .crc checksum) is invalid input naming it. Network trouble stays an I/O failure.
     */
    public static Group next(ParquetReader<Group> reader, Path file) throws IOException {
        try {
            return reader.read();
        } catch (IOException | RuntimeException e) {
            if (e instanceof InvalidInputException || Failures.isNetwork(e)) {
                throw e;
            }
            throw new InvalidInputException(file + ": cannot read this data file (damaged, or not written by Nibble): "
                    + Failures.rootMessage(e), e);
        }
    }

    private void accept(Group g, Visitor v) throws IOException {
        String name = g.getString(TensorTable.TENSOR, 0);
        long at = g.getLong(TensorTable.ROW, 0);
        if (tensor >= tensors.size()) {
            throw new InvalidInputException(table + ": row " + at + " of tensor '" + name + "' comes after the last tensor's rows");
        }
        TensorEntry e = tensors.get(tensor);
        if (!e.info().name().equals(name) || at != row) {
            throw new InvalidInputException(table + ": found row " + at + " of tensor '" + name + "' where row " + row + " of '"
                    + e.info().name() + "' belongs (rows out of table order, missing or repeated)");
        }
        StoredRow r = new StoredRow(e, (int) row, binary(g, TensorTable.DATA), binary(g, QuantTable.CODES),
                binary(g, QuantTable.SCALES), binary(g, QuantTable.ZEROS));
        for (byte[] b : new byte[][] {r.data(), r.codes(), r.scales(), r.zeros()}) {
            if (b != null) {
                crc.update(b);
            }
        }
        v.row(r);
        if (++row == e.info().rows()) {
            String sum = Crc32c.hex((int) crc.getValue());
            if (!sum.equals(e.checksum())) {
                throw new InvalidInputException(table + ": tensor '" + name + "' has checksum " + sum + " but the manifest says "
                        + e.checksum() + " (the data files changed after the table was written)");
            }
            v.endTensor(e);
            tensor++;
            row = 0;
            crc.reset();
            skipEmpty(v);
        }
    }

    /** Tensors without rows have nothing in the files; they end where they stand. */
    private void skipEmpty(Visitor v) throws IOException {
        while (tensor < tensors.size() && tensors.get(tensor).info().rows() == 0) {
            v.endTensor(tensors.get(tensor++));
        }
    }

    private static byte[] binary(Group g, String field) {
        if (g.getType().containsField(field) && g.getFieldRepetitionCount(field) > 0) {
            return g.getBinary(field, 0).getBytes();
        }
        return null;
    }
}
