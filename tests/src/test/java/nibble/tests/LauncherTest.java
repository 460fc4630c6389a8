package nibble.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import nibble.common.DType;

/**
 * {@code bin/nibble} as a user runs it, in its own process: an error raised inside a Spark task
 * (a NaN weight met while quantizing) ends in exit 3 and one line naming the input and the problem,
 * without Spark's executor and task-set stack traces or the JVM's incubator-module warning; with
 * {@code NIBBLE_DEBUG=1} Spark's reports of the failed task are shown.
 */
class LauncherTest {
    @TempDir
    Path dir;

    @Test
    void aFailedTaskIsOneLineUnlessDebugging() throws Exception {
        Path ckpt = ShardRoundTripTest.tinyCheckpoint(dir.resolve("ckpt"), DType.F32, 0);
        BadInputMatrixTest.patch(ckpt, "model.layers.0.self_attn.q_proj.weight", 70, Float.NaN);
        Path table = dir.resolve("table");
        assertEquals(0, launch(false, "shard", "--input", ckpt.toString(), "--output", table.toString()).exit);

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

    private record Launched(int exit, String err) {
    }

    private static Launched launch(boolean debug, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(GgufShardTest.project().resolve("bin/nibble").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("NIBBLE_JAVA_OPTS", "-Dspark.master=local[2]");
        if (debug) {
            pb.environment().put("NIBBLE_DEBUG", "1");
        } else {
            pb.environment().remove("NIBBLE_DEBUG");
        }
        Process p = pb.start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("bin/nibble " + String.join(" ", args) + " did not finish");
        }
        return new Launched(p.exitValue(), err);
    }
}
