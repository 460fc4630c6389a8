package nibble.jobs.io;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import nibble.common.InvalidInputException;
import nibble.common.format.CheckpointFiles;
import nibble.common.io.ByteSource;

/**
 * A checkpoint (a directory, or a single file) on any Hadoop file system. File names are relative to
 * the directory (for a single file, to its parent), so tasks resolve them the same way.
 */
public final class HadoopCheckpointFiles implements CheckpointFiles {
    private final String root;
    private final FileSystem fs;
    private final Path dir;
    private final String single;

    private HadoopCheckpointFiles(String root, FileSystem fs, Path dir, String single) {
        this.root = root;
        this.fs = fs;
        this.dir = dir;
        this.single = single;
    }

    /** Opens the checkpoint at {@code uri}; a missing path is invalid input. */
    public static HadoopCheckpointFiles open(String uri, Configuration conf) throws IOException {
        Path path = new Path(uri);
        FileSystem fs = path.getFileSystem(conf);
        FileStatus status;
        try {
            status = fs.getFileStatus(path);
        } catch (FileNotFoundException e) {
            throw new InvalidInputException(uri + ": no such file or directory");
        }
        // qualified, so a bare file name ("model.safetensors") has a parent that tasks can resolve
        Path qualified = status.getPath();
        return status.isDirectory()
                ? new HadoopCheckpointFiles(uri, fs, qualified, null)
                : new HadoopCheckpointFiles(uri, fs, qualified.getParent(), qualified.getName());
    }

    /** The directory that names returned by {@link #list()} are relative to. */
    public String baseDir() {
        return dir.toString();
    }

    @Override
    public String root() {
        return root;
    }

    @Override
    public List<String> list() throws IOException {
        if (single != null) {
            return List.of(single);
        }
        List<String> names = new ArrayList<>();
        for (FileStatus s : fs.listStatus(dir)) {
            if (s.isFile()) {
                names.add(s.getPath().getName());
            }
        }
        names.sort(null);
        return names;
    }

    @Override
    public ByteSource open(String name) throws IOException {
        return new HadoopByteSource(fs, new Path(dir, name), name);
    }
}
