package nibble.jobs.table;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.apache.parquet.format.ColumnChunk;
import org.apache.parquet.format.ColumnMetaData;
import org.apache.parquet.format.Encoding;
import org.apache.parquet.format.FileMetaData;
import org.apache.parquet.format.PageEncodingStats;
import org.apache.parquet.format.RowGroup;
import org.apache.parquet.format.Util;

/**
 * The canonical form of a Parquet footer (the Thrift {@code FileMetaData} before the file's last
 * eight bytes): every column chunk's {@code encodings} sorted by Thrift value and its
 * {@code encoding_stats} sorted by (page type, encoding), Thrift values both; nothing else changes.
 *
 * <p>Why: parquet-mr 1.16 collects a chunk's encodings in a {@code HashSet} of enum constants, whose
 * iteration order follows identity hash codes, so two JVMs writing the same rows write those lists
 * in different orders (apache/parquet-java issue 3215). Sorting removes the only writer-dependent
 * order; the lists keep their elements, so the footer keeps its length and every offset in the file
 * (column and offset indexes, row groups) stays valid.
 */
public final class CanonicalFooter {
    private static final Comparator<Encoding> ENCODING = Comparator.comparingInt(Encoding::getValue);
    private static final Comparator<PageEncodingStats> STATS = Comparator
            .comparingInt((PageEncodingStats s) -> s.getPage_type().getValue())
            .thenComparingInt(s -> s.getEncoding().getValue());

    private CanonicalFooter() {
    }

    /**
     * The canonical bytes of a serialized footer, as long as {@code footer}; {@code name} names the
     * file in errors. The footer must read back to the same bytes before it is changed (so only the
     * two lists' order can differ), else an {@link IOException} says so.
     */
    public static byte[] canonical(byte[] footer, String name) throws IOException {
        FileMetaData m = Util.readFileMetaData(new ByteArrayInputStream(footer));
        if (!Arrays.equals(footer, write(m))) {
            throw new IOException(name + ": the Parquet footer does not read back to the same bytes; cannot put it in canonical order");
        }
        if (isCanonical(m)) {
            return footer;
        }
        sort(m);
        byte[] out = write(m);
        if (out.length != footer.length) { // the same elements in another order cannot change the length
            throw new IOException(name + ": the canonical Parquet footer has " + out.length + " bytes, the written one " + footer.length);
        }
        return out;
    }

    /** Sorts every column chunk's encodings and encoding statistics in place. */
    static void sort(FileMetaData m) {
        for (ColumnMetaData c : chunks(m)) {
            if (c.getEncodings() != null) {
                c.getEncodings().sort(ENCODING);
            }
            if (c.getEncoding_stats() != null) {
                c.getEncoding_stats().sort(STATS);
            }
        }
    }

    /** Whether every column chunk's encodings and encoding statistics are in canonical order. */
    public static boolean isCanonical(FileMetaData m) {
        for (ColumnMetaData c : chunks(m)) {
            if (!sorted(c.getEncodings(), ENCODING) || !sorted(c.getEncoding_stats(), STATS)) {
                return false;
            }
        }
        return true;
    }

    private static <T> boolean sorted(List<T> list, Comparator<T> order) {
        if (list == null) {
            return true;
        }
        for (int i = 1; i < list.size(); i++) {
            if (order.compare(list.get(i - 1), list.get(i)) > 0) {
                return false;
            }
        }
        return true;
    }

    private static List<ColumnMetaData> chunks(FileMetaData m) {
        if (m.getRow_groups() == null) {
            return List.of();
        }
        return m.getRow_groups().stream().map(RowGroup::getColumns).filter(c -> c != null).flatMap(List::stream)
                .map(ColumnChunk::getMeta_data).filter(c -> c != null).toList();
    }

    private static byte[] write(FileMetaData m) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Util.writeFileMetaData(m, out);
        return out.toByteArray();
    }
}
