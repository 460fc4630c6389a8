package nibble.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Heap exhaustion ends in exit 1 and one line saying how to give Nibble more memory, in the three
 * places it happens: {@code bin/nibble} (local mode: the task runs in the driver's JVM, where Spark
 * would otherwise {@code System.exit(52)}), {@code spark-submit --master local[2]}, and an executor of a
 * standalone cluster that Spark's handler ends with exit code 52. The input is a real, valid
 * checkpoint whose one row (600 MB, a sparse file) does not fit the heaps given; no output, temporary
 * folder or claim is left.
 */
class HeapExhaustionTest {
    private static final long ROW = 150_000_000L; // F32 values: a 600 MB row

    @TempDir
    static Path work;
    static Path big;

    @BeforeAll
    static void bigCheckpoint() throws Exception {
        big = work.resolve("big.safetensors");
        byte[] header = ("{\"model.embed_tokens.weight\":{\"dtype\":\"F32\",\"shape\":[1," + ROW + "],\"data_offsets\":[0,"
                + 4 * ROW + "]}}").getBytes(StandardCharsets.UTF_8);
        try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
            f.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array());
            f.write(header);
            f.setLength(8 + header.length + 4 * ROW); // sparse: no disk used
        }
    }

    private record Ran(int exit, String err) {
    }

    /** The nibble lines of a run's output: exactly one, the memory advice, exit 1, nothing left behind. */
    private static void assertOutOfMemory(Ran r, Path output, String what) throws Exception {
        assertEquals(1, r.exit(), r.err());
        List<String> lines = r.err().lines().filter(l -> l.startsWith("nibble ")).toList();
        assertEquals(1, lines.size(), r.err());
        assertTrue(lines.get(0).startsWith("nibble shard: failed: " + what), lines.get(0));
        assertFalse(Files.exists(output), "no output after a failed run");
        try (var s = Files.list(output.getParent())) {
            assertEquals(List.of(), s.map(p -> p.getFileName().toString()).filter(n -> n.contains(".nibble-")).toList(),
                    "no claim or temporary folder");
        }
    }

    @Test
    void binNibbleSaysHowToGiveMoreMemory() throws Exception {
        Path out = work.resolve("launcher").resolve("table");
        Files.createDirectories(out.getParent());
        List<String> cmd = List.of(GgufShardTest.project().resolve("bin/nibble").toString(), "shard",
                "--input", big.toString(), "--output", out.toString());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("NIBBLE_JAVA_OPTS", "-Dspark.master=local[2]");
        pb.environment().put("NIBBLE_DRIVER_MEMORY", "600m");
        pb.environment().remove("NIBBLE_DEBUG");
        Ran r = run(pb);
        assertOutOfMemory(r, out, "out of memory (Java heap space); this JVM's heap is 600 MiB, and local mode runs every "
                + "task in it. Give Nibble more memory: NIBBLE_DRIVER_MEMORY=8g for bin/nibble");
        assertFalse(r.err().contains("\tat ") || r.err().contains("Exception"), "no stack trace:\n" + r.err());
    }

    @Test
    void sparkSubmitLocalSaysHowToGiveMoreMemory() throws Exception {
        Path out = work.resolve("submit-local").resolve("table");
        Files.createDirectories(out.getParent());
        ProcessBuilder pb = submitter("600m", List.of("--master", "local[2]", "--conf", "spark.ui.enabled=false",
                "--class", "nibble.jobs.ShardJob", shadedJar().toString(), "--input", big.toString(), "--output", out.toString()));
        Ran r = run(pb);
        assertOutOfMemory(r, out, "out of memory (Java heap space); this JVM's heap is 600 MiB");
        assertTrue(r.err().contains("--driver-memory under spark-submit"), r.err());
    }

    @Test
    void anExecutorOfAClusterThatRanOutOfMemory() throws Exception {
        Path jar = shadedJar();
        Path out = work.resolve("submit-cluster").resolve("table");
        Files.createDirectories(out.getParent());
        try (StandaloneCluster cluster = new StandaloneCluster(work.resolve("cluster"), 1)) {
            List<String> args = new ArrayList<>(List.of("--conf", "spark.task.maxFailures=1",
                    "--class", "nibble.jobs.ShardJob", jar.toString(), "--input", big.toString(), "--output", out.toString()));
            StandaloneCluster.Submit s = cluster.await("oom", cluster.submit("oom", args), 300);
            // the executor's OutOfMemoryError comes back with the failed task, or only its exit code 52
            assertOutOfMemory(new Ran(s.code(), s.output()), out, "out of memory");
            assertTrue(s.output().contains("an executor's (spark.executor.memory) 512m. Give Nibble more memory: --executor-memory"),
                    s.output());
        }
    }

    private static Path shadedJar() {
        String j = System.getProperty("nibble.shaded.jar");
        Assumptions.assumeTrue(j != null && Files.isRegularFile(Path.of(j)),
                "the shaded jar " + j + " is absent (run through Maven's verify, which packages jobs first)");
        return Path.of(j);
    }

    /** {@code org.apache.spark.deploy.SparkSubmit} in a child JVM with the given heap, as the spark-submit script starts it. */
    private static ProcessBuilder submitter(String heap, List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx" + heap));
        Arrays.stream(System.getProperty("spark.jvm.flags", "").trim().split("\\s+")).filter(s -> !s.isEmpty()).forEach(cmd::add);
        cmd.add("-Dlog4j2.configurationFile=" + GgufShardTest.project().resolve("conf/log4j2.properties").toUri());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "org.apache.spark.deploy.SparkSubmit"));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("SPARK_TESTING", "1");
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        pb.environment().remove("SPARK_CONF_DIR");
        pb.environment().remove("NIBBLE_DEBUG");
        return pb;
    }

    private static Ran run(ProcessBuilder pb) throws Exception {
        Process p = pb.start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError(pb.command() + " did not finish");
        }
        return new Ran(p.exitValue(), err);
    }
}
