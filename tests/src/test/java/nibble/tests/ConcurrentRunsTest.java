package nibble.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import nibble.common.DType;

/**
 * Two runs writing one output (the shared session runs both at once, as two applications would):
 * the second is refused while the first holds its claim and touches nothing of the first's, which
 * finishes with a valid result; leftovers of a crashed run do not block the next one.
 */
class ConcurrentRunsTest {
    @TempDir
    static Path work;
    static Path table;
    static Path quantized;

    @BeforeAll
    static void fixtures() throws Exception {
        Path ckpt = ShardRoundTripTest.tinyCheckpoint(work.resolve("ckpt"), DType.F32, 0);
        table = work.resolve("table");
        quantized = work.resolve("q");
        assertEquals(0, TestSpark.nibble("shard", "--input", ckpt.toString(), "--output", table.toString()).code());
        assertEquals(0, TestSpark.nibble("quantize", "--input", table.toString(), "--output", quantized.toString(), "--recipe", "int4-g32").code());
    }

    private static List<String> nibbleSiblings(Path output) throws Exception {
        try (var s = Files.list(output.getParent())) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("." + output.getFileName() + ".nibble-")).sorted().toList();
        }
    }

    @Test
    void aSecondRunOnTheSameOutputIsRefusedAndTheFirstFinishes() throws Exception {
        Path out = work.resolve("eval");
        Path claim = work.resolve(".eval.nibble-claim");
        String[] first = {"evaluate", "--original", table.toString(), "--quantized", quantized.toString(), "--output", out.toString(),
            "--sequences", "160", "--sequence-length", "256", "--partitions", "2"};
        CompletableFuture<TestSpark.Run> a = CompletableFuture.supplyAsync(() -> TestSpark.nibble(first));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.exists(claim) && !a.isDone() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(Files.exists(claim), "the first run claimed the output");
        String owner = Files.readString(claim);
        List<String> firstsFiles = nibbleSiblings(out);

        // the second run: same output, and an input that would fail (before claims, its failure deleted the
        // shared temporary folder and the first run then blamed its own valid input)
        TestSpark.Run b = TestSpark.nibble("evaluate", "--original", table.toString(), "--quantized", quantized.toString(),
                "--output", out.toString(), "--sequences", "2", "--sequence-length", "8", "--overwrite");
        assertFalse(a.isDone(), "the first run was still running while the second was refused (make it longer if this fails)");
        assertEquals(3, b.code(), b.err());
        String line = b.err().lines().filter(l -> l.startsWith("nibble evaluate: ")).findFirst().orElseThrow();
        assertTrue(line.startsWith("nibble evaluate: error: " + out + ": another Nibble run is writing here (claimed by "), line);
        String run = owner.replaceAll("(?s).*\"run\"\\s*:\\s*\"(\\w+)\".*", "$1");
        assertTrue(line.contains("run " + run), line);
        assertEquals(owner, Files.readString(claim), "the claim is the first run's, untouched");
        assertTrue(nibbleSiblings(out).containsAll(firstsFiles), "the first run's temporary folder survives: " + nibbleSiblings(out));

        TestSpark.Run done = a.get(300, TimeUnit.SECONDS);
        assertEquals(0, done.code(), done.err());
        assertTrue(Files.isRegularFile(out.resolve("report.json")));
        assertEquals(List.of(), nibbleSiblings(out), "claim released and temporary folder gone");
    }

    @Test
    void aCrashedRunsClaimAndTemporaryFolderAreCleared() throws Exception {
        Path out = work.resolve("q2");
        Path claim = work.resolve(".q2.nibble-claim");
        Files.createDirectories(work.resolve(".q2.nibble-tmp-0123456789abcdef/tensors"));
        Files.writeString(work.resolve(".q2.nibble-tmp-0123456789abcdef/tensors/part-00000-x.parquet"), "half written");
        Files.writeString(claim, "{\"format\":\"nibble-claim\",\"run\":\"0123456789abcdef\",\"host\":\"gone-host\",\"pid\":77,"
                + "\"user\":\"ci\",\"started\":\"2020-01-01T00:00:00Z\",\"output\":\"x\"}");
        String[] quantize = {"quantize", "--input", table.toString(), "--output", out.toString(), "--recipe", "int4-g32"};

        // refreshed a minute ago: it may be alive, so it stands, with or without --overwrite
        Files.setLastModifiedTime(claim, FileTime.fromMillis(System.currentTimeMillis() - 60_000));
        TestSpark.Run refused = TestSpark.nibble(S3PipelineTestSupport.concat(quantize, new String[] {"--overwrite"}));
        assertEquals(3, refused.code(), refused.err());
        assertTrue(refused.err().contains("ci@gone-host pid 77"), refused.err());
        assertTrue(Files.exists(work.resolve(".q2.nibble-tmp-0123456789abcdef")), "a loser deletes nothing");

        // not refreshed for longer than nibble.claim.stale-minutes (10): the next run replaces it and clears the leftovers
        Files.setLastModifiedTime(claim, FileTime.fromMillis(System.currentTimeMillis() - TimeUnit.MINUTES.toMillis(11)));
        TestSpark.Run r = TestSpark.nibble(quantize);
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.isRegularFile(out.resolve("manifest.json")));
        assertEquals(List.of(), nibbleSiblings(out));
    }
}
