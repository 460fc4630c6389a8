package nibble.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code int4-g32-awq} on the real SmolLM2-135M, judged by llama.cpp (llama-cpp-python): calibrated on
 * {@code calibration.txt}, quantized with the activation-aware scales folded into the norms and the
 * up/v rows, exported as GGUF Q4_0 with {@code --strict} (codes and scales carried over unchanged), run
 * by llama.cpp on {@code evaluation.txt} (llama-perplexity's protocol): its perplexity agrees with
 * Nibble's {@code evaluate --activations q8_0} on the quantized table within 1%, and beats
 * round-to-nearest {@code int4-g32}. llama.cpp's own Q4_0 and {@code int4-g32-imatrix} (the same
 * calibration, no scaling) are scored in the same run for comparison.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AwqRefereeTest {
    private static final String CTX = "256";
    private static final String CHUNKS = "6";

    Path dir;
    Path table;
    Path f32;
    Path stats;

    @BeforeAll
    void setUp(@TempDir Path tmp) throws Exception {
        LlamaCpp.requireOrSkip();
        dir = tmp;
        Path source = GgufShardTest.smolLm2();
        GgufShardTest.requireOrSkip(source == null ? "SmolLM2 GGUF absent (.ci/venv installs it)" : null);
        GgufShardTest.requireOrSkip(Files.isExecutable(GgufShardTest.venvPython()) ? null : "no .venv");
        table = dir.resolve("smollm2");
        run("shard", "--input", source.toString(), "--output", table.toString());
        f32 = dir.resolve("f32.gguf");
        run("export", "--input", table.toString(), "--output", f32.toString());
        stats = dir.resolve("calibration-stats");
        run("calibrate", "--input", table.toString(), "--output", stats.toString(),
                "--text", TestSpark.shared().resolve("text/calibration.txt").toString(), "--ctx", "256", "--chunks", "16");
    }

    @Test
    void llamaCppRunsTheAwqExportAgreesWithNibbleAndBeatsRoundToNearest() throws Exception {
        Map<String, Path> models = new LinkedHashMap<>();
        Map<String, Double> seconds = new LinkedHashMap<>();
        models.put("F32 (export of the dense table)", f32);
        models.put("llama.cpp Q4_0", llamaQuantize("Q4_0"));
        models.put("Nibble int4-g32 as Q4_0", gguf(quantizeAndExport("int4-g32", seconds)));
        models.put("Nibble int4-g32-imatrix as Q4_0", gguf(quantizeAndExport("int4-g32-imatrix", seconds)));
        Path awq = quantizeAndExport("int4-g32-awq", seconds);
        models.put("Nibble int4-g32-awq as Q4_0", gguf(awq));
        seconds.forEach((k, v) -> System.out.printf(Locale.ROOT, "quantize SmolLM2 %-17s %.1f s wall clock%n", k, v));
        System.out.printf(Locale.ROOT, "quantize time int4-g32-awq / int4-g32: %.2f%n", seconds.get("int4-g32-awq") / seconds.get("int4-g32"));

        Map<String, Double> ppl = new LinkedHashMap<>();
        for (Map.Entry<String, Path> e : models.entrySet()) {
            JsonNode r = LlamaCpp.referee(dir.resolve("ppl-" + ppl.size() + ".json"), "perplexity", e.getValue().toString(),
                    evaluationText().toString(), CTX, CHUNKS);
            ppl.put(e.getKey(), r.get("ppl").asDouble());
            System.out.printf(Locale.ROOT, "llama.cpp perplexity, ctx %s, %d chunks: %-34s %8.3f  (%d bytes)%n", CTX,
                    r.get("chunks").asInt(), e.getKey(), r.get("ppl").asDouble(), Files.size(e.getValue()));
        }
        double base = ppl.get("F32 (export of the dense table)");
        double awqPpl = ppl.get("Nibble int4-g32-awq as Q4_0");
        double rtn = ppl.get("Nibble int4-g32 as Q4_0");
        System.out.printf(Locale.ROOT, "perplexity increase of int4-g32-awq / of round-to-nearest int4-g32: %.3f%n",
                (awqPpl - base) / (rtn - base));
        assertTrue(awqPpl < rtn, "AWQ vs round-to-nearest: " + ppl);
        assertTrue(awqPpl > base, "4 bits cost something: " + ppl);

        // Nibble's own perplexity of the quantized table, with llama.cpp's Q8_0 rounding of each layer's input
        Path eval = dir.resolve("eval-awq");
        run("evaluate", "--original", table.toString(), "--quantized", awq.toString(), "--output", eval.toString(),
                "--text", evaluationText().toString(), "--ctx", CTX, "--chunks", CHUNKS, "--activations", "q8_0");
        double ours = new ObjectMapper().readTree(eval.resolve("report.json").toFile()).get("model").get("perplexity_quantized")
                .get("mean").asDouble();
        double diff = ours / awqPpl - 1;
        System.out.printf(Locale.ROOT, "perplexity, ctx %s, %s chunks, int4-g32-awq as Q4_0, --activations q8_0: Nibble %.4f, "
                + "llama.cpp %.4f (%+.3f%%)%n", CTX, CHUNKS, ours, awqPpl, 100 * diff);
        assertTrue(Math.abs(diff) < 0.01, "Nibble " + ours + " vs llama.cpp " + awqPpl);
    }

    private Path quantizeAndExport(String recipe, Map<String, Double> seconds) {
        Path q = dir.resolve("q-" + recipe);
        long started = System.nanoTime();
        run("quantize", "--input", table.toString(), "--output", q.toString(), "--recipe", recipe, "--stats", stats.toString());
        seconds.put(recipe, (System.nanoTime() - started) / 1e9);
        run("export", "--input", q.toString(), "--output", q + ".gguf", "--strict");
        return q;
    }

    private static Path gguf(Path q) {
        return Path.of(q + ".gguf");
    }

    private Path llamaQuantize(String type) throws Exception {
        Path out = dir.resolve("llama-" + type + ".gguf");
        GgufShardTest.python(GgufShardTest.project().resolve("bin/llama-cpp-referee"), "quantize", f32.toString(), out.toString(), type);
        return out;
    }

    private static Path evaluationText() {
        return TestSpark.shared().resolve("text/evaluation.txt");
    }

    private static void run(String... args) {
        TestSpark.Run r = TestSpark.nibble(args);
        assertEquals(0, r.code(), String.join(" ", args) + ": " + r.err());
    }
}
