package nibble.jobs.table;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A pass-through stream that writes a Parquet file's footer in canonical order
 * ({@link CanonicalFooter}), without holding or re-reading the file's data.
 *
 * <p>Writes of at least {@link #PASS_THROUGH} bytes (data pages) go straight to the underlying
 * stream, but for their last 8 bytes; smaller writes (page headers, small pages, indexes, the
 * footer) are held, at most the last {@link #MAX_HELD} of them, and written out when a large write
 * follows or when the held bytes exceed the bound. On {@link #close()}, if the file begins and ends with {@code PAR1}, the footer
 * (the last {@code length + 8} bytes) is among the held bytes, is rewritten in canonical order (same
 * length) and then written. So the data is never copied more than once per small write, and the
 * cost is the footer's parse and write, a few microseconds.
 *
 * <p>{@link #flush()} flushes what was written through, not the held bytes: parquet-mr flushes
 * before it closes, and the footer must still be here then. A Parquet footer larger than
 * {@code MAX_HELD - 8} bytes (thousands of row groups), or one written in a single large write
 * (parquet-mr writes it field by field), cannot be made canonical: closing fails with an
 * {@link IOException} naming the file, so no such file is committed. Anything that is not a
 * complete Parquet file (an aborted attempt, an empty marker) is written unchanged.
 */
final class CanonicalFooterStream extends OutputStream {
    /** Writes this long or longer are not held. */
    static final int PASS_THROUGH = 64 << 10;
    /** The longest tail held: the bound on a footer (plus its 8-byte trailer) that can be made canonical. */
    static final int MAX_HELD = 4 << 20;
    private static final byte[] MAGIC = "PAR1".getBytes(StandardCharsets.US_ASCII);
    /** The footer's length and the closing magic. */
    private static final int TRAILER = 8;

    private final OutputStream out;
    private final String name;
    private final byte[] head = new byte[MAGIC.length];
    private final byte[] one = new byte[1];
    private byte[] held = new byte[8 << 10];
    private int n;
    private long written;
    private boolean closed;

    CanonicalFooterStream(OutputStream out, String name) {
        this.out = out;
        this.name = name;
    }

    @Override
    public void write(int b) throws IOException {
        one[0] = (byte) b;
        write(one, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        if (closed) {
            throw new IOException(name + ": stream closed");
        }
        for (int i = 0; written + i < head.length && i < len; i++) {
            head[(int) written + i] = b[off + i];
        }
        written += len;
        if (len >= PASS_THROUGH) { // its last 8 bytes held: a trailer in it is seen at close
            out.write(held, 0, n);
            out.write(b, off, len - TRAILER);
            System.arraycopy(b, off + len - TRAILER, held, 0, TRAILER);
            n = TRAILER;
            return;
        }
        if (n + len > held.length) {
            if (held.length < 2 * MAX_HELD) {
                held = Arrays.copyOf(held, Math.min(2 * MAX_HELD, Math.max(2 * held.length, n + len)));
            }
            if (n + len > held.length) { // full: write out the oldest bytes, keep the last MAX_HELD
                int drop = n + len - MAX_HELD;
                out.write(held, 0, drop);
                System.arraycopy(held, drop, held, 0, n - drop);
                n -= drop;
            }
        }
        System.arraycopy(b, off, held, n, len);
        n += len;
    }

    /** Flushes what has been written through; the held tail stays held until {@link #close()}. */
    @Override
    public void flush() throws IOException {
        out.flush();
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try (OutputStream o = out) {
            if (isParquet()) {
                int footer = ByteBuffer.wrap(held, n - 8, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
                if (footer < 0 || (long) footer + 8 + MAGIC.length > written) {
                    throw new IOException(name + ": Parquet footer length " + footer + " does not fit the file's " + written + " bytes");
                }
                if (footer + 8 > MAX_HELD) {
                    throw new IOException(name + ": Parquet footer of " + footer + " bytes is longer than the " + (MAX_HELD - 8)
                            + " that can be put in canonical order");
                }
                if (footer + 8 > n) {
                    throw new IOException(name + ": Parquet footer of " + footer + " bytes came in a write of "
                            + PASS_THROUGH + " bytes or more; cannot put it in canonical order");
                }
                int start = n - 8 - footer;
                byte[] canonical = CanonicalFooter.canonical(Arrays.copyOfRange(held, start, n - 8), name);
                System.arraycopy(canonical, 0, held, start, footer);
            }
            o.write(held, 0, n);
            n = 0;
        }
    }

    /** Begins and ends with PAR1 (a complete, unencrypted-footer Parquet file), its trailer held. */
    private boolean isParquet() {
        return written >= 12 && n >= 8 && Arrays.equals(head, MAGIC)
                && Arrays.equals(held, n - MAGIC.length, n, MAGIC, 0, MAGIC.length);
    }
}
