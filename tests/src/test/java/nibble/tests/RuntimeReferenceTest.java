package nibble.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import nibble.common.model.ActivationQuant;
import nibble.common.model.LlamaModel;
import nibble.common.model.LocalModels;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java runtime's logits on stories260K against an independent PyTorch implementation
 * ({@code src/test/python/llama_reference.py}, run with the system Python). Needs no Spark.
 */
class RuntimeReferenceTest {
    private static final String PYTHON = "/usr/bin/python3";
    private static final double TOLERANCE = 1e-4;

    /** Three fixed sequences of 24 tokens: BOS, then ids below 512. */
    private static int[][] sequences() {
        int[][] s = new int[3][24];
        for (int i = 0; i < s.length; i++) {
            SplittableRandom r = new SplittableRandom(100 + i);
            s[i][0] = 1;
            for (int p = 1; p < s[i].length; p++) {
                s[i][p] = r.nextInt(2, 512);
            }
        }
        return s;
    }

    @Test
    void logitsMatchPyTorch(@TempDir Path dir) throws Exception {
        Path model = TestSpark.stories260K();
        if (model == null || !Files.exists(model)) {
            System.out.println("skipping RuntimeReferenceTest: stories260K.bin not found under nibble.shared.dir");
            Assumptions.abort("stories260K.bin not found");
        }
        requireTorch();
        int[][] tokens = sequences();
        LlamaModel m = LocalModels.load(model);
        for (ActivationQuant aq : List.of(ActivationQuant.NONE, ActivationQuant.INT8_DYNAMIC)) {
            float[][][] ref = runReference(model, tokens, aq == ActivationQuant.INT8_DYNAMIC, dir);
            assertEquals(tokens.length, ref.length);
            LlamaModel run = m.withActivationQuant(aq);
            double worst = 0;
            for (int s = 0; s < tokens.length; s++) {
                float[][] got = run.logits(tokens[s]);
                assertEquals(tokens[s].length, ref[s].length);
                for (int p = 0; p < got.length; p++) {
                    double d = relativeDiff(got[p], ref[s][p]);
                    assertTrue(d <= TOLERANCE, aq + ": sequence " + s + " position " + p + ": relative difference " + d);
                    worst = Math.max(worst, d);
                }
            }
            System.out.printf("stories260K %s vs PyTorch: max relative logit difference %.3g over %d sequences%n",
                    aq, worst, tokens.length);
        }
    }

    /** max |a - b| / max(1e-6, max |b|) over one position's logits. */
    private static double relativeDiff(float[] a, float[] b) {
        assertEquals(b.length, a.length);
        double scale = 1e-6;
        double diff = 0;
        for (int i = 0; i < a.length; i++) {
            scale = Math.max(scale, Math.abs(b[i]));
            diff = Math.max(diff, Math.abs(a[i] - b[i]));
        }
        return diff / scale;
    }

    private static void requireTorch() throws InterruptedException {
        String problem;
        try {
            Process p = new ProcessBuilder(PYTHON, "-c", "import torch").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            p.waitFor();
            problem = p.exitValue() == 0 ? null : PYTHON + " cannot import torch: " + lastLine(out);
        } catch (IOException e) {
            problem = PYTHON + " not runnable: " + e.getMessage();
        }
        if (problem == null) {
            return;
        }
        if (System.getenv("CI") != null) {
            fail(problem + " (CI must install python3-torch)");
        }
        System.out.println("skipping RuntimeReferenceTest: " + problem + " (apt-get install python3-torch python3-numpy)");
        Assumptions.abort(problem);
    }

    private static float[][][] runReference(Path model, int[][] tokens, boolean int8, Path dir) throws Exception {
        ObjectMapper json = new ObjectMapper();
        Path in = dir.resolve("tokens.json");
        Path out = dir.resolve(int8 ? "logits-int8.json" : "logits.json");
        json.writeValue(in.toFile(), tokens);
        List<String> cmd = new ArrayList<>(List.of(PYTHON, script().toString(), model.toString(), in.toString(),
                out.toString()));
        if (int8) {
            cmd.add("--int8");
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            fail("reference script timed out");
        }
        assertEquals(0, p.exitValue(), "reference script failed:\n" + log);
        return json.readValue(out.toFile(), float[][][].class);
    }

    private static Path script() {
        String project = System.getProperty("nibble.project.dir");
        Path p = project != null ? Path.of(project, "tests", "src", "test", "python", "llama_reference.py")
                : Path.of("src", "test", "python", "llama_reference.py");
        assertTrue(Files.isRegularFile(p), p + " not found");
        return p;
    }

    private static String lastLine(String s) {
        int i = s.lastIndexOf('\n');
        return i < 0 ? s : s.substring(i + 1);
    }
}
