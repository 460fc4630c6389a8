package nibble.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every Parquet file Nibble writes has a canonical footer (each column chunk's encodings and
 * encoding statistics sorted), whether its own writer made it (shard, quantize) or Spark's DataFrame
 * writer (sample, calibrate's statistics, activations and Hessians, a percentile quantize, evaluate's
 * channel errors); its column statistics are those of the values in it; and so the real CLI run
 * twice, in two JVMs, writes the same bytes.
 */
class CanonicalFooterTest {
    @TempDir
    Path tmp;

    private static void ok(String... args) {
        TestSpark.Run r = TestSpark.nibble(args);
        assertEquals(0, r.code(), r.err());
    }

    /**
     * Under Spark's default commit protocol and under its cloud protocol, which Spark 4 makes the
     * default whenever spark-hadoop-cloud is on the classpath (as in this JVM; S3PipelineTest resets it).
     */
    @Test
    void everyWrittenParquetFileHasACanonicalFooter() throws Exception {
        Path model = TestSpark.stories260K();
        Assumptions.assumeTrue(model != null && Files.exists(model), "stories260K is absent");
        var conf = TestSpark.session().conf();
        String[] cloud = S3PipelineTestSupport.CLOUD_COMMIT;
        Map<String, scala.Option<String>> before = new java.util.LinkedHashMap<>();
        for (int i = 0; i < cloud.length; i += 2) {
            before.put(cloud[i], conf.getOption(cloud[i]));
        }
        try {
            before.keySet().forEach(conf::unset);
            writeAllAndCheck(model, tmp.resolve("spark-protocol"));
            for (int i = 0; i < cloud.length; i += 2) {
                conf.set(cloud[i], cloud[i + 1]);
            }
            writeAllAndCheck(model, tmp.resolve("cloud-protocol"));
        } finally {
            before.forEach((k, v) -> {
                if (v.isDefined()) {
                    conf.set(k, v.get());
                } else {
                    conf.unset(k);
                }
            });
        }
    }

    private static void writeAllAndCheck(Path model, Path tmp) throws Exception {
        Path table = tmp.resolve("table");
        ok("shard", "--input", model.toString(), "--output", table.toString(), "--target-file-mb", "0.2");
        Path data = tmp.resolve("sequences");
        ok("sample", "--model", table.toString(), "--output", data.toString(), "--sequences", "4", "--sequence-length", "16",
                "--seed", "7");
        Path stats = tmp.resolve("stats");
        ok("calibrate", "--input", table.toString(), "--output", stats.toString(), "--data", data.toString(), "--hessian");
        Path quantized = tmp.resolve("quantized");
        ok("quantize", "--input", table.toString(), "--output", quantized.toString(), "--recipe", "int4-g32");
        Path recipe = tmp.resolve("p999.json");
        Files.writeString(recipe, "{\"default\": {\"bits\": 4, \"group_size\": 32, \"range\": \"percentile\", \"percentile\": 99.9}}\n");
        Path percentile = tmp.resolve("percentile"); // the path that writes with Spark's writer
        ok("quantize", "--input", table.toString(), "--output", percentile.toString(), "--recipe", recipe.toString(),
                "--stats", stats.toString());
        Path eval = tmp.resolve("eval");
        ok("evaluate", "--original", table.toString(), "--quantized", quantized.toString(), "--output", eval.toString(),
                "--sequences", "2", "--sequence-length", "8");

        List<String> folders = List.of("table/tensors", "sequences", "stats/channels", "stats/tensors", "stats/activations",
                "stats/hessians", "quantized/tensors", "percentile/tensors", "eval/channels");
        int chunks = 0;
        for (String f : folders) {
            Path dir = tmp.resolve(f);
            assertTrue(Files.isDirectory(dir), f);
            assertTrue(Tables.files(dir).keySet().stream().anyMatch(k -> k.endsWith(".parquet")), "no Parquet file in " + f);
            int n = Tables.assertCanonicalFooters(dir);
            System.out.printf("%s/%s: %d column chunks, canonical%n", tmp.getFileName(), f, n);
            chunks += n;
        }
        assertTrue(chunks >= 100, chunks + " column chunks");
        // the tables of rows read and written with reused arrays (shard, the planned quantize) and through Spark
        for (String f : List.of("table/tensors", "quantized/tensors", "percentile/tensors")) {
            int checked = Tables.assertTrueStatistics(tmp.resolve(f));
            assertTrue(checked > 0, f + ": no column statistics to check");
            System.out.printf("%s/%s: %d column statistics match the values%n", tmp.getFileName(), f, checked);
        }
    }

    /**
     * {@code bin/nibble pipeline} on stories260K twice, each in its own JVM, into the same prefix (the
     * first run's output moved aside): every file, Parquet footers included, has the same bytes.
     */
    @Test
    void theCliInTwoJvmsWritesTheSameBytes() throws Exception {
        Path model = TestSpark.stories260K();
        Assumptions.assumeTrue(model != null && Files.exists(model), "stories260K is absent");
        Path out = tmp.resolve("run");
        String[] args = {"pipeline", "--input", model.toString(), "--output", out.toString(), "--recipe", "int4-g32",
                "--sequences", "4", "--sequence-length", "16"};
        cli(args);
        Path first = Files.move(out, tmp.resolve("first"));
        cli(args);
        Map<String, byte[]> e = visible(Tables.files(first));
        Map<String, byte[]> a = visible(Tables.files(out));
        assertEquals(new TreeSet<>(e.keySet()), new TreeSet<>(a.keySet()));
        int parquet = 0;
        for (String k : new TreeSet<>(e.keySet())) {
            assertArrayEquals(e.get(k), a.get(k), k);
            parquet += k.endsWith(".parquet") ? 1 : 0;
        }
        assertTrue(parquet >= 4, parquet + " Parquet files");
        System.out.printf("two JVMs: %d files (%d Parquet) byte-identical, %d column chunks canonical%n", e.size(), parquet,
                Tables.assertCanonicalFooters(out));
    }

    private static Map<String, byte[]> visible(Map<String, byte[]> files) {
        files.keySet().removeIf(k -> k.endsWith(".crc") || k.startsWith(".") || k.contains("/."));
        assertFalse(files.isEmpty());
        return files;
    }

    private static void cli(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(GgufShardTest.project().resolve("bin/nibble").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("NIBBLE_JAVA_OPTS", "-Dspark.master=local[2]");
        pb.environment().remove("NIBBLE_DEBUG");
        Process p = pb.start();
        byte[] log = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(10, TimeUnit.MINUTES));
        assertEquals(0, p.exitValue(), new String(log, StandardCharsets.UTF_8));
    }
}
