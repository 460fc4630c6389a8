package nibble.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import nibble.common.DType;
import nibble.common.synth.SyntheticCheckpoint;
import nibble.common.synth.SyntheticSpec;
import nibble.common.table.Manifest;

/**
 * The shaded jar under spark-submit on a real standalone cluster (Master + 2 Workers on loopback):
 * the output is byte for byte the output of a local in-process run, also when an executor is killed
 * in the middle of quantize.
 */
class StandaloneClusterTest {
    @TempDir
    static Path work;
    private static StandaloneCluster cluster;
    private static Path jar;

    @BeforeAll
    static void startCluster() throws Exception {
        String j = System.getProperty("nibble.shaded.jar");
        Assumptions.assumeTrue(j != null && Files.isRegularFile(Path.of(j)),
                "the shaded jar " + j + " is absent (run through Maven's verify, which packages jobs first)");
        jar = Path.of(j);
        long t0 = System.nanoTime();
        cluster = new StandaloneCluster(work.resolve("cluster"), 2);
        System.out.printf("standalone cluster: master %s and 2 workers up in %.1f s%n", cluster.url(), (System.nanoTime() - t0) / 1e9);
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static List<String> job(String mainClass, String... args) {
        List<String> l = new ArrayList<>(List.of("--class", mainClass, jar.toString()));
        l.addAll(List.of(args));
        return l;
    }

    private static void assertSameFiles(Path expected, Path actual) throws Exception {
        Map<String, byte[]> e = Tables.files(expected);
        Map<String, byte[]> a = Tables.files(actual);
        // Hadoop's local .crc side files are not part of the table
        e.keySet().removeIf(k -> k.endsWith(".crc"));
        a.keySet().removeIf(k -> k.endsWith(".crc"));
        for (var k : e.keySet()) {
            assertTrue(a.containsKey(k), k);
            assertArrayEquals(e.get(k), a.get(k), actual + "/" + k); // Parquet footers too: they are canonical
        }
    }

    private static void assertSameTable(Path expected, Path actual) throws Exception {
        assertSameFiles(expected.resolve("tensors"), actual.resolve("tensors"));
        Manifest me = Tables.manifest(expected);
        Manifest ma = Tables.manifest(actual);
        assertEquals(me.tensors(), ma.tensors(), "manifest tensor entries");
        assertEquals(me.files(), ma.files(), "manifest files");
    }

    private static int count(String text, String needle) {
        int n = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }

    private static String workerLogs() {
        return cluster.logText("worker-0") + cluster.logText("worker-1");
    }

    @Test
    void pipelineThroughSparkSubmitIsByteIdenticalToLocal() throws Exception {
        Path ckpt = ShardRoundTripTest.tinyCheckpoint(work.resolve("tiny"), DType.F32, 0);
        String[] tail = {"--recipe", "int4-g128", "--sequences", "4", "--sequence-length", "16"};
        Path local = work.resolve("local-pipeline");
        TestSpark.Run ref = TestSpark.nibble(S3PipelineTestSupport.concat(
                new String[] {"pipeline", "--input", ckpt.toString(), "--output", local.toString()}, tail));
        assertEquals(0, ref.code(), ref.err());

        Path out = work.resolve("cluster-pipeline");
        int launchedBefore = count(workerLogs(), "Asked to launch executor");
        long t0 = System.nanoTime();
        StandaloneCluster.Submit s = cluster.await("submit-pipeline", cluster.submit("submit-pipeline",
                job("nibble.jobs.PipelineJob", S3PipelineTestSupport.concat(
                        new String[] {"--input", ckpt.toString(), "--output", out.toString()}, tail))), 240);
        System.out.printf("spark-submit pipeline on the cluster: exit %d in %.1f s%n", s.code(), (System.nanoTime() - t0) / 1e9);
        assertEquals(0, s.code(), StandaloneCluster.tail(s.output()));
        assertTrue(s.output().contains("pipeline done"), StandaloneCluster.tail(s.output()));
        // the work ran on the Workers' executors, not in the driver
        assertTrue(count(workerLogs(), "Asked to launch executor") >= launchedBefore + 2, workerLogs());
        assertTrue(Files.exists(out.resolve("_SUCCESS")));
        assertSameTable(local.resolve("table"), out.resolve("table"));
        assertSameTable(local.resolve("quantized"), out.resolve("quantized"));
        assertTrue(Files.exists(out.resolve("eval/report.json")));
    }

    @Test
    void executorKilledMidQuantizeIsRetriedToTheSameBytes() throws Exception {
        Path ckpt = work.resolve("demo");
        SyntheticCheckpoint.write(ckpt, SyntheticSpec.preset("demo").withSeed(5), 0);
        Path table = work.resolve("demo-table");
        assertEquals(0, TestSpark.nibble("shard", "--input", ckpt.toString(), "--output", table.toString(),
                "--target-file-mb", "0.25").code());
        String[] quantize = {"--input", table.toString(), "--recipe", "int4-g128", "--target-file-mb", "0.05"};
        Path local = work.resolve("demo-local-q");
        TestSpark.Run ref = TestSpark.nibble(S3PipelineTestSupport.concat(new String[] {"quantize", "--output", local.toString()}, quantize));
        assertEquals(0, ref.code(), ref.err());
        int files = Tables.manifest(local).files().size();
        assertTrue(files >= 20, files + " files: too few tasks to kill an executor in the middle");

        Path out = work.resolve("demo-cluster-q");
        int launchedBefore = count(workerLogs(), "Asked to launch executor");
        List<String> args = new ArrayList<>(List.of("--conf", "spark.task.maxFailures=4"));
        args.addAll(job("nibble.jobs.QuantizeJob", S3PipelineTestSupport.concat(new String[] {"--output", out.toString()}, quantize)));
        long t0 = System.nanoTime();
        Process p = cluster.submit("submit-quantize", args);
        // the first task output appears under the committer's temporary folder: kill an executor then
        // (the run's own .demo-cluster-q.nibble-tmp-<run>)
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        boolean writing = false;
        while (!writing && p.isAlive() && System.nanoTime() < deadline) {
            try (var dirs = Files.list(work)) {
                for (Path tmp : dirs.filter(d -> d.getFileName().toString().startsWith(".demo-cluster-q.nibble-tmp-")).toList()) {
                    try (var s = Files.walk(tmp)) {
                        writing |= s.anyMatch(f -> f.getFileName().toString().startsWith("part-"));
                    }
                }
            } catch (java.io.UncheckedIOException | java.io.IOException raced) {
                // files move while we walk
            }
            if (!writing) {
                Thread.sleep(20);
            }
        }
        assertTrue(writing, "quantize never started writing:\n" + StandaloneCluster.tail(cluster.logText("submit-quantize")));
        List<ProcessHandle> executors = cluster.executors();
        assertEquals(2, executors.size(), "executors running: " + executors + "; worker children: "
                + cluster.workers.stream().flatMap(w -> w.toHandle().children()).map(c -> c.pid() + " " + c.info()).toList());
        ProcessHandle victim = executors.get(0);
        assertTrue(victim.destroyForcibly(), "killed executor " + victim.pid());
        System.out.printf("killed executor pid %d %.1f s after submission%n", victim.pid(), (System.nanoTime() - t0) / 1e9);

        StandaloneCluster.Submit s = cluster.await("submit-quantize", p, 240);
        System.out.printf("spark-submit quantize with a killed executor: exit %d in %.1f s%n", s.code(), (System.nanoTime() - t0) / 1e9);
        assertEquals(0, s.code(), StandaloneCluster.tail(s.output()));
        assertTrue(s.output().contains("Lost executor") || s.output().contains("ExecutorLostFailure"),
                "the driver saw the executor go:\n" + StandaloneCluster.tail(s.output()));
        // the Master had a Worker launch a replacement executor for the same application
        assertTrue(count(workerLogs(), "Asked to launch executor") >= launchedBefore + 3, workerLogs());
        assertSameTable(local, out);
    }
}
