package nibble.common.io;

import java.io.Closeable;
import java.io.IOException;

/**
 * Positioned reads from a file of known length. {@code common} reads headers through this so that the
 * same parsers serve local files and Hadoop file systems ({@code file:}, {@code hdfs:}, {@code s3a:}).
 */
public interface ByteSource extends Closeable {

    /** The file's name as the user gave it, for error messages. */
    String name();

    /** The file's length in bytes. */
    long length() throws IOException;

    /** Reads exactly {@code len} bytes at {@code position}; fails if the file ends first. */
    void readFully(long position, byte[] buffer, int offset, int len) throws IOException;

    /** Reads exactly {@code len} bytes at {@code position} into a new array. */
    default byte[] read(long position, int len) throws IOException {
        byte[] b = new byte[len];
        readFully(position, b, 0, len);
        return b;
    }
}
