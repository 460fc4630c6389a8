package nibble.common.io;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** A {@link ByteSource} over a local file. */
public final class FileByteSource implements ByteSource {
    private final Path path;
    private final FileChannel channel;

    public FileByteSource(Path path) throws IOException {
        this.path = path;
        this.channel = FileChannel.open(path, StandardOpenOption.READ);
    }

    @Override
    public String name() {
        return path.toString();
    }

    @Override
    public long length() throws IOException {
        return channel.size();
    }

    @Override
    public void readFully(long position, byte[] buffer, int offset, int len) throws IOException {
        ByteBuffer bb = ByteBuffer.wrap(buffer, offset, len);
        long pos = position;
        while (bb.hasRemaining()) {
            int n = channel.read(bb, pos);
            if (n < 0) {
                throw new EOFException(path + ": end of file at byte " + pos);
            }
            pos += n;
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
