package nibble.jobs.model;

import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.zip.CRC32C;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import nibble.common.DType;
import nibble.common.Crc32c;
import nibble.common.Floats;
import nibble.common.InvalidInputException;
import nibble.common.TensorInfo;
import nibble.common.model.DenseEmbedding;
import nibble.common.model.DenseLinear;
import nibble.common.model.Embedding;
import nibble.common.model.Linear;
import nibble.common.model.QuantizedMatrix;
import nibble.common.model.WeightSource;
import nibble.common.quant.RowLayout;
import nibble.common.quant.Scheme;
import nibble.common.table.FileEntry;
import nibble.common.table.Manifest;
import nibble.common.table.TensorEntry;
import nibble.jobs.table.OrderedRows;
import nibble.jobs.table.QuantTable;
import nibble.jobs.table.TensorTable;

/**
 * A model's weights read straight from a tensor table's Parquet files (dense or quantized), in the
 * JVM that uses them: an executor loads its models itself instead of receiving them from the
 * driver. Quantized tensors stay packed ({@link QuantizedMatrix}); kept and dense ones are decoded to
 * floats. Every weight the model takes is checked to be finite (dense values, and the scales of
 * packed rows): a NaN or infinity is bad input naming the table, tensor, row and column, because a
 * model with one evaluates to NaN logits, whose statistics look like a perfect match.
 */
public final class TableWeights implements WeightSource {
    private final String table;
    private final Map<String, TensorEntry> entries = new HashMap<>();
    private final Map<String, byte[][]> data = new HashMap<>();
    private final Map<String, byte[][]> codes = new HashMap<>();
    private final Map<String, byte[][]> scales = new HashMap<>();
    private final Map<String, byte[][]> zeros = new HashMap<>();

    private TableWeights(String table) {
        this.table = table;
    }

    /** Reads every row of the table described by {@code manifest}. */
    public static TableWeights read(String table, Manifest manifest, Configuration conf) throws IOException {
        TableWeights w = new TableWeights(table);
        boolean quantized = manifest.kind() == Manifest.Kind.QUANTIZED;
        for (TensorEntry e : manifest.tensors()) {
            w.entries.put(e.info().name(), e);
            int rows = Math.toIntExact(e.info().rows());
            w.data.put(e.info().name(), new byte[rows][]);
            if (quantized) {
                w.codes.put(e.info().name(), new byte[rows][]);
                w.scales.put(e.info().name(), new byte[rows][]);
                w.zeros.put(e.info().name(), new byte[rows][]);
            }
        }
        for (FileEntry f : manifest.files()) {
            Path p = new Path(table, f.path());
            try (ParquetReader<Group> reader = ParquetReader.builder(new GroupReadSupport(), p).withConf(conf).build()) {
                for (Group g = OrderedRows.next(reader, p); g != null; g = OrderedRows.next(reader, p)) {
                    w.add(g, quantized);
                }
            }
        }
        w.requireChecksums();
        return w;
    }

    /**
     * Each tensor's rows, as read, must make up its manifest checksum (the CRC-32C of the non-null
     * data, codes, scales and zeros of its rows in order): a value changed in a data file after the
     * table was written is bad input naming the table and tensor, as in every stage that reads a table.
     */
    private void requireChecksums() {
        for (TensorEntry e : entries.values()) {
            String name = e.info().name();
            byte[][] rows = data.get(name);
            CRC32C crc = new CRC32C();
            for (int r = 0; r < rows.length; r++) {
                for (Map<String, byte[][]> column : List.of(data, codes, scales, zeros)) {
                    byte[][] c = column.get(name);
                    if (c != null && c[r] != null) {
                        crc.update(c[r]);
                    }
                }
            }
            String found = Crc32c.hex((int) crc.getValue());
            if (rows.length > 0 && !found.equals(e.checksum())) {
                throw new InvalidInputException(table + ": tensor '" + name + "' reads as checksum " + found
                        + " but the manifest says " + e.checksum() + " (the data files changed after the table was written)");
            }
        }
    }

    private void add(Group g, boolean quantized) {
        String tensor = g.getString(TensorTable.TENSOR, 0);
        long row = g.getLong(TensorTable.ROW, 0);
        byte[][] rows = data.get(tensor);
        if (rows == null || row < 0 || row >= rows.length) {
            throw new InvalidInputException(table + ": row " + row + " of tensor '" + tensor + "' is not in the manifest");
        }
        rows[(int) row] = binary(g, TensorTable.DATA);
        if (quantized) {
            codes.get(tensor)[(int) row] = binary(g, QuantTable.CODES);
            scales.get(tensor)[(int) row] = binary(g, QuantTable.SCALES);
            zeros.get(tensor)[(int) row] = binary(g, QuantTable.ZEROS);
        }
    }

    private static byte[] binary(Group g, String field) {
        if (g.getType().containsField(field) && g.getFieldRepetitionCount(field) > 0) {
            return g.getBinary(field, 0).getBytes();
        }
        return null;
    }

    @Override
    public float[] vector(String name, int n) {
        return dense(name, n);
    }

    @Override
    public Linear linear(String name, int rows, int cols) {
        Scheme s = scheme(name);
        return s != null ? packed(name, s, rows, cols) : new DenseLinear(dense(name, (long) rows * cols), rows, cols);
    }

    @Override
    public Embedding embedding(String name, int vocab, int dim) {
        Scheme s = scheme(name);
        return s != null ? packed(name, s, vocab, dim) : new DenseEmbedding(dense(name, (long) vocab * dim), vocab, dim);
    }

    private Scheme scheme(String name) {
        TensorEntry e = entry(name);
        return e.quant() == null ? null : e.quant().scheme();
    }

    private TensorEntry entry(String name) {
        TensorEntry e = entries.get(name);
        if (e == null) {
            throw new InvalidInputException(table + ": the model needs tensor '" + name + "', which the table does not have");
        }
        return e;
    }

    private QuantizedMatrix packed(String name, Scheme s, int rows, int cols) {
        TensorInfo info = entry(name).info();
        if (info.rows() != rows || info.rowLength() != cols) {
            throw new InvalidInputException(table + ": tensor '" + name + "' is " + info + ", expected [" + rows + ", " + cols + "]");
        }
        requireRows(name, codes.get(name));
        byte[][] rowScales = scales.get(name);
        RowLayout layout = RowLayout.of(s, cols);
        for (int r = 0; r < rowScales.length; r++) {
            int g = rowScales[r] == null ? -1 : layout.firstNonFiniteScale(rowScales[r]);
            if (g >= 0) {
                throw new InvalidInputException(table + ": tensor '" + name + "' row " + r + ": the scale of group " + g
                        + " is not finite (a model with NaN or infinite weights cannot be evaluated)");
            }
        }
        return new QuantizedMatrix(s, rows, cols, codes.get(name), rowScales, zeros.get(name));
    }

    private float[] dense(String name, long n) {
        TensorInfo info = entry(name).info();
        if (info.elementCount() != n) {
            throw new InvalidInputException(table + ": tensor '" + name + "' has " + info.elementCount() + " values, expected " + n);
        }
        byte[][] rows = requireRows(name, data.get(name));
        float[] out = new float[Math.toIntExact(n)];
        int len = Math.toIntExact(info.rowLength());
        DType dtype = info.dtype();
        for (int r = 0; r < rows.length; r++) {
            Floats.decode(rows[r], len, dtype, out, r * len);
        }
        for (int i = 0; i < out.length; i++) {
            if (!Float.isFinite(out[i])) {
                throw new InvalidInputException(table + ": tensor '" + name + "' row " + i / len + " holds a non-finite value "
                        + out[i] + " at column " + i % len + " (a model with NaN or infinite weights cannot be evaluated)");
            }
        }
        return out;
    }

    private byte[][] requireRows(String name, byte[][] rows) {
        for (int r = 0; r < rows.length; r++) {
            if (rows[r] == null) {
                throw new InvalidInputException(table + ": tensor '" + name + "' row " + r + " is missing");
            }
        }
        return rows;
    }
}
