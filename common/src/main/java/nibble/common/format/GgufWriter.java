package nibble.common.format;

import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Writes a GGUF v3 file (ggml's {@code docs/gguf.md}) as a stream: the header (magic, version,
 * counts, typed metadata, tensor infos with their offsets) first, then each tensor's bytes in the
 * order the infos list them, every tensor starting at a multiple of {@link #ALIGNMENT}. The sizes of
 * all tensors are known from their shapes and types before any data is written, so nothing is held
 * in memory but the caller's current row: a model of any size streams through.
 *
 * <p>Usage: construct (writes the header), then for each tensor {@link #write} its bytes and
 * {@link #endTensor}, then {@link #finish}. The writer checks that each tensor gets exactly the bytes
 * its type and shape need. It writes no {@code general.alignment} key: 32 is GGUF's default.
 */
public final class GgufWriter implements Closeable {
    public static final int VERSION = 3;
    public static final int ALIGNMENT = 32;

    /** One metadata key/value; {@code element} is the element type of an ARRAY, else null. */
    public record Kv(String key, GgufValueType type, GgufValueType element, Object value) {
        public Kv {
            if ((type == GgufValueType.ARRAY) != (element != null) || element == GgufValueType.ARRAY) {
                throw new IllegalArgumentException("metadata '" + key + "': type " + type + " with element " + element);
            }
        }
    }

    /** One tensor: llama.cpp name, dimensions fastest-first ({@code ne}), ggml type. */
    public record Slot(String name, long[] ne, GgmlType type) {
        /** Values in the tensor. */
        public long elements() {
            long n = 1;
            for (long d : ne) {
                n = Math.multiplyExact(n, d);
            }
            return n;
        }

        /** Bytes of the tensor's data. */
        public long bytes() {
            return type.bytesOf(elements());
        }
    }

    private final OutputStream out;
    private final List<Slot> slots;
    private final byte[] scratch = new byte[8];
    private long position;
    private int current;
    private long writtenInCurrent;

    /** Writes the header for {@code tensors} with {@code metadata} to {@code out}. */
    public GgufWriter(OutputStream out, List<Kv> metadata, List<Slot> tensors) throws IOException {
        this.out = out;
        this.slots = List.copyOf(tensors);
        u32(GgufReader.MAGIC);
        u32(VERSION);
        u64(slots.size());
        u64(metadata.size());
        for (Kv kv : metadata) {
            string(kv.key());
            u32(kv.type().id());
            value(kv.key(), kv.type(), kv.element(), kv.value());
        }
        long offset = 0;
        for (Slot s : slots) {
            string(s.name());
            u32(s.ne().length);
            for (long d : s.ne()) {
                u64(d);
            }
            u32(s.type().id());
            u64(offset);
            offset = align(offset + s.bytes());
        }
        pad();
    }

    /** The number of bytes {@code tensors} take in the data section, padding included. */
    public static long dataBytes(List<Slot> tensors) {
        long offset = 0;
        for (Slot s : tensors) {
            offset = align(offset + s.bytes());
        }
        return offset;
    }

    /** Appends {@code len} bytes of the current tensor's data. */
    public void write(byte[] b, int off, int len) throws IOException {
        if (current >= slots.size()) {
            throw new IllegalStateException("all " + slots.size() + " tensors are written");
        }
        Slot s = slots.get(current);
        if (writtenInCurrent + len > s.bytes()) {
            throw new IllegalStateException("tensor '" + s.name() + "' takes " + s.bytes() + " bytes; "
                    + (writtenInCurrent + len) + " were written");
        }
        out.write(b, off, len);
        writtenInCurrent += len;
        position += len;
    }

    /** Ends the current tensor (which must be complete) and pads to the next alignment. */
    public void endTensor() throws IOException {
        Slot s = slots.get(current);
        if (writtenInCurrent != s.bytes()) {
            throw new IllegalStateException("tensor '" + s.name() + "' takes " + s.bytes() + " bytes; only "
                    + writtenInCurrent + " were written");
        }
        pad();
        current++;
        writtenInCurrent = 0;
    }

    /** Checks that every tensor was written and flushes; the caller closes the stream. */
    public void finish() throws IOException {
        if (current != slots.size()) {
            throw new IllegalStateException(current + " of " + slots.size() + " tensors were written");
        }
        out.flush();
    }

    /** Bytes written so far. */
    public long position() {
        return position;
    }

    @Override
    public void close() throws IOException {
        out.close();
    }

    private static long align(long n) {
        return (n + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    private void pad() throws IOException {
        long to = align(position);
        while (position < to) {
            out.write(0);
            position++;
        }
    }

    private void value(String key, GgufValueType type, GgufValueType element, Object v) throws IOException {
        if (type == GgufValueType.ARRAY) {
            if (!(v instanceof List<?> list)) {
                throw bad(key, type, v);
            }
            u32(element.id());
            u64(list.size());
            for (Object e : list) {
                value(key, element, null, e);
            }
            return;
        }
        if (type == GgufValueType.STRING) {
            if (!(v instanceof String s)) {
                throw bad(key, type, v);
            }
            string(s);
            return;
        }
        if (type == GgufValueType.BOOL) {
            if (!(v instanceof Boolean b)) {
                throw bad(key, type, v);
            }
            out.write(b ? 1 : 0);
            position++;
            return;
        }
        if (type == GgufValueType.FLOAT32 || type == GgufValueType.FLOAT64) {
            double d;
            if (v instanceof Number n) {
                d = n.doubleValue();
            } else if (v instanceof String s) {
                d = parseSpecial(key, type, s);
            } else {
                throw bad(key, type, v);
            }
            le(type == GgufValueType.FLOAT32 ? Float.floatToIntBits((float) d) : Double.doubleToLongBits(d), type.bytes());
            return;
        }
        le(integer(key, type, v), type.bytes());
    }

    private static double parseSpecial(String key, GgufValueType type, String s) {
        return switch (s) {
            case "NaN" -> Double.NaN;
            case "Infinity" -> Double.POSITIVE_INFINITY;
            case "-Infinity" -> Double.NEGATIVE_INFINITY;
            default -> throw bad(key, type, s);
        };
    }

    private static long integer(String key, GgufValueType type, Object v) {
        BigInteger x;
        if (v instanceof BigInteger b) {
            x = b;
        } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            x = BigInteger.valueOf(((Number) v).longValue());
        } else {
            throw bad(key, type, v);
        }
        boolean signed = type == GgufValueType.INT8 || type == GgufValueType.INT16 || type == GgufValueType.INT32
                || type == GgufValueType.INT64;
        int bits = 8 * type.bytes();
        BigInteger lo = signed ? BigInteger.ONE.shiftLeft(bits - 1).negate() : BigInteger.ZERO;
        BigInteger hi = signed ? BigInteger.ONE.shiftLeft(bits - 1).subtract(BigInteger.ONE)
                : BigInteger.ONE.shiftLeft(bits).subtract(BigInteger.ONE);
        if (x.compareTo(lo) < 0 || x.compareTo(hi) > 0) {
            throw new IllegalArgumentException("metadata '" + key + "': " + x + " does not fit " + type);
        }
        return x.longValue();
    }

    private static IllegalArgumentException bad(String key, GgufValueType type, Object v) {
        return new IllegalArgumentException("metadata '" + key + "': " + (v == null ? "null" : v.getClass().getSimpleName())
                + " value " + v + " cannot be written as " + type);
    }

    private void string(String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        u64(b.length);
        out.write(b);
        position += b.length;
    }

    private void u32(long v) throws IOException {
        le(v, 4);
    }

    private void u64(long v) throws IOException {
        le(v, 8);
    }

    private void le(long v, int bytes) throws IOException {
        for (int i = 0; i < bytes; i++) {
            scratch[i] = (byte) (v >>> (8 * i));
        }
        out.write(scratch, 0, bytes);
        position += bytes;
    }
}
