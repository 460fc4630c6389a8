package nibble.jobs.table;

import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
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
 * renamed to {@code tensors/part-NNNNN.parquet} by plan index, and the manifest written last. Use it
 * in try-with-resources: closing a committer that did not commit deletes the temporary folder and
 * leaves the output as it was.
 */
public final class TableCommitter implements AutoCloseable {
    /** Entries that may sit in a folder that --overwrite is allowed to replace. */
    private static final Set<String> OWN_ENTRIES = Set.of(Manifest.FILE_NAME, Manifest.DATA_DIR, "_SUCCESS", "stats", StatsTables.CHANNELS_DIR, StatsTables.RECORD,
            "report.json", "report.md", "report.html");

    private final FileSystem fs;
    private final Path out;
    private final Path tmp;
    private final boolean overwrite;
    private boolean committed;

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
            boolean complete = fs.exists(new Path(out, Manifest.FILE_NAME)) || fs.exists(new Path(out, StatsTables.RECORD))
                    || fs.exists(new Path(out, "report.json"));
            if (complete && !overwrite) {
                throw new InvalidInputException(output + ": output already holds a complete result (pass --overwrite to replace it)");
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

    /** Where Spark writes a table's Parquet files. */
    public String tempDataDir() {
        return tempDir(Manifest.DATA_DIR);
    }

    /** Where Spark writes the files of the output's sub-folder {@code name}. */
    public String tempDir(String name) {
        return new Path(tmp, name).toString();
    }

    /**
     * Moves a table's written files into place and writes the manifest last.
     *
     * @param plans the file plans, one Spark partition (and so one written file) each
     * @param manifestFor builds the manifest given the final file list
     */
    public Manifest commit(List<FilePlan> plans, Function<List<FileEntry>, Manifest> manifestFor) throws IOException {
        Manifest[] built = new Manifest[1];
        commit(Map.of(Manifest.DATA_DIR, plans), Manifest.FILE_NAME, files -> {
            built[0] = manifestFor.apply(files);
            return built[0].toJson();
        });
        return built[0];
    }

    /**
     * Moves the files of each written sub-folder into place, renamed by plan index, then writes the
     * record file ({@code manifest.json}, {@code stats.json}, ...) last.
     *
     * @param folders sub-folder name → its file plans (one written file per plan), in commit order
     * @param recordFor the record file's bytes, given every moved file
     */
    public void commit(Map<String, List<FilePlan>> folders, String recordName,
                       Function<List<FileEntry>, byte[]> recordFor) throws IOException {
        commit(folders, recordName, Map.of(), recordFor);
    }

    /** As {@link #commit(Map, String, Function)}, also writing {@code extra} files (name → bytes) before the record. */
    public void commit(Map<String, List<FilePlan>> folders, String recordName, Map<String, byte[]> extra,
                       Function<List<FileEntry>, byte[]> recordFor) throws IOException {
        Map<String, List<Path>> written = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, List<FilePlan>> f : folders.entrySet()) {
            List<Path> parts = sparkParts(new Path(tmp, f.getKey()));
            if (parts.size() != f.getValue().size()) {
                throw new IllegalStateException("expected " + f.getValue().size() + " Parquet files in " + tmp + "/"
                        + f.getKey() + ", found " + parts.size());
            }
            written.put(f.getKey(), parts);
        }
        if (overwrite) {
            fs.delete(out, true);
        }
        List<FileEntry> files = new ArrayList<>();
        for (Map.Entry<String, List<FilePlan>> f : folders.entrySet()) {
            Path dir = new Path(out, f.getKey());
            fs.mkdirs(dir);
            List<Path> parts = written.get(f.getKey());
            for (int i = 0; i < parts.size(); i++) {
                FilePlan plan = f.getValue().get(i);
                Path dest = new Path(dir, plan.fileName());
                if (!fs.rename(parts.get(i), dest)) {
                    throw new IOException("could not move " + parts.get(i) + " to " + dest);
                }
                files.add(new FileEntry(f.getKey() + "/" + dest.getName(), plan.rows(), fs.getFileStatus(dest).getLen()));
            }
        }
        for (Map.Entry<String, byte[]> e : extra.entrySet()) {
            try (OutputStream o = fs.create(new Path(out, e.getKey()), true)) {
                o.write(e.getValue());
            }
        }
        Path tmpRecord = new Path(tmp, recordName);
        try (OutputStream o = fs.create(tmpRecord, true)) {
            o.write(recordFor.apply(files));
        }
        if (!fs.rename(tmpRecord, new Path(out, recordName))) {
            throw new IOException("could not move " + recordName + " into " + out);
        }
        fs.delete(tmp, true);
        committed = true;
    }

    /** Unless the output was committed, deletes the temporary folder; the output is left as it was. */
    @Override
    public void close() {
        if (committed) {
            return;
        }
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
