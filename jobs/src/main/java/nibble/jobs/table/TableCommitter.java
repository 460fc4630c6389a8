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
import nibble.jobs.io.PathOverlap;

/**
 * Writes a table so that a failed run never leaves one that looks complete: Spark writes into a
 * hidden sibling folder, and only after the data is verified are the files moved into the output,
 * renamed to {@code tensors/part-NNNNN.parquet} by plan index, and the manifest written last. Use it
 * in try-with-resources: closing a committer that did not commit deletes the temporary folder and
 * leaves the output as it was.
 *
 * <p>{@link #begin} refuses an output that overlaps what the run reads ({@link PathOverlap}), then
 * claims the output for this run ({@link OutputClaim}): the temporary folder is this run's own
 * ({@code .<name>.nibble-tmp-<run>}), a second run writing the same output is refused and touches
 * nothing, and the claim is released when the committer is closed.
 */
public final class TableCommitter implements AutoCloseable {
    /** Entries that may sit in a folder that --overwrite is allowed to replace. */
    private static final Set<String> OWN_ENTRIES = Set.of(Manifest.FILE_NAME, Manifest.DATA_DIR, "_SUCCESS", "stats", StatsTables.CHANNELS_DIR, StatsTables.RECORD,
            "report.json", "report.md", "report.html");

    private final FileSystem fs;
    private final Path out;
    private final Path tmp;
    private final boolean overwrite;
    private final OutputClaim claim;
    private boolean committed;

    private TableCommitter(FileSystem fs, Path out, boolean overwrite, OutputClaim claim) {
        this.fs = fs;
        this.out = out;
        this.tmp = claim.tempSibling();
        this.overwrite = overwrite;
        this.claim = claim;
    }

    /**
     * Checks that {@code output} may be written: it is not, does not contain and does not lie inside
     * any of {@code reads} (checked before anything is touched); no other live run holds it; it is
     * absent, empty, or a Nibble result and {@code overwrite}. Then claims it and clears temporary
     * folders that crashed runs left beside it. No output is created yet.
     *
     * @param reads every path the run reads: of a table its data ({@link PathOverlap#table}), not its folder
     */
    public static TableCommitter begin(String output, boolean overwrite, Configuration conf, List<PathOverlap.Read> reads)
            throws IOException {
        Path out = new Path(output);
        FileSystem fs = out.getFileSystem(conf);
        if (out.getParent() == null) {
            throw new InvalidInputException(output + ": the output cannot be a file system root");
        }
        PathOverlap.requireDisjoint(output, reads, conf);
        OutputClaim claim = OutputClaim.acquire(fs, out, conf);
        try {
            checkOutput(fs, out, output, overwrite, conf);
            claim.clearStaleTemps();
            return new TableCommitter(fs, out, overwrite, claim);
        } catch (IOException | RuntimeException e) {
            claim.close();
            throw e;
        }
    }

    private static void checkOutput(FileSystem fs, Path out, String output, boolean overwrite, Configuration conf) throws IOException {
        if (!fs.exists(out)) {
            return;
        }
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
        // a claim inside the output is another run writing there (calibrate's stats/ in a table), unless it
        // is stale by the claim rules (its process on this host is gone after a kill -9, or not refreshed)
        java.util.Set<String> staleClaims = new java.util.HashSet<>();
        for (FileStatus e : entries) {
            String name = e.getPath().getName();
            if (name.startsWith(".") && name.endsWith(OutputClaim.CLAIM_SUFFIX)) {
                if (OutputClaim.staleReason(fs, e.getPath(), conf) == null) {
                    throw new InvalidInputException(output + ": another Nibble run is writing inside this folder (" + name
                            + "); wait for it to finish, or if it is no longer running delete " + e.getPath());
                }
                staleClaims.add(name);
            }
        }
        // temporary folders and stale claims that runs writing inside this output left behind go with it
        boolean ours = Arrays.stream(entries).map(e -> e.getPath().getName())
                .allMatch(n -> OWN_ENTRIES.contains(n) || n.startsWith(".") && n.contains(OutputClaim.TMP_SUFFIX)
                        || staleClaims.contains(n));
        if (entries.length > 0 && !(overwrite && ours)) {
            throw new InvalidInputException(output + ": output exists and holds files that are not a Nibble table");
        }
    }

    /**
     * Throws unless this run still holds its claim on the output. Call it before blaming the input
     * for what was found in the temporary folder: a run whose claim was taken over may have lost it.
     */
    public void requireClaim() {
        claim.requireHeld();
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
        claim.requireHeld();
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

    /** Unless the output was committed, deletes the temporary folder (the output is left as it was); releases the claim. */
    @Override
    public void close() {
        try {
            if (!committed) {
                fs.delete(tmp, true);
            }
        } catch (IOException ignored) {
            // the next holder of the claim clears a stale temporary folder
        } finally {
            claim.close();
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
