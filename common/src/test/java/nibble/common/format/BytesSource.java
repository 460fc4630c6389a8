package nibble.common.format;

import java.io.EOFException;
import nibble.common.io.ByteSource;

/** An in-memory {@link ByteSource} for hand-built files. */
final class BytesSource implements ByteSource {
    private final String name;
    private final byte[] bytes;

    BytesSource(String name, byte[] bytes) {
        this.name = name;
        this.bytes = bytes;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long length() {
        return bytes.length;
    }

    @Override
    public void readFully(long position, byte[] buffer, int offset, int len) throws EOFException {
        if (position < 0 || position + len > bytes.length) {
            throw new EOFException(name + ": read past end");
        }
        System.arraycopy(bytes, (int) position, buffer, offset, len);
    }

    @Override
    public void close() {
    }
}
