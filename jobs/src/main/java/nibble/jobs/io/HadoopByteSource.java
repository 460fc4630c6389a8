package nibble.jobs.io;

import java.io.IOException;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import nibble.common.io.ByteSource;

/** A {@link ByteSource} over any Hadoop file system: positioned reads work on file:, hdfs: and s3a:. */
public final class HadoopByteSource implements ByteSource {
    private final String name;
    private final FSDataInputStream in;
    private final long length;

    public HadoopByteSource(FileSystem fs, Path path, String name) throws IOException {
        this.name = name;
        this.length = fs.getFileStatus(path).getLen();
        this.in = fs.open(path);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long length() {
        return length;
    }

    @Override
    public void readFully(long position, byte[] buffer, int offset, int len) throws IOException {
        in.readFully(position, buffer, offset, len);
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
