package nibble.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import nibble.common.DType;

/**
 * {@code kill -9} of the driver ({@code bin/nibble pipeline}, every stage in one JVM, at three points, and
 * {@code export} at one) at random points: after the n-th progress line on stderr (n drawn with a fixed seed in each third of
 * the uninterrupted run's count) plus a random 0-400 ms. After each kill no folder looks complete
 * without being complete (a folder with its commit file, manifest.json, stats.json, report.json or
 * _SUCCESS, equals the uninterrupted run's), and a re-run of the same command (no flags: the dead
 * run's claim is replaced because its process is gone) produces the same bytes as the uninterrupted run.
 */
class KillNineTest {
    private static final List<String> COMMIT_FILES = List.of("manifest.json", "stats.json", "report.json", "_SUCCESS");
    private static final String[] EVAL = {"--recipe", "int4-g32", "--sequences", "2", "--sequence-length", "8"};

    @TempDir
    Path dir;

    @Test
    void aKilledRunLeavesNothingThatLooksCompleteAndARerunMatches() throws Exception {
        Path ckpt = ShardRoundTripTest.tinyCheckpoint(dir.resolve("ckpt"), DType.F32, 0);
        // every run writes the same prefix (its path is recorded in stats.json and report.json); the
        // uninterrupted run's result is moved aside as the reference
        Path out = dir.resolve("run");
        String[] args = S3PipelineTestSupport.concat(new String[] {"pipeline", "--input", ckpt.toString(), "--output", out.toString()}, EVAL);
        TestSpark.Run ref = TestSpark.nibble(args);
        assertEquals(0, ref.code(), ref.err());
        Path reference = Files.move(out, dir.resolve("reference"));
        Path refGguf = dir.resolve("reference.gguf");
        assertEquals(0, TestSpark.nibble("export", "--input", reference.resolve("quantized").toString(),
                "--output", refGguf.toString()).code());
        long progressLines = ref.err().lines().filter(l -> l.startsWith("[")).count();

        Random random = new Random(20261207);
        // one point in each third of the run (early stages, middle, late), so every stage is hit over seeds
        TreeSet<Integer> points = new TreeSet<>();
        int span = (int) progressLines - 1;
        for (int third = 0; third < 3 && span >= 3; third++) {
            points.add(1 + third * span / 3 + random.nextInt(Math.max(1, span / 3)));
        }
        int killed = 0;
        for (int point : points) {
            boolean wasRunning = killAfter(point, random.nextInt(400), args);
            killed += wasRunning ? 1 : 0;
            System.out.printf("kill -9 after progress line %d of %d: %s; committed then: %s%n", point, progressLines,
                    wasRunning ? "killed" : "had finished", committed(out));
            assertNothingLooksComplete(out, reference);
            TestSpark.Run rerun = TestSpark.nibble(args);
            assertEquals(0, rerun.code(), "re-run after a kill at progress line " + point + ": " + rerun.err());
            assertSameFiles(reference, out);
            try (var all = Files.list(dir)) { // the prefix and its hidden claim and temporary siblings, for the next point
                for (Path p : all.filter(p -> p.getFileName().toString().matches("\\.?run(\\..*)?")).toList()) {
                    if (!org.apache.hadoop.fs.FileUtil.fullyDelete(p.toFile())) { Files.deleteIfExists(p); }
                }
            }
        }
        Path gguf = dir.resolve("killed.gguf");
        String[] export = {"export", "--input", reference.resolve("quantized").toString(), "--output", gguf.toString()};
        killed += killAfter(1, random.nextInt(400), export) ? 1 : 0;
        if (Files.exists(gguf)) {
            assertArrayEquals(Files.readAllBytes(refGguf), Files.readAllBytes(gguf), "a GGUF file that exists is complete");
        }
        TestSpark.Run rerun = TestSpark.nibble(S3PipelineTestSupport.concat(export, new String[] {"--overwrite"}));
        assertEquals(0, rerun.code(), rerun.err());
        assertArrayEquals(Files.readAllBytes(refGguf), Files.readAllBytes(gguf));
        assertTrue(killed >= 2, "most runs were killed before they finished (" + killed + " of " + (points.size() + 1) + ")");
    }

    /**
     * {@code kill -9} of {@code bin/nibble shard} (the demo checkpoint, 15 MiB, into 1 MiB files: 16
     * write tasks that checksum as they write, then the commit) at three points: two while the files
     * are written (after the first progress line plus 0-400 ms and plus 0.4-1.5 s) and one after the
     * write stage's last progress line (the commit) plus 0-400 ms. After each kill the table
     * either does not look complete or equals the uninterrupted run's; a re-run (with
     * {@code --overwrite} only when the killed run had committed) produces the same bytes.
     */
    @Test
    void aKilledShardLeavesNothingThatLooksCompleteAndARerunMatches() throws Exception {
        Path ckpt = dir.resolve("demo");
        assertEquals(0, TestSpark.nibble("synth", "--preset", "demo", "--output", ckpt.toString()).code());
        Path out = dir.resolve("table");
        String[] args = {"shard", "--input", ckpt.toString(), "--output", out.toString(), "--target-file-mb", "1"};
        TestSpark.Run ref = TestSpark.nibble(args);
        assertEquals(0, ref.code(), ref.err());
        Path reference = Files.move(out, dir.resolve("reference-table"));
        List<String> progress = ref.err().lines().filter(l -> l.startsWith("[")).toList();
        int lastWrite = 0;
        for (int i = 0; i < progress.size(); i++) {
            lastWrite = progress.get(i).contains("write tensors") ? i + 1 : lastWrite;
        }
        assertTrue(lastWrite >= 2, "shard's progress lines: " + progress);

        Random random = new Random(20261208);
        int[][] points = {{1, random.nextInt(400)}, {1, 400 + random.nextInt(1100)}, {lastWrite, random.nextInt(400)}};
        int killed = 0;
        for (int[] point : points) {
            boolean wasRunning = killAfter(point[0], point[1], args);
            killed += wasRunning ? 1 : 0;
            List<String> committed = committed(out);
            System.out.printf("shard: kill -9 %d ms after progress line %d of %d: %s; committed then: %s%n", point[1], point[0],
                    progress.size(), wasRunning ? "killed" : "had finished", committed);
            assertNothingLooksComplete(out, reference);
            String[] rerunArgs = committed.isEmpty() ? args : S3PipelineTestSupport.concat(args, new String[] {"--overwrite"});
            TestSpark.Run rerun = TestSpark.nibble(rerunArgs);
            assertEquals(0, rerun.code(), "re-run after a kill at progress line " + point[0] + ": " + rerun.err());
            assertSameFiles(reference, out);
            try (var all = Files.list(dir)) { // the table and its hidden claim and temporary siblings, for the next point
                for (Path p : all.filter(p -> p.getFileName().toString().matches("\\.?table(\\..*)?")).toList()) {
                    if (!org.apache.hadoop.fs.FileUtil.fullyDelete(p.toFile())) { Files.deleteIfExists(p); }
                }
            }
        }
        assertTrue(killed >= 2, "most shard runs were killed before they finished (" + killed + " of " + points.length + ")");
    }

    /** Starts {@code bin/nibble args}, SIGKILLs it {@code delayMillis} after its n-th progress line; true when it was still running. */
    private static boolean killAfter(int n, int delayMillis, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(GgufShardTest.project().resolve("bin/nibble").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("NIBBLE_JAVA_OPTS", "-Dspark.master=local[2]");
        pb.environment().remove("NIBBLE_DEBUG");
        Process p = pb.start();
        CountDownLatch reached = new CountDownLatch(1);
        AtomicInteger lines = new AtomicInteger();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
                for (String l = r.readLine(); l != null; l = r.readLine()) {
                    if (l.startsWith("[") && lines.incrementAndGet() >= n) {
                        reached.countDown();
                    }
                }
            } catch (java.io.IOException ignored) {
                // the process was killed
            }
            reached.countDown();
        });
        reader.start();
        assertTrue(reached.await(5, TimeUnit.MINUTES), "no progress from " + cmd);
        Thread.sleep(delayMillis);
        boolean alive = p.isAlive();
        p.toHandle().destroyForcibly(); // SIGKILL: no shutdown hook runs
        assertTrue(p.waitFor(1, TimeUnit.MINUTES));
        reader.join(10_000);
        return alive;
    }

    /** The commit files under {@code out}, relative. */
    private static List<String> committed(Path out) throws Exception {
        if (!Files.exists(out)) {
            return List.of();
        }
        try (var s = Files.walk(out)) {
            return s.filter(f -> COMMIT_FILES.contains(f.getFileName().toString())).map(f -> out.relativize(f).toString()).sorted().toList();
        }
    }

    /** Every folder under {@code out} holding a commit file equals the reference's folder at the same place. */
    private static void assertNothingLooksComplete(Path out, Path reference) throws Exception {
        if (!Files.exists(out)) {
            return;
        }
        try (var s = Files.walk(out)) {
            for (Path f : s.filter(Files::isRegularFile).toList()) {
                String name = f.getFileName().toString();
                if (COMMIT_FILES.contains(name) && !out.relativize(f).toString().contains(".nibble-tmp")) {
                    Path folder = f.getParent();
                    Path refFolder = reference.resolve(out.relativize(folder).toString());
                    assertTrue(Files.exists(refFolder.resolve(name)), f + " has no counterpart in the uninterrupted run");
                    if (name.equals("_SUCCESS")) {
                        assertSameFiles(reference, out); // the whole prefix is complete
                    } else {
                        assertSameOutput(refFolder, folder);
                    }
                }
            }
        }
    }

    /**
     * One committed output equals the reference's: its files, without the nested outputs the reference
     * has inside it (a table's stats/ folder is calibrate's output, committed later).
     */
    private static void assertSameOutput(Path expected, Path actual) throws Exception {
        Map<String, byte[]> e = visible(Tables.files(expected));
        Map<String, byte[]> a = visible(Tables.files(actual));
        List<String> nested = e.keySet().stream().filter(k -> k.contains("/") && COMMIT_FILES.contains(Path.of(k).getFileName().toString()))
                .map(k -> k.substring(0, k.lastIndexOf('/') + 1)).toList();
        e.keySet().removeIf(k -> nested.stream().anyMatch(k::startsWith));
        a.keySet().removeIf(k -> nested.stream().anyMatch(k::startsWith));
        assertEquals(e.keySet(), a.keySet(), actual.toString());
        for (String k : e.keySet()) {
            assertArrayEquals(e.get(k), a.get(k), actual + "/" + k); // Parquet footers too: they are canonical
        }
    }

    /** The same files with the same bytes (Hadoop's .crc sidecars and hidden claim/temporary entries aside). */
    private static void assertSameFiles(Path expected, Path actual) throws Exception {
        Map<String, byte[]> e = visible(Tables.files(expected));
        Map<String, byte[]> a = visible(Tables.files(actual));
        assertEquals(e.keySet(), a.keySet(), actual.toString());
        for (String k : e.keySet()) {
            assertArrayEquals(e.get(k), a.get(k), actual + "/" + k); // Parquet footers too: they are canonical
        }
        assertFalse(e.isEmpty());
    }

    private static Map<String, byte[]> visible(Map<String, byte[]> files) {
        files.keySet().removeIf(k -> k.endsWith(".crc") || k.contains(".nibble-") || k.startsWith(".") || k.contains("/."));
        return files;
    }
}
