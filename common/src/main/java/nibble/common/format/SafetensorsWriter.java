package nibble.common.format;

import nibble.common.json.Json;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import nibble.common.TensorInfo;

/**
 * Writes a safetensors file row by row, never holding more than a buffer of rows: the tensors are laid
 * out contiguously in the given order, the header lists them in that order (compact JSON, padded with
 * spaces to a multiple of 8 bytes as the reference implementation does), and a {@link RowSource}
 * fills each row's bytes. Output for a given input is byte-identical.
 */
public final class SafetensorsWriter {

    private static final int BUFFER_BYTES = 1 << 20;

    private SafetensorsWriter() {
    }

    /** Supplies tensor data one row at a time (see {@link TensorInfo#rows()}). */
    @FunctionalInterface
    public interface RowSource {
        /**
         * Puts exactly {@code tensor.rowBytes()} bytes of row {@code row} into {@code dst}, whose
         * position is 0, limit is the row's length and byte order is little-endian.
         */
        void writeRow(TensorInfo tensor, long row, ByteBuffer dst) throws IOException;
    }

    /**
     * Writes the file to a temporary sibling and moves it to {@code out} only when complete, so a
     * failure never leaves a partial file at {@code out}.
     *
     * @param metadata the {@code __metadata__} entries, or null for none
     */
    public static void write(Path out, List<TensorInfo> tensors, Map<String, String> metadata, RowSource rows)
            throws IOException {
        Path tmp = out.resolveSibling("." + out.getFileName() + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                write(ch, tensors, metadata, rows);
                ch.force(false);
            }
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Writes the whole file to {@code out}; returns the bytes written. */
    public static long write(WritableByteChannel out, List<TensorInfo> tensors, Map<String, String> metadata,
                             RowSource rows) throws IOException {
        byte[] header = header(tensors, metadata);
        long written = writeFully(out, ByteBuffer.wrap(header));
        long maxRow = 0;
        for (TensorInfo t : tensors) {
            maxRow = Math.max(maxRow, t.rowBytes());
        }
        ByteBuffer buf = ByteBuffer.allocate((int) Math.max(BUFFER_BYTES, maxRow));
        for (TensorInfo t : tensors) {
            int rowBytes = (int) t.rowBytes();
            long nRows = t.elementCount() == 0 ? 0 : t.rows();
            for (long r = 0; r < nRows; r++) {
                if (buf.remaining() < rowBytes) {
                    buf.flip();
                    written += writeFully(out, buf);
                    buf.clear();
                }
                ByteBuffer dst = buf.slice(buf.position(), rowBytes).order(ByteOrder.LITTLE_ENDIAN);
                rows.writeRow(t, r, dst);
                if (dst.position() != rowBytes) {
                    throw new IllegalStateException("row source wrote " + dst.position() + " of " + rowBytes
                            + " bytes for tensor '" + t.name() + "' row " + r);
                }
                buf.position(buf.position() + rowBytes);
            }
        }
        buf.flip();
        written += writeFully(out, buf);
        return written;
    }

    /** Total file length for these tensors and metadata. */
    public static long fileLength(List<TensorInfo> tensors, Map<String, String> metadata) {
        long n = header(tensors, metadata).length;
        for (TensorInfo t : tensors) {
            n = Math.addExact(n, t.byteLength());
        }
        return n;
    }

    /**
     * The 8-byte length prefix and the padded JSON header.
     *
     * @throws IllegalArgumentException on duplicate or reserved names, or a row too long to buffer
     */
    public static byte[] header(List<TensorInfo> tensors, Map<String, String> metadata) {
        Set<String> seen = new HashSet<>();
        ByteArrayOutputStream json = new ByteArrayOutputStream();
        try (JsonGenerator g = Json.compactGenerator(json)) {
            g.writeStartObject();
            if (metadata != null && !metadata.isEmpty()) {
                g.writeObjectFieldStart("__metadata__");
                for (Map.Entry<String, String> e : metadata.entrySet()) {
                    g.writeStringField(e.getKey(), e.getValue());
                }
                g.writeEndObject();
            }
            long offset = 0;
            for (TensorInfo t : tensors) {
                if (t.name().equals("__metadata__") || !seen.add(t.name())) {
                    throw new IllegalArgumentException("duplicate or reserved tensor name '" + t.name() + "'");
                }
                if (t.rowBytes() > TensorInfo.MAX_ROW_BYTES) {
                    throw new IllegalArgumentException("tensor '" + t.name() + "': row of " + t.rowBytes()
                            + " bytes exceeds " + TensorInfo.MAX_ROW_BYTES);
                }
                long end = offset + t.byteLength();
                g.writeObjectFieldStart(t.name());
                g.writeStringField("dtype", t.dtype().name());
                g.writeFieldName("shape");
                g.writeArray(t.shape(), 0, t.shape().length);
                g.writeFieldName("data_offsets");
                g.writeArray(new long[] {offset, end}, 0, 2);
                g.writeEndObject();
                offset = end;
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        byte[] body = json.toByteArray();
        int padded = (body.length + 7) & ~7;
        byte[] out = new byte[8 + padded];
        ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
        System.arraycopy(body, 0, out, 8, body.length);
        Arrays.fill(out, 8 + body.length, out.length, (byte) ' ');
        return out;
    }

    private static long writeFully(WritableByteChannel out, ByteBuffer b) throws IOException {
        long n = b.remaining();
        while (b.hasRemaining()) {
            out.write(b);
        }
        return n;
    }
}
