package nibble.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import nibble.common.DType;

/**
 * {@code bin/nibble} as a user runs it, in its own process: an error raised inside a Spark task
 * (a NaN weight met while quantizing) ends in exit 3 and one line naming the input and the problem,
 * without Spark's executor and task-set stack traces or the JVM's incubator-module warning; with
 * {@code NIBBLE_DEBUG=1} Spark's reports of the failed task are shown. Bounded retries against an
 * unreachable store, and the class archive that shortens start-up.
 */
class LauncherTest {
    @TempDir
    Path dir;

    @Test
    void aFailedTaskIsOneLineUnlessDebugging() throws Exception {
        Path ckpt = ShardRoundTripTest.tinyCheckpoint(dir.resolve("ckpt"), DType.F32, 0);
        BadInputMatrixTest.patch(ckpt, "model.layers.0.self_attn.q_proj.weight", 70, Float.NaN);
        Path table = dir.resolve("table");
        assertEquals(0, launch(false, "shard", "--input", ckpt.toString(), "--output", table.toString(), "--allow-non-finite").exit);

        Launched quiet = launch(false, "quantize", "--input", table.toString(), "--output", dir.resolve("q").toString(),
                "--recipe", "int4-g32");
        assertEquals(3, quiet.exit, quiet.err);
        List<String> nibbleLines = quiet.err.lines().filter(l -> l.startsWith("nibble ")).toList();
        assertEquals(1, nibbleLines.size(), quiet.err);
        assertTrue(nibbleLines.get(0).startsWith("nibble quantize: error: " + table + ": tensor 'model.layers.0.self_attn.q_proj.weight'"),
                nibbleLines.get(0));
        assertFalse(quiet.err.contains("Exception") || quiet.err.contains("\tat ") || quiet.err.contains("WARNING: Using incubator"),
                "only Nibble's own lines:\n" + quiet.err);
        assertTrue(quiet.err.lines().count() < 10, quiet.err);

        Launched debug = launch(true, "quantize", "--input", table.toString(), "--output", dir.resolve("q2").toString(),
                "--recipe", "int4-g32");
        assertEquals(3, debug.exit, debug.err);
        assertTrue(debug.err.contains("TaskSetManager") || debug.err.contains("Executor"), "Spark's task reports with NIBBLE_DEBUG=1");
    }

    /**
     * An S3 endpoint where nothing listens (a closed loopback port): each failed attempt is a line on
     * stderr as it happens, the run gives up within Nibble's bound (S3aRetries: 4 retries from 500 ms)
     * with exit 1 and one line naming the operation, the path and the settings, and a lower
     * {@code fs.s3a.retry.limit} given with {@code --conf}-style settings gives up sooner.
     */
    @Test
    void anUnreachableStoreIsRetriedVisiblyAndGivenUpOnInBoundedTime() throws Exception {
        int port = S3Server.freePort();
        String s3 = " -Dspark.hadoop.fs.s3a.endpoint=http://127.0.0.1:" + port + " -Dspark.hadoop.fs.s3a.path.style.access=true"
                + " -Dspark.hadoop.fs.s3a.endpoint.region=us-east-1 -Dspark.hadoop.fs.s3a.access.key=id"
                + " -Dspark.hadoop.fs.s3a.secret.key=secret"
                + " -Dspark.hadoop.fs.s3a.aws.credentials.provider=org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider";
        String[] shard = {"shard", "--input", "s3a://registry/m/v1/", "--output", dir.resolve("t").toString()};

        long t0 = System.nanoTime();
        Launched byDefault = launchWith(s3, shard);
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(1, byDefault.exit, byDefault.err);
        List<String> attempts = byDefault.err.lines().filter(l -> l.startsWith("[s3a] attempt failed: ")).toList();
        assertEquals(5, attempts.size(), "the first try and 4 retries, a line each:\n" + byDefault.err);
        assertTrue(attempts.get(0).contains("Connection refused") && !attempts.get(0).contains("\tat "), attempts.get(0));
        List<String> last = byDefault.err.lines().filter(l -> l.startsWith("nibble ")).toList();
        assertEquals(1, last.size(), byDefault.err);
        assertTrue(last.get(0).startsWith("nibble shard: failed: cannot reach the S3 store: getFileStatus on s3a://registry/m/v1/"),
                last.get(0));
        assertTrue(last.get(0).contains("Connection refused; gave up after ") && last.get(0).contains("fs.s3a.retry.limit=4"), last.get(0));
        assertTrue(seconds < 60, "gave up after " + seconds + " s (JVM start-up included)");
        assertFalse(byDefault.err.contains("secret"), byDefault.err);

        Launched fewer = launchWith(s3 + " -Dspark.hadoop.fs.s3a.retry.limit=1", shard);
        assertEquals(1, fewer.exit, fewer.err);
        assertEquals(2, fewer.err.lines().filter(l -> l.startsWith("[s3a] attempt failed: ")).count(), fewer.err);
        assertTrue(fewer.err.contains("fs.s3a.retry.limit=1,"), fewer.err);
    }

    /**
     * An S3 endpoint that accepts connections and never answers (a loopback socket nobody reads): each
     * S3A attempt ends at the read timeout with a line on stderr, and shard and quantize give up within
     * the bound the final line states (S3aRetries.boundMillis). The settings are small so that this runs
     * in seconds: 1 s asked for, which S3A raises to its minimum of 15 s (the line says so), no SDK
     * retries, 1 S3A retry for shard and none for quantize.
     */
    @Test
    void aStoreThatNeverAnswersIsGivenUpOnWithinTheStatedBound() throws Exception {
        try (java.net.ServerSocket silent = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            List<java.net.Socket> held = java.util.Collections.synchronizedList(new ArrayList<>());
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        held.add(silent.accept()); // accepted, never read, never answered
                    }
                } catch (java.io.IOException closed) {
                    // the test is over
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            String s3 = " -Dspark.hadoop.fs.s3a.endpoint=http://127.0.0.1:" + silent.getLocalPort()
                    + " -Dspark.hadoop.fs.s3a.path.style.access=true -Dspark.hadoop.fs.s3a.endpoint.region=us-east-1"
                    + " -Dspark.hadoop.fs.s3a.access.key=id -Dspark.hadoop.fs.s3a.secret.key=silentSECRET"
                    + " -Dspark.hadoop.fs.s3a.aws.credentials.provider=org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"
                    + " -Dspark.hadoop.fs.s3a.connection.timeout=1s -Dspark.hadoop.fs.s3a.attempts.maximum=0"
                    + " -Dspark.hadoop.fs.s3a.retry.interval=100ms";
            String[][] runs = {
                {"1", "shard", "--input", "s3a://registry/m/v1/", "--output", dir.resolve("t").toString()},
                {"0", "quantize", "--input", "s3a://registry/m/v1-t/table", "--output", dir.resolve("q").toString()}};
            for (String[] run : runs) {
                int retries = Integer.parseInt(run[0]);
                String[] args = java.util.Arrays.copyOfRange(run, 1, run.length);
                long t0 = System.nanoTime();
                Launched l = launchWith(s3 + " -Dspark.hadoop.fs.s3a.retry.limit=" + retries, args);
                double seconds = (System.nanoTime() - t0) / 1e9;
                String what = String.join(" ", args) + " (" + Math.round(seconds) + " s):\n" + l.err;
                assertEquals(1, l.exit, what);
                List<String> attempts = l.err.lines().filter(x -> x.startsWith("[s3a] attempt failed: ")).toList();
                assertEquals(retries + 1, attempts.size(), "a line per S3A attempt: " + what);
                assertTrue(attempts.stream().allMatch(x -> x.contains("Read timed out")), what);
                List<String> last = l.err.lines().filter(x -> x.startsWith("nibble ")).toList();
                assertEquals(1, last.size(), what);
                long bound = 15L * (retries + 1); // 15 s per attempt, + 0.15 s of sleep after the first
                assertTrue(last.get(0).startsWith("nibble " + args[0] + ": failed: cannot reach the S3 store: "), last.get(0));
                assertTrue(last.get(0).contains("Read timed out; gave up after "), last.get(0));
                assertTrue(last.get(0).contains("fs.s3a.connection.timeout=1s (S3A uses 15s)"), last.get(0));
                assertTrue(last.get(0).contains("at most about " + bound + " s"), last.get(0));
                assertTrue(seconds >= 15 * (retries + 1) - 1, "each attempt waited for the read timeout: " + what);
                assertTrue(seconds < bound + 30, "gave up within the bound plus JVM start-up: " + what);
                assertFalse(l.err.contains("silentSECRET"), l.err);
            }
            assertTrue(held.size() >= 3, held.size() + " connections held");
        }
    }

    /**
     * {@code NIBBLE_CDS=record} records the class archive (a pipeline on a tiny checkpoint, with one
     * progress line), and a later command maps its classes from it (the JVM's class-load log says
     * where each class came from) without a word about it on stderr; {@code NIBBLE_CDS=0} maps none.
     */
    @Test
    void aRecordedClassArchiveServesLaterCommands() throws Exception {
        Launched record = launch(false, "", Map.of("NIBBLE_CDS", "record"), "--help");
        assertEquals(0, record.exit, record.err);
        assertTrue(record.err.contains("[nibble] recording the class archive"), record.err);
        assertFalse(record.err.contains("no class archive"), record.err);
        Path archive = GgufShardTest.project().resolve("jobs/target/nibble-classes.jsa");
        assertTrue(Files.size(archive) > (10 << 20), Files.size(archive) + " bytes");

        Path ckpt = ShardRoundTripTest.tinyCheckpoint(dir.resolve("ckpt"), DType.F32, 0);
        Path withLog = dir.resolve("with.log");
        Launched with = launch(false, " -Xlog:class+load:file=" + withLog, Map.of(), "shard", "--input", ckpt.toString(),
                "--output", dir.resolve("t1").toString());
        assertEquals(0, with.exit, with.err);
        assertFalse(with.err.toLowerCase(java.util.Locale.ROOT).contains("cds") || with.err.contains("[warning]"), with.err);
        long shared = sharedAppClasses(withLog);
        assertTrue(shared > 3000, shared + " classes of Spark, Hadoop, Parquet and Nibble from the archive");

        Path withoutLog = dir.resolve("without.log");
        Launched without = launch(false, " -Xlog:class+load:file=" + withoutLog, Map.of("NIBBLE_CDS", "0"), "shard",
                "--input", ckpt.toString(), "--output", dir.resolve("t2").toString());
        assertEquals(0, without.exit, without.err);
        assertEquals(0, sharedAppClasses(withoutLog));
    }

    /** Classes the log says came from the dynamic ("top") archive. */
    private static long sharedAppClasses(Path classLoadLog) throws Exception {
        try (var lines = Files.lines(classLoadLog)) {
            return lines.filter(l -> l.endsWith("source: shared objects file (top)")).count();
        }
    }

    private record Launched(int exit, String err) {
    }

    private static Launched launch(boolean debug, String... args) throws Exception {
        return launch(debug, "", Map.of(), args);
    }

    private static Launched launchWith(String javaOpts, String[] args) throws Exception {
        return launch(false, javaOpts, Map.of(), args);
    }

    private static Launched launch(boolean debug, String javaOpts, Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(GgufShardTest.project().resolve("bin/nibble").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("NIBBLE_JAVA_OPTS", "-Dspark.master=local[2]" + javaOpts);
        if (debug) {
            pb.environment().put("NIBBLE_DEBUG", "1");
        } else {
            pb.environment().remove("NIBBLE_DEBUG");
        }
        pb.environment().putAll(env);
        Process p = pb.start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("bin/nibble " + String.join(" ", args) + " did not finish");
        }
        return new Launched(p.exitValue(), err);
    }
}
