package nibble.jobs.table;

import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import nibble.common.InvalidInputException;
import nibble.common.table.FileEntry;
import nibble.common.table.FilePlan;
import nibble.common.table.Manifest;

/**
 * Writes a table so that a failed run never leaves one that looks complete: Spark writes into a
 * hidden sibling folder, and only after the data is verified are the files moved into the output,
 * renamed to {@code tensors/part-NNNNN.parquet} by plan index, and the manifest written last.
 */
public final class TableCommitter {
    /** Entries that may sit in a folder that --overwrite is allowed to replace. */
    private static final Set<String> OWN_ENTRIES = Set.of(Manifest.FILE_NAME, Manifest.DATA_DIR, "_SUCCESS");

    private final FileSystem fs;
    private final Path out;
    private final Path tmp;
    private final boolean overwrite;

    private TableCommitter(FileSystem fs, Path out, boolean overwrite) {
        this.fs = fs;
        this.out = out;
        this.tmp = new Path(out.getParent(), "." + out.getName() + ".nibble-tmp");
        this.overwrite = overwrite;
    }

    /**
     * Checks that {@code output} may be written (absent, empty, or a table and {@code overwrite}) and
     * clears a stale temporary folder. Nothing is created yet.
     */
    public static TableCommitter begin(String output, boolean overwrite, Configuration conf) throws IOException {
        Path out = new Path(output);
        FileSystem fs = out.getFileSystem(conf);
        if (out.getParent() == null) {
            throw new InvalidInputException(output + ": the output cannot be a file system root");
        }
        if (fs.exists(out)) {
            FileStatus st = fs.getFileStatus(out);
            if (!st.isDirectory()) {
                throw new InvalidInputException(output + ": output exists and is a file");
            }
            FileStatus[] entries = fs.listStatus(out);
            boolean table = fs.exists(new Path(out, Manifest.FILE_NAME));
            if (table && !overwrite) {
                throw new InvalidInputException(output + ": output already holds a table (pass --overwrite to replace it)");
            }
            boolean ours = Arrays.stream(entries).allMatch(e -> OWN_ENTRIES.contains(e.getPath().getName()));
            if (entries.length > 0 && !(overwrite && ours)) {
                throw new InvalidInputException(output + ": output exists and holds files that are not a Nibble table");
            }
        }
        TableCommitter c = new TableCommitter(fs, out, overwrite);
        fs.delete(c.tmp, true);
        return c;
    }

    /** Where Spark writes the Parquet files. */
    public String tempDataDir() {
        return new Path(tmp, Manifest.DATA_DIR).toString();
    }

    /**
     * Moves the written files into place and writes the manifest last.
     *
     * @param plans the file plans, one Spark partition (and so one written file) each
     * @param manifestFor builds the manifest given the final file list
     */
    public Manifest commit(List<FilePlan> plans, Function<List<FileEntry>, Manifest> manifestFor) throws IOException {
        List<Path> written = sparkParts(new Path(tmp, Manifest.DATA_DIR));
        if (written.size() != plans.size()) {
            throw new IllegalStateException("expected " + plans.size() + " Parquet files in " + tmp + ", found " + written.size());
        }
        if (overwrite) {
            fs.delete(out, true);
        }
        Path dataDir = new Path(out, Manifest.DATA_DIR);
        fs.mkdirs(dataDir);
        List<FileEntry> files = new ArrayList<>();
        for (int i = 0; i < plans.size(); i++) {
            Path dest = new Path(dataDir, plans.get(i).fileName());
            if (!fs.rename(written.get(i), dest)) {
                throw new IOException("could not move " + written.get(i) + " to " + dest);
            }
            files.add(new FileEntry(Manifest.DATA_DIR + "/" + dest.getName(), plans.get(i).rows(),
                    fs.getFileStatus(dest).getLen()));
        }
        Manifest manifest = manifestFor.apply(files);
        Path tmpManifest = new Path(tmp, Manifest.FILE_NAME);
        try (OutputStream o = fs.create(tmpManifest, true)) {
            o.write(manifest.toJson());
        }
        if (!fs.rename(tmpManifest, new Path(out, Manifest.FILE_NAME))) {
            throw new IOException("could not move the manifest into " + out);
        }
        fs.delete(tmp, true);
        return manifest;
    }

    /** Deletes the temporary folder after a failure; the output is left as it was. */
    public void abort() {
        try {
            fs.delete(tmp, true);
        } catch (IOException ignored) {
            // the next run clears a stale temporary folder too
        }
    }

    private List<Path> sparkParts(Path dir) throws IOException {
        List<Path> parts = new ArrayList<>();
        for (FileStatus s : fs.listStatus(dir)) {
            String name = s.getPath().getName();
            if (s.isFile() && name.startsWith("part-") && name.endsWith(".parquet")) {
                parts.add(s.getPath());
            }
        }
        parts.sort((a, b) -> Long.compare(partNumber(a), partNumber(b)));
        return parts;
    }

    private static long partNumber(Path p) {
        String n = p.getName();
        int dash = n.indexOf('-', 5);
        return Long.parseLong(n.substring(5, dash < 0 ? n.indexOf('.') : dash));
    }
}
