package nibble.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;
import org.apache.parquet.column.ColumnDescriptor;
import org.apache.parquet.column.ColumnReader;
import org.apache.parquet.column.impl.ColumnReadStoreImpl;
import org.apache.parquet.column.statistics.Statistics;
import org.apache.parquet.example.data.simple.convert.GroupRecordConverter;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.io.LocalInputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.spark.sql.Row;
import nibble.common.format.CheckpointHeader;
import nibble.common.format.CheckpointReader;
import nibble.common.format.LocalCheckpointFiles;
import nibble.common.format.SourceTensor;
import nibble.common.table.Manifest;
import nibble.common.table.TensorEntry;

/** Assertions on written tables, reading them back through Spark and the source through plain NIO. */
final class Tables {
    private Tables() {
    }

    static Manifest manifest(Path table) throws IOException {
        return Manifest.parse(Files.readAllBytes(table.resolve("manifest.json")), table + "/manifest.json");
    }

    static Manifest manifestUnchecked(Path table) {
        try {
            return manifest(table);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Every tensor's rows, concatenated in row order, from the table's Parquet files. */
    static Map<String, byte[]> tensorBytes(Path table) {
        List<Row> rows = TestSpark.session().read().parquet(table.resolve("tensors").toString())
                .orderBy("tensor", "row").collectAsList();
        Map<String, ByteArrayOutputStream> by = new HashMap<>();
        for (Row r : rows) {
            by.computeIfAbsent(r.getString(0), k -> new ByteArrayOutputStream()).writeBytes((byte[]) r.get(3));
        }
        Map<String, byte[]> out = new HashMap<>();
        by.forEach((k, v) -> out.put(k, v.toByteArray()));
        return out;
    }

    static byte[] slice(Path file, long offset, long length) throws IOException {
        try (FileChannel ch = FileChannel.open(file)) {
            ByteBuffer b = ByteBuffer.allocate((int) length);
            while (b.hasRemaining()) {
                if (ch.read(b, offset + b.position()) < 0) {
                    throw new IOException("short file " + file);
                }
            }
            return b.array();
        }
    }

    static String crc(byte[] b) {
        CRC32C c = new CRC32C();
        c.update(b);
        return String.format("%08x", c.getValue());
    }

    /**
     * The table holds every source tensor's bytes unchanged, and the manifest's shapes, dtypes and
     * checksums match the source.
     */
    static void assertBitExact(Path table, Path checkpoint) throws IOException {
        CheckpointHeader header = CheckpointReader.read(new LocalCheckpointFiles(checkpoint));
        Path base = Files.isDirectory(checkpoint) ? checkpoint : checkpoint.getParent();
        Manifest m = manifest(table);
        Map<String, byte[]> data = tensorBytes(table);
        assertEquals(header.tensors().size(), m.tensors().size(), "tensor count");
        for (int i = 0; i < header.tensors().size(); i++) {
            SourceTensor s = header.tensors().get(i);
            TensorEntry e = m.tensors().get(i);
            assertEquals(s.info(), e.info(), "manifest entry " + i);
            byte[] expected = slice(base.resolve(s.file()), s.offset(), s.info().byteLength());
            assertArrayEquals(expected, data.getOrDefault(s.info().name(), new byte[0]), s.info().name());
            assertEquals(crc(expected), e.checksum(), "checksum of " + s.info().name());
        }
    }

    /** Bytes of every file under {@code dir}, by relative path. */
    static Map<String, byte[]> files(Path dir) throws IOException {
        Map<String, byte[]> out = new HashMap<>();
        try (var s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.filter(Files::isRegularFile)::iterator) {
                out.put(dir.relativize(p).toString(), Files.readAllBytes(p));
            }
        }
        return out;
    }

    /**
     * Parquet files written in different JVMs: every byte before the footer is equal, and the footer
     * is equal once each column chunk's encodings and encoding statistics are put in canonical order.
     * Needed only where Spark's DataFrame writer wrote through an S3A committer (its files keep
     * parquet-mr's order, DESIGN-NOTES 'Determinism: canonical Parquet footers'); elsewhere the bytes are equal.
     */
    static void assertSameParquet(byte[] e, byte[] a, String name) throws Exception {
        assertEquals(e.length, a.length, name + ": length");
        int footer = ByteBuffer.wrap(e, e.length - 8, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt();
        int dataEnd = e.length - 8 - footer;
        assertArrayEquals(java.util.Arrays.copyOf(e, dataEnd), java.util.Arrays.copyOf(a, dataEnd), name + ": data pages");
        assertEquals(sorted(footer(e, name)), sorted(footer(a, name)), name + ": footer");
        assertArrayEquals(java.util.Arrays.copyOfRange(e, e.length - 8, e.length), java.util.Arrays.copyOfRange(a, a.length - 8, a.length));
    }

    private static org.apache.parquet.format.FileMetaData sorted(org.apache.parquet.format.FileMetaData m) {
        for (var rg : m.getRow_groups()) {
            for (var c : rg.getColumns()) {
                c.getMeta_data().getEncodings().sort(java.util.Comparator.comparingInt(org.apache.parquet.format.Encoding::getValue));
                if (c.getMeta_data().getEncoding_stats() != null) {
                    c.getMeta_data().getEncoding_stats().sort(java.util.Comparator
                            .comparingInt((org.apache.parquet.format.PageEncodingStats p) -> p.getPage_type().getValue())
                            .thenComparingInt(p -> p.getEncoding().getValue()));
                }
            }
        }
        return m;
    }

    /** The Thrift footer of a Parquet file's bytes. */
    static org.apache.parquet.format.FileMetaData footer(byte[] file, String name) throws IOException {
        assertTrue(file.length >= 12 && new String(file, file.length - 4, 4, java.nio.charset.StandardCharsets.US_ASCII).equals("PAR1"),
                name + " is not a Parquet file");
        int length = ByteBuffer.wrap(file, file.length - 8, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt();
        return org.apache.parquet.format.Util.readFileMetaData(
                new java.io.ByteArrayInputStream(file, file.length - 8 - length, length));
    }

    /**
     * Every {@code .parquet} file under {@code dir} has a canonical footer: each column chunk's
     * encodings in ascending Thrift value and its encoding statistics in ascending (page type,
     * encoding). Returns the number of column chunks checked.
     */
    static int assertCanonicalFooters(Path dir) throws IOException {
        int chunks = 0;
        for (var f : files(dir).entrySet()) {
            if (!f.getKey().endsWith(".parquet")) {
                continue;
            }
            org.apache.parquet.format.FileMetaData m = footer(f.getValue(), dir + "/" + f.getKey());
            for (var rg : m.getRow_groups()) {
                for (var c : rg.getColumns()) {
                    var md = c.getMeta_data();
                    List<Integer> enc = md.getEncodings().stream().map(org.apache.parquet.format.Encoding::getValue).toList();
                    assertEquals(enc.stream().sorted().toList(), enc, dir + "/" + f.getKey() + " column " + md.getPath_in_schema() + " encodings");
                    if (md.getEncoding_stats() != null) {
                        List<Integer> st = md.getEncoding_stats().stream()
                                .map(p -> p.getPage_type().getValue() * 1000 + p.getEncoding().getValue()).toList();
                        assertEquals(st.stream().sorted().toList(), st, dir + "/" + f.getKey() + " column " + md.getPath_in_schema()
                                + " encoding_stats");
                    }
                    chunks++;
                }
            }
        }
        return chunks;
    }

    /**
     * Checks every binary and int64 column chunk's footer statistics (min, max, null count) of the
     * Parquet files in {@code dir} against its values as read back; returns the number of chunks whose
     * statistics were there to check. A writer that keeps a reference to a reused array in its
     * statistics writes another row's bytes there, which no reader of the rows would see.
     */
    static int assertTrueStatistics(Path dir) throws IOException {
        int checked = 0;
        for (String name : files(dir).keySet()) {
            if (!name.endsWith(".parquet")) {
                continue;
            }
            try (ParquetFileReader reader = ParquetFileReader.open(new LocalInputFile(dir.resolve(name)))) {
                MessageType schema = reader.getFooter().getFileMetaData().getSchema();
                for (BlockMetaData block : reader.getRowGroups()) {
                    ColumnReadStoreImpl store = new ColumnReadStoreImpl(reader.readNextRowGroup(),
                            new GroupRecordConverter(schema).getRootConverter(), schema, reader.getFooter().getFileMetaData().getCreatedBy());
                    for (int c = 0; c < schema.getColumns().size(); c++) {
                        ColumnDescriptor column = schema.getColumns().get(c);
                        Statistics<?> stored = block.getColumns().get(c).getStatistics();
                        PrimitiveTypeName kind = column.getPrimitiveType().getPrimitiveTypeName();
                        if ((kind == PrimitiveTypeName.BINARY || kind == PrimitiveTypeName.INT64) && stored != null && !stored.isEmpty()) {
                            assertSameStatistics(stored, store.getColumnReader(column), column,
                                    dir + "/" + name + " column " + column + " statistics");
                            checked++;
                        }
                    }
                }
            }
        }
        return checked;
    }

    private static void assertSameStatistics(Statistics<?> stored, ColumnReader values, ColumnDescriptor column, String where) {
        Statistics<?> actual = Statistics.createStats(column.getPrimitiveType());
        for (long i = 0; i < values.getTotalValueCount(); i++) {
            if (values.getCurrentDefinitionLevel() < column.getMaxDefinitionLevel()) {
                actual.incrementNumNulls();
            } else if (column.getPrimitiveType().getPrimitiveTypeName() == PrimitiveTypeName.BINARY) {
                actual.updateStats(values.getBinary());
            } else {
                actual.updateStats(values.getLong());
            }
            values.consume();
        }
        assertEquals(actual.getNumNulls(), stored.getNumNulls(), where + ": null count");
        if (actual.hasNonNullValue()) {
            assertArrayEquals(actual.getMinBytes(), stored.getMinBytes(), where + ": min");
            assertArrayEquals(actual.getMaxBytes(), stored.getMaxBytes(), where + ": max");
        }
    }
}
