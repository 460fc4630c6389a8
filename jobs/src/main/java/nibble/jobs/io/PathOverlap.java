package nibble.jobs.io;

import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import nibble.common.InvalidInputException;
import nibble.common.table.Manifest;

/**
 * Refuses an output that would overwrite what the same run reads: an output that is, contains or
 * lies inside one of the run's inputs. Paths are compared qualified and normalized
 * ({@code FileSystem.makeQualified}), so {@code ./t}, {@code t/}, {@code /abs/t} and
 * {@code file:/abs/t} are the same place.
 *
 * <p>An input is exactly the data a run reads (docs/DESIGN-NOTES.md, "Outputs"): of a table, its
 * {@code manifest.json} and {@code tensors/} ({@link #table}), not the whole folder, so that
 * {@code calibrate}'s statistics may live in {@code <table>/stats}.
 */
public final class PathOverlap {
    private PathOverlap() {
    }

    /** How an output relates to an input it overlaps. */
    public enum Relation {
        IS("is"), CONTAINS("contains"), INSIDE("lies inside");

        private final String words;

        Relation(String words) {
            this.words = words;
        }

        @Override
        public String toString() {
            return words;
        }
    }

    /**
     * One path a run reads.
     *
     * @param label what it is, for the message: {@code --input}, {@code --stats}, ...
     * @param path the file or folder read
     */
    public record Read(String label, String path) {
        public Read {
            Objects.requireNonNull(label, "label");
            Objects.requireNonNull(path, "path");
        }
    }

    /** The data of the table at {@code dir}: its manifest and its {@code tensors/} folder. */
    public static List<Read> table(String label, String dir) {
        return List.of(new Read(label, new Path(dir, Manifest.FILE_NAME).toString()),
                new Read(label, new Path(dir, Manifest.DATA_DIR).toString()));
    }

    /** {@code uri} qualified by its file system: absolute, with scheme and authority, normalized. */
    public static Path qualify(String uri, Configuration conf) throws IOException {
        Path p = new Path(uri);
        return p.getFileSystem(conf).makeQualified(p);
    }

    /** How {@code output} relates to {@code input} (both qualified), or null when they do not overlap. */
    public static Relation relation(Path output, Path input) {
        java.net.URI o = output.toUri();
        java.net.URI i = input.toUri();
        if (!same(o.getScheme(), i.getScheme()) || !same(o.getAuthority(), i.getAuthority())) {
            return null;
        }
        String op = trim(o.getPath());
        String ip = trim(i.getPath());
        if (op.equals(ip)) {
            return Relation.IS;
        }
        if (ip.startsWith(op.endsWith("/") ? op : op + "/")) {
            return Relation.CONTAINS;
        }
        if (op.startsWith(ip.endsWith("/") ? ip : ip + "/")) {
            return Relation.INSIDE;
        }
        return null;
    }

    /**
     * Throws {@link InvalidInputException} (exit 3) naming the output, the relation and the input when
     * {@code output} is, contains or lies inside any of {@code reads}. Touches nothing.
     */
    public static void requireDisjoint(String output, List<Read> reads, Configuration conf) throws IOException {
        Path out = qualify(output, conf);
        for (Read r : reads) {
            Relation rel = relation(out, qualify(r.path(), conf));
            if (rel != null) {
                throw new InvalidInputException(Uris.redact(output) + ": the output " + rel + " " + Uris.redact(r.path()) + " ("
                        + r.label() + "), which this run reads; write the output somewhere else");
            }
        }
    }

    private static boolean same(String a, String b) {
        return a == null ? b == null : b != null && a.toLowerCase(Locale.ROOT).equals(b.toLowerCase(Locale.ROOT));
    }

    private static String trim(String path) {
        String p = path == null || path.isEmpty() ? "/" : path;
        while (p.length() > 1 && p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        return p;
    }
}
