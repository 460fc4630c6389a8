package nibble.jobs.table;

import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.ChecksumFileSystem;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import nibble.common.InvalidInputException;
import nibble.jobs.io.PathOverlap;

/**
 * {@link TableCommitter}'s protocol for a single output file (a GGUF export): the output is claimed
 * ({@link OutputClaim}), written under the claim's temporary sibling name, and renamed into place only
 * when complete. Closing without {@link #commit} deletes the temporary file and leaves the output as
 * it was: a failed run leaves nothing that looks like a result.
 */
public final class FileCommitter implements AutoCloseable {
    private final FileSystem fs;
    private final Path out;
    private final Path tmp;
    private final boolean overwrite;
    private final OutputClaim claim;
    private boolean committed;

    private FileCommitter(FileSystem fs, Path out, boolean overwrite, OutputClaim claim) {
        this.fs = fs;
        this.out = out;
        this.tmp = claim.tempSibling();
        this.overwrite = overwrite;
        this.claim = claim;
    }

    /**
     * Checks that {@code output} may be written (not over anything in {@code reads}; absent, or a file
     * and {@code overwrite}) and claims it.
     */
    public static FileCommitter begin(String output, boolean overwrite, Configuration conf, List<PathOverlap.Read> reads)
            throws IOException {
        Path out = new Path(output);
        FileSystem fs = out.getFileSystem(conf);
        if (fs instanceof ChecksumFileSystem local) {
            fs = local.getRawFileSystem(); // no .crc sidecar beside a file users hand to other tools
        }
        if (out.getParent() == null) {
            throw new InvalidInputException(output + ": the output cannot be a file system root");
        }
        PathOverlap.requireDisjoint(output, reads, conf);
        OutputClaim claim = OutputClaim.acquire(fs, out, conf);
        try {
            if (fs.exists(out)) {
                FileStatus st = fs.getFileStatus(out);
                if (st.isDirectory()) {
                    throw new InvalidInputException(output + ": output exists and is a folder, not a file");
                }
                if (!overwrite) {
                    throw new InvalidInputException(output + ": output already exists (pass --overwrite to replace it)");
                }
            }
            claim.clearStaleTemps();
            return new FileCommitter(fs, out, overwrite, claim);
        } catch (IOException | RuntimeException e) {
            claim.close();
            throw e;
        }
    }

    /** Creates the temporary file to write. */
    public OutputStream create() throws IOException {
        return fs.create(tmp, false);
    }

    /** Moves the written file into place, replacing an existing output when {@code overwrite} was given. */
    public void commit() throws IOException {
        claim.requireHeld();
        if (overwrite && fs.exists(out)) {
            fs.delete(out, false);
        }
        if (!fs.rename(tmp, out)) {
            throw new IOException("could not rename " + tmp + " to " + out);
        }
        committed = true;
    }

    /** Unless committed, deletes the temporary file; releases the claim. */
    @Override
    public void close() {
        try {
            if (!committed) {
                fs.delete(tmp, false);
            }
        } catch (IOException ignored) {
            // the next holder of the claim clears a stale temporary file
        } finally {
            claim.close();
        }
    }
}
