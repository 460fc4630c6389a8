package nibble.jobs.table;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.util.ShutdownHookManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import nibble.common.InvalidInputException;
import nibble.common.json.Json;
import nibble.jobs.io.Uris;

/**
 * One run's exclusive claim on an output: the hidden sibling file {@code .<name>.nibble-claim},
 * created only if absent, so two runs never write the same output. The loser touches nothing and
 * is told who holds the claim. The holder writes into its own temporary sibling
 * {@code .<name>.nibble-tmp-<run>} ({@link #tempSibling}) and, holding the claim, may delete the
 * temporary siblings of runs that died ({@link #clearStaleTemps}): only a claim holder ever makes one.
 *
 * <p>Create-if-absent is atomic on the local file system (NIO {@code CREATE_NEW}), on HDFS
 * ({@code create(path, false)}) and on S3 when S3A supports conditional writes (Hadoop 3.4.2,
 * {@code fs.s3a.create.conditional.enabled}, default true: {@code If-None-Match: *}). Elsewhere it is
 * check-then-write, and the claim is read back after it is made and again before commit
 * ({@link #requireHeld}), so of two runs that raced at most one commits.
 *
 * <p>Released when the run ends, successful or not ({@link #close}), and by a shutdown hook when the
 * JVM is stopped (SIGINT, SIGTERM). The holder refreshes the claim every fifth of
 * {@value #STALE_MINUTES_KEY} (default {@value #DEFAULT_STALE_MINUTES} minutes); a claim not refreshed
 * for that long, made on this host by a process that is gone, or made by this process for a run that
 * has ended (its release failed, e.g. the store was down) is stale and the next run replaces it. {@code --overwrite} and {@code --force} never clear a live claim; deleting the claim file does.
 */
public final class OutputClaim implements AutoCloseable {
    public static final String CLAIM_SUFFIX = ".nibble-claim";
    public static final String TMP_SUFFIX = ".nibble-tmp";
    /** Hadoop configuration key (e.g. {@code spark.hadoop.nibble.claim.stale-minutes}): minutes without a refresh after which a claim is stale. */
    public static final String STALE_MINUTES_KEY = "nibble.claim.stale-minutes";
    public static final long DEFAULT_STALE_MINUTES = 10;
    /** Runs after Spark's own shutdown hook (40) and before Hadoop closes its file systems (10). */
    private static final int SHUTDOWN_PRIORITY = 20;
    private static final String CONDITIONAL_CREATE = "fs.option.create.conditional.overwrite";
    private static final Logger LOG = LoggerFactory.getLogger(OutputClaim.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    /** The runs whose claims this JVM holds: a claim naming this process but none of these was left by a finished run. */
    private static final Set<String> LIVE = ConcurrentHashMap.newKeySet();

    private final FileSystem fs;
    private final Path out;
    private final Path claim;
    private final String run;
    private final byte[] record;
    private final List<Path> temps = new ArrayList<>();
    private final ScheduledExecutorService heartbeat;
    private final Runnable hook;
    private volatile boolean released;

    private OutputClaim(FileSystem fs, Path out, Path claim, String run, byte[] record, long refreshMillis) {
        this.fs = fs;
        this.out = out;
        this.claim = claim;
        this.run = run;
        this.record = record;
        LIVE.add(run);
        this.heartbeat = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "nibble-claim " + out.getName());
            t.setDaemon(true);
            return t;
        });
        heartbeat.scheduleWithFixedDelay(this::refresh, refreshMillis, refreshMillis, TimeUnit.MILLISECONDS);
        this.hook = this::releaseAtExit;
        try {
            ShutdownHookManager.get().addShutdownHook(hook, SHUTDOWN_PRIORITY);
        } catch (IllegalStateException shuttingDown) {
            // the JVM is already stopping
        }
    }

    /** The claim file of {@code out}: its hidden sibling. */
    public static Path claimPath(Path out) {
        return new Path(out.getParent(), "." + out.getName() + CLAIM_SUFFIX);
    }

    /**
     * Claims {@code out} for this run, replacing a stale claim.
     *
     * @throws InvalidInputException (exit 3) when another live run holds it, naming that run
     */
    public static OutputClaim acquire(FileSystem fs, Path out, Configuration conf) throws IOException {
        if (out.getParent() == null) {
            throw new InvalidInputException(out + ": the output cannot be a file system root");
        }
        Path claim = claimPath(out);
        String run = HexFormat.of().formatHex(randomBytes());
        byte[] record = record(run, out);
        long staleMillis = TimeUnit.MINUTES.toMillis(conf.getLong(STALE_MINUTES_KEY, DEFAULT_STALE_MINUTES));
        for (int attempt = 0; attempt < 3; attempt++) {
            if (create(fs, claim, run, record) && run.equals(runOf(read(fs, claim)))) {
                return new OutputClaim(fs, out, claim, run, record, Math.max(1000, staleMillis / 5));
            }
            Existing e = existing(fs, claim);
            if (e == null) {
                continue; // released meanwhile: try again
            }
            String stale = staleReason(e, staleMillis);
            if (stale == null) {
                throw conflict(out, claim, e, staleMillis);
            }
            LOG.warn("{}: replacing a stale claim ({}): {}", Uris.redact(out.toString()), stale, e.describe());
            fs.delete(claim, false);
        }
        Existing e = existing(fs, claim);
        if (e != null) {
            throw conflict(out, claim, e, staleMillis);
        }
        throw new IOException(claim + ": could not create the claim file");
    }

    /** This run's id, which names its temporary sibling and is recorded in the claim. */
    public String run() {
        return run;
    }

    /** This run's temporary sibling of the output: deleted when the claim is released, and at JVM exit. */
    public synchronized Path tempSibling() {
        Path tmp = new Path(out.getParent(), "." + out.getName() + TMP_SUFFIX + "-" + run);
        if (!temps.contains(tmp)) {
            temps.add(tmp);
        }
        return tmp;
    }

    /**
     * Deletes the temporary siblings of the output that are not this run's: {@code .<name>.nibble-tmp}
     * and {@code .<name>.nibble-tmp-*}. Only a claim holder makes one, so those belong to runs that
     * died (or to Nibble versions before claims). Also deletes the pending claim records
     * {@code .<name>.nibble-claim-*} of runs that died before their claim was made (a run that is
     * making one then finds it gone and loses, as it would have to this claim).
     */
    public void clearStaleTemps() throws IOException {
        String prefix = "." + out.getName() + TMP_SUFFIX;
        String pending = claim.getName() + "-";
        FileStatus[] siblings;
        try {
            siblings = fs.listStatus(out.getParent(),
                    p -> p.getName().equals(prefix) || p.getName().startsWith(prefix + "-") || p.getName().startsWith(pending));
        } catch (FileNotFoundException noParent) {
            return;
        }
        for (FileStatus s : siblings) {
            if (!temps.contains(s.getPath()) && !s.getPath().getName().equals(prefix + "-" + run)) {
                fs.delete(s.getPath(), true);
            }
        }
    }

    /** Whether the claim file still names this run. */
    public boolean held() {
        try {
            return !released && run.equals(runOf(read(fs, claim)));
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * Throws unless this run still holds the claim: called before anything is moved into the output,
     * so a run whose stale-looking claim was replaced never commits over the new holder's work.
     */
    public void requireHeld() {
        if (!held()) {
            Existing e = null;
            try {
                e = existing(fs, claim);
            } catch (IOException ignored) {
                // described as unknown
            }
            throw new IllegalStateException(Uris.redact(out.toString()) + ": this run lost its claim on the output "
                    + (e == null ? "(the claim file is gone)" : "to " + e.describe())
                    + "; nothing was committed (was this run stalled for longer than " + STALE_MINUTES_KEY + "?)");
        }
    }

    /** Stops refreshing and deletes the claim if it is still this run's. */
    @Override
    public void close() {
        if (released) {
            return;
        }
        heartbeat.shutdownNow();
        try {
            heartbeat.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            if (held()) {
                fs.delete(claim, false);
            }
        } catch (IOException ignored) {
            // a left claim goes stale
        }
        released = true;
        LIVE.remove(run);
        try {
            ShutdownHookManager.get().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or has run
        }
    }

    private void releaseAtExit() {
        if (released) {
            return;
        }
        heartbeat.shutdownNow();
        List<Path> mine;
        synchronized (this) {
            mine = new ArrayList<>(temps);
        }
        for (Path t : mine) {
            try {
                fs.delete(t, true);
            } catch (IOException | RuntimeException ignored) {
                // best effort at exit: the next holder clears stale temporary folders
            }
        }
        close();
    }

    /** Rewrites the claim (a new modification time) while it is still this run's. */
    private void refresh() {
        try {
            if (!held()) {
                return;
            }
            java.io.File local = localFile(fs, claim);
            if (local != null) {
                Files.setLastModifiedTime(local.toPath(), FileTime.fromMillis(System.currentTimeMillis()));
            } else {
                try (FSDataOutputStream o = fs.create(claim, true)) {
                    o.write(record);
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("could not refresh {}", claim, e);
        }
    }

    // ---- the claim file

    /** What is recorded in a claim: who made it, where, when. */
    private static byte[] record(String run, Path out) {
        ObjectNode m = Json.object();
        m.put("format", "nibble-claim");
        m.put("run", run);
        m.put("host", Host.NAME);
        m.put("pid", ProcessHandle.current().pid());
        m.put("pid_namespace", Host.PID_NAMESPACE);
        m.put("user", System.getProperty("user.name"));
        m.put("started", Instant.now().toString());
        m.put("output", Uris.redact(out.toString()));
        return Json.write(m);
    }

    private static byte[] randomBytes() {
        byte[] b = new byte[8];
        RANDOM.nextBytes(b);
        return b;
    }

    /** Creates the claim file with {@code bytes} unless it exists; false when it existed. */
    private static boolean create(FileSystem fs, Path claim, String run, byte[] bytes) throws IOException {
        java.io.File local = localFile(fs, claim);
        if (local != null) {
            return createLocal(local.toPath(), local.toPath().resolveSibling(claim.getName() + "-" + run), bytes);
        }
        if (fs.exists(claim)) {
            return false; // the common case, answered without a write that fails (and that S3A logs at length)
        }
        boolean conditional = false;
        try {
            conditional = fs.hasPathCapability(claim, CONDITIONAL_CREATE);
        } catch (IOException | RuntimeException unsupported) {
            // plain create
        }
        try {
            if (conditional) {
                // S3: PUT with If-None-Match: * at close, which fails when the object exists
                try (FSDataOutputStream o = (FSDataOutputStream) fs.createFile(claim).overwrite(true).recursive()
                        .must(CONDITIONAL_CREATE, true).build()) {
                    o.write(bytes);
                }
            } else {
                try (OutputStream o = fs.create(claim, false)) {
                    o.write(bytes);
                }
            }
            return true;
        } catch (org.apache.hadoop.fs.FileAlreadyExistsException e) {
            return false;
        } catch (IOException e) {
            // a failed conditional write surfaces as an IOException (412 Precondition Failed)
            if (fs.exists(claim)) {
                return false;
            }
            throw e;
        }
    }

    /**
     * Creates the local claim whole or not at all: the record is written to this run's pending file
     * and hard-linked to the claim's name, which fails if the claim exists. A process killed while
     * writing leaves a partial pending file ({@code .<name>.nibble-claim-<run>}, cleared by
     * {@link #clearStaleTemps}), never an empty claim that no later run could judge
     * stale. Where links are unsupported, the claim is created and written in place.
     */
    private static boolean createLocal(java.nio.file.Path claim, java.nio.file.Path pending, byte[] bytes) throws IOException {
        Files.createDirectories(claim.getParent());
        try {
            Files.write(pending, bytes);
            Files.createLink(claim, pending);
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        } catch (java.nio.file.NoSuchFileException e) {
            return false; // the pending file was cleared by the run that holds the claim
        } catch (UnsupportedOperationException | java.nio.file.FileSystemException noLinks) {
            try {
                Files.write(claim, bytes, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                return true;
            } catch (FileAlreadyExistsException e) {
                return false;
            }
        } finally {
            Files.deleteIfExists(pending);
        }
    }

    /** The local file behind {@code p} on the local file system, else null. */
    private static java.io.File localFile(FileSystem fs, Path p) {
        if (fs instanceof LocalFileSystem || fs instanceof RawLocalFileSystem) {
            return new java.io.File(fs.makeQualified(p).toUri());
        }
        return null;
    }

    private static JsonNode read(FileSystem fs, Path claim) throws IOException {
        byte[] bytes;
        try (InputStream in = fs.open(claim)) {
            bytes = in.readNBytes(64 << 10);
        } catch (FileNotFoundException gone) {
            return null;
        }
        try {
            return Json.parseObject(bytes, claim.toString());
        } catch (InvalidInputException corrupt) {
            return null;
        }
    }

    private static String runOf(JsonNode n) {
        return n == null || !n.hasNonNull("run") ? null : n.get("run").asText();
    }

    /** An existing claim: its file's modification time and its record (null when unreadable). */
    private record Existing(long modified, JsonNode record) {
        String field(String name) {
            return record == null || !record.hasNonNull(name) ? null : record.get(name).asText();
        }

        String describe() {
            if (record == null) {
                return "an unknown run (unreadable claim, last written " + Instant.ofEpochMilli(modified) + ")";
            }
            return field("user") + "@" + field("host") + " pid " + field("pid") + " at " + field("started") + ", run " + field("run");
        }
    }

    private static Existing existing(FileSystem fs, Path claim) throws IOException {
        FileStatus st;
        try {
            st = fs.getFileStatus(claim);
        } catch (FileNotFoundException gone) {
            return null;
        }
        return new Existing(st.getModificationTime(), read(fs, claim));
    }

    /**
     * Why the claim file {@code claim} (another output's, e.g. one nested inside an output being
     * replaced) is stale by the same rules as {@link #acquire}, "gone" when it no longer exists, or null
     * when it may belong to a live run.
     */
    public static String staleReason(FileSystem fs, Path claim, Configuration conf) throws IOException {
        Existing e = existing(fs, claim);
        return e == null ? "gone" : staleReason(e, TimeUnit.MINUTES.toMillis(conf.getLong(STALE_MINUTES_KEY, DEFAULT_STALE_MINUTES)));
    }

    /** Why a claim is stale, or null when it may belong to a live run. */
    private static String staleReason(Existing e, long staleMillis) {
        long age = System.currentTimeMillis() - e.modified();
        if (age > staleMillis) {
            return "not refreshed for " + age / 60_000 + " min";
        }
        String pid = e.field("pid");
        if (pid != null && Host.NAME.equals(e.field("host")) && String.valueOf(Host.PID_NAMESPACE).equals(String.valueOf(e.field("pid_namespace")))) {
            try {
                long p = Long.parseLong(pid);
                if (p != ProcessHandle.current().pid() && ProcessHandle.of(p).map(h -> !h.isAlive()).orElse(true)) {
                    return "its process " + p + " on this host is gone";
                }
                if (p == ProcessHandle.current().pid() && !LIVE.contains(String.valueOf(e.field("run")))) {
                    return "left by a finished run of this process, which could not delete it";
                }
            } catch (NumberFormatException ignored) {
                // not ours to judge
            }
        }
        return null;
    }

    private static InvalidInputException conflict(Path out, Path claim, Existing e, long staleMillis) {
        return new InvalidInputException(Uris.redact(out.toString()) + ": another Nibble run is writing here (claimed by " + e.describe()
                + "); wait for it to finish, or if it is no longer running delete " + Uris.redact(claim.toString())
                + " (a claim not refreshed for " + staleMillis / 60_000 + " min is replaced automatically)");
    }

    /** This host's name and PID namespace, which with a pid identify a process. */
    private static final class Host {
        static final String NAME = hostName();
        static final String PID_NAMESPACE = pidNamespace();

        private static String hostName() {
            try {
                return InetAddress.getLocalHost().getHostName();
            } catch (IOException | RuntimeException e) {
                String env = System.getenv("HOSTNAME");
                return env != null ? env : "unknown-host";
            }
        }

        private static String pidNamespace() {
            try {
                return Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/ns/pid")).toString();
            } catch (IOException | RuntimeException e) {
                return null;
            }
        }
    }
}
