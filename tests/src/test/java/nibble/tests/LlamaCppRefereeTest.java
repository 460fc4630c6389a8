package nibble.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import nibble.common.format.GgmlType;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import nibble.common.eval.Divergence;
import nibble.common.model.ActivationQuant;
import nibble.common.model.LlamaModel;
import nibble.jobs.model.TableModels;

/**
 * llama.cpp itself (llama-cpp-python) judges what {@code nibble export} writes for the
 * real SmolLM2-135M model: it loads the files, its logits for a Nibble-quantized model agree with
 * Nibble's runtime on the same table, its perplexity agrees with {@code nibble evaluate}'s (F32,
 * int4 g32 and AWQ as Q4_0, the K-quant layout as Q4_K), and in a head-to-head on the evaluation text
 * (llama-perplexity's protocol, llama.cpp scoring every model) Nibble's recipes exported as Q4_0 are
 * no worse than llama.cpp's own Q4_0 quantization of the same F32 model, and the calibrated ones
 * (importance-weighted search, AWQ, GPTQ) are well ahead. One class, so the table, its F32 export
 * and the calibration are made once.
 *
 * <p>The K-quant layout ({@code granularity superblock}) needs rows of a multiple of 256; SmolLM2's
 * rows are 576 values except the MLP's down projection (1536), so {@link #K_QUANT} puts it on the
 * down projections (30 tensors, a quarter of the linear weights), the other linear layers int4 g32
 * (Q4_0), embedding and head int8 g32 (Q8_0). gguf-py's Q4_K dequantization of the file must give
 * Nibble's values bit for bit.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LlamaCppRefereeTest {
    /** Tokens whose logits are compared. */
    private static final int LOGIT_TOKENS = 32;
    private static final String CTX = "256";
    private static final String CHUNKS = "6";
    private static final Path REFEREE = GgufShardTest.project().resolve("bin/llama-cpp-referee");
    static final String K_QUANT = """
            {"keep_1d": true, "default": {"bits": 4, "symmetric": true, "group_size": 32, "range": "mse"},
             "overrides": [
               {"match": "(?i).*norm.*", "keep": true},
               {"match": ".*mlp\\\\.down_proj\\\\.weight", "bits": 4, "symmetric": false, "granularity": "superblock", "range": "mse"},
               {"match": "model\\\\.embed_tokens\\\\.weight|lm_head\\\\.weight", "bits": 8, "symmetric": true, "group_size": 32}]}
            """;

    Path dir;
    Path table;
    Path f32;

    @BeforeAll
    void export(@TempDir Path tmp) throws Exception {
        LlamaCpp.requireOrSkip();
        dir = tmp;
        Path source = GgufShardTest.smolLm2();
        GgufShardTest.requireOrSkip(source == null ? "SmolLM2 GGUF absent (.ci/venv installs it)" : null);
        GgufShardTest.requireOrSkip(Files.isExecutable(GgufShardTest.venvPython()) ? null : "no .venv");
        table = dir.resolve("smollm2");
        run("shard", "--input", source.toString(), "--output", table.toString());
        f32 = dir.resolve("f32.gguf");
        run("export", "--input", table.toString(), "--output", f32.toString());
    }

    @Test
    void llamaCppLogitsAgreeWithNibblesRuntime() throws Exception {
        double[] dense = compareLogits(f32, table, ActivationQuant.NONE, "F32");
        // Same weights, same float math up to summation order and llama.cpp's F16 attention paths.
        assertTrue(dense[1] < 1e-4, "F32: mean KLD between llama.cpp's and Nibble's logits: " + dense[1]);
        Path q = quantizeAndExport("int4-g32");
        double[] q4 = compareLogits(Path.of(q + ".gguf"), q, ActivationQuant.NONE, "int4-g32 as Q4_0/Q8_0");
        // llama.cpp also rounds each Q4_0/Q8_0 layer's input to Q8_0 blocks before the dot product; Nibble keeps it float.
        assertTrue(q4[1] < 1e-2, "Q4_0: mean KLD between llama.cpp's and Nibble's logits: " + q4[1]);
        double[] q8 = compareLogits(Path.of(q + ".gguf"), q, ActivationQuant.Q8_0, "int4-g32 as Q4_0/Q8_0, --activations q8_0");
        // Rounding those inputs as llama.cpp does makes the same kind of error, not the same error token by token: a
        // last-bit difference (summation order, llama.cpp's F16 attention) moves a value across a rounding boundary, and
        // the step it then takes is as large as the rounding itself. The perplexity over many tokens is what agrees.
        assertTrue(q8[1] < 1e-2, "Q4_0 with Q8_0 activations: mean KLD " + q8[1]);
        // llama.cpp rounds a Q4_K layer's input to Q8_K (blocks of 256); --activations q8_0 does the same for K-quant layers
        Path k = kQuantAndExport();
        double[] k4 = compareLogits(Path.of(k + ".gguf"), k, ActivationQuant.Q8_0, "K-quant down projections as Q4_K, --activations q8_0");
        assertTrue(k4[1] < 1e-2, "Q4_K: mean KLD " + k4[1]);
    }

    @Test
    void q4KTensorsReadBackInGgufPyAsNibblesValues() throws Exception {
        Path k = kQuantAndExport();
        Map<String, GgmlType> types = GgufExportTest.assertMatchesTable(k, Path.of(k + ".gguf"), dir);
        assertEquals(30, types.values().stream().filter(t -> t == GgmlType.Q4_K).count(), "every down projection is Q4_K: " + types);
        assertEquals(GgmlType.Q4_K, types.get("blk.0.ffn_down.weight"));
        assertEquals(GgmlType.Q4_0, types.get("blk.0.ffn_up.weight"));
    }

    /** Max |logit difference| and mean KLD(llama.cpp ‖ Nibble) over the first tokens of the evaluation text. */
    private double[] compareLogits(Path gguf, Path nibbleTable, ActivationQuant activations, String label) throws Exception {
        String prefix = dir.resolve("ref-" + gguf.getFileName()).toString();
        GgufShardTest.python(REFEREE, "logits", gguf.toString(), evaluationText().toString(),
                Integer.toString(LOGIT_TOKENS), prefix);
        int[] ids = ints(Path.of(prefix + ".ids"));
        float[] theirs = floats(Path.of(prefix + ".logits"));
        LlamaModel model = TableModels.get(nibbleTable.toString(), activations, new Configuration());
        float[][] ours = model.logits(ids);
        int vocab = ours[0].length;
        assertEquals((long) ids.length * vocab, theirs.length);
        double maxAbs = 0;
        double kld = 0;
        for (int t = 0; t < ids.length; t++) {
            float[] row = Arrays.copyOfRange(theirs, t * vocab, (t + 1) * vocab);
            for (int v = 0; v < vocab; v++) {
                maxAbs = Math.max(maxAbs, Math.abs(row[v] - ours[t][v]));
            }
            kld += Divergence.of(row, ours[t], t + 1 < ids.length ? ids[t + 1] : 0).kl();
        }
        kld /= ids.length;
        System.out.printf(Locale.ROOT, "llama.cpp vs Nibble logits, %s, %d tokens: max |diff| %.4f, mean KLD %.2e%n", label, ids.length,
                maxAbs, kld);
        return new double[] {maxAbs, kld};
    }

    @Test
    void nibblesPerplexityIsLlamaCpps() throws Exception {
        Map<String, double[]> pairs = new LinkedHashMap<>();
        Path q = quantizeAndExport("int4-g32");
        JsonNode model = evaluate(q);
        pairs.put("F32", new double[] {model.get("perplexity_original").get("mean").asDouble(), llamaPerplexity(f32, CTX, CHUNKS)});
        pairs.put("int4-g32 as Q4_0/Q8_0", new double[] {model.get("perplexity_quantized").get("mean").asDouble(),
            llamaPerplexity(Path.of(q + ".gguf"), CTX, CHUNKS)});
        Path awq = calibratedQuantizeAndExport("int4-g32-awq");
        pairs.put("int4-g32-awq as Q4_0/Q8_0 (scales folded into norms and rows)", new double[] {
            evaluate(awq).get("perplexity_quantized").get("mean").asDouble(), llamaPerplexity(Path.of(awq + ".gguf"), CTX, CHUNKS)});
        Path k = kQuantAndExport();
        pairs.put("K-quant down projections as Q4_K", new double[] {
            evaluate(k).get("perplexity_quantized").get("mean").asDouble(), llamaPerplexity(Path.of(k + ".gguf"), CTX, CHUNKS)});
        // Same weights, and for quantized layers the same rounding of each layer's input (--activations q8_0: Q8_0 blocks
        // before Q4_0/Q8_0 layers, Q8_K before Q4_K; without it Nibble measures the weights alone: llama.cpp on the same
        // weights stored as F32 is 0.4% below its Q4_0 file). The rounding is noise of about 0.1 nats per token: over the
        // 762 tokens scored it averages out (measured -0.16%); over 2 chunks of 64 it did not (+-2%; docs/BENCHMARKS.md).
        pairs.forEach((name, p) -> {
            double diff = p[0] / p[1] - 1;
            System.out.printf(Locale.ROOT, "perplexity, ctx %s, %s chunks, %s, --activations q8_0: Nibble %.4f, llama.cpp %.4f (%+.3f%%)%n",
                    CTX, CHUNKS, name, p[0], p[1], 100 * diff);
            assertTrue(Math.abs(diff) < 0.01, name + ": Nibble " + p[0] + " vs llama.cpp " + p[1]);
        });
    }

    private JsonNode evaluate(Path quantized) throws Exception {
        Path eval = dir.resolve("eval-" + quantized.getFileName());
        run("evaluate", "--original", table.toString(), "--quantized", quantized.toString(), "--output", eval.toString(),
                "--text", evaluationText().toString(), "--ctx", CTX, "--chunks", CHUNKS, "--activations", "q8_0");
        return new ObjectMapper().readTree(eval.resolve("report.json").toFile()).get("model");
    }

    private double llamaPerplexity(Path gguf, String ctx, String chunks) throws Exception {
        return LlamaCpp.referee(dir.resolve("ppl-" + gguf.getFileName() + "-" + ctx + ".json"), "perplexity", gguf.toString(),
                evaluationText().toString(), ctx, chunks).get("ppl").asDouble();
    }

    @Test
    void nibblesQ4_0IsNoWorseThanLlamaCppsOwn() throws Exception {
        Map<String, Path> models = new LinkedHashMap<>();
        models.put("F32 (export of the dense table)", f32);
        models.put("llama.cpp Q4_0", llamaQuantize("Q4_0"));
        models.put("Nibble int4-g32 as Q4_0", Path.of(quantizeAndExport("int4-g32") + ".gguf"));
        models.put("Nibble int4-g32-mse as Q4_0", Path.of(quantizeAndExport("int4-g32-mse") + ".gguf"));
        models.put("Nibble int4-g32-imatrix as Q4_0", Path.of(calibratedQuantizeAndExport("int4-g32-imatrix") + ".gguf"));
        models.put("Nibble int4-g32-awq as Q4_0", Path.of(calibratedQuantizeAndExport("int4-g32-awq") + ".gguf"));
        models.put("Nibble int4-g32-gptq as Q4_0", Path.of(calibratedQuantizeAndExport("int4-g32-gptq") + ".gguf"));
        Map<String, Double> ppl = new LinkedHashMap<>();
        for (Map.Entry<String, Path> e : models.entrySet()) {
            JsonNode r = LlamaCpp.referee(dir.resolve("ppl-" + ppl.size() + ".json"), "perplexity", e.getValue().toString(),
                    evaluationText().toString(), CTX, CHUNKS);
            ppl.put(e.getKey(), r.get("ppl").asDouble());
            System.out.printf(Locale.ROOT, "llama.cpp perplexity, ctx %s, %d chunks: %-30s %8.3f  (%d bytes)%n", CTX, r.get("chunks").asInt(),
                    e.getKey(), r.get("ppl").asDouble(), Files.size(e.getValue()));
        }
        assertTrue(ppl.get("Nibble int4-g32-mse as Q4_0") <= ppl.get("llama.cpp Q4_0"), "Nibble's mse Q4_0 vs llama.cpp's Q4_0: " + ppl);
        // Calibrated on calibration.txt, scored on evaluation.txt: the activation-weighted search beats both.
        assertTrue(ppl.get("Nibble int4-g32-imatrix as Q4_0") < ppl.get("Nibble int4-g32-mse as Q4_0"), "imatrix vs mse: " + ppl);
        assertTrue(ppl.get("Nibble int4-g32-imatrix as Q4_0") < ppl.get("llama.cpp Q4_0"), "imatrix vs llama.cpp's Q4_0: " + ppl);
        double base = ppl.get("F32 (export of the dense table)");
        System.out.printf(Locale.ROOT, "perplexity increase of int4-g32-imatrix / of round-to-nearest int4-g32: %.3f%n",
                (ppl.get("Nibble int4-g32-imatrix as Q4_0") - base) / (ppl.get("Nibble int4-g32 as Q4_0") - base));
        // GPTQ (activation order, diag(H)-weighted group scales) from the same calibration: best of all, and its perplexity
        // increase over F32 at most half of round-to-nearest's (issue 11), measured 43.20 (0.25 of it)
        assertTrue(ppl.get("Nibble int4-g32-gptq as Q4_0") < ppl.get("Nibble int4-g32-imatrix as Q4_0"), "GPTQ vs imatrix: " + ppl);
        double ratio = (ppl.get("Nibble int4-g32-gptq as Q4_0") - base) / (ppl.get("Nibble int4-g32 as Q4_0") - base);
        System.out.printf(Locale.ROOT, "perplexity increase of int4-g32-gptq / of round-to-nearest int4-g32: %.3f%n", ratio);
        assertTrue(ratio <= 0.5, "GPTQ's increase over F32 vs round-to-nearest's: " + ppl);
        // AWQ: channel scales from the activation statistics alone (no Hessians), folded so the file is a plain Q4_0 Llama
        double awq = ppl.get("Nibble int4-g32-awq as Q4_0");
        System.out.printf(Locale.ROOT, "perplexity increase of int4-g32-awq / of round-to-nearest int4-g32: %.3f%n",
                (awq - base) / (ppl.get("Nibble int4-g32 as Q4_0") - base));
        assertTrue(awq < ppl.get("Nibble int4-g32-imatrix as Q4_0"), "AWQ vs imatrix: " + ppl);
        assertTrue(ppl.get("llama.cpp Q4_0") > ppl.get("F32 (export of the dense table)"), "4 bits cost something: " + ppl);
    }

    private Path quantizeAndExport(String recipe) {
        Path q = dir.resolve("q-" + recipe);
        if (!Files.exists(q.resolveSibling(q.getFileName() + ".gguf"))) {
            run("quantize", "--input", table.toString(), "--output", q.toString(), "--recipe", recipe);
            run("export", "--input", q.toString(), "--output", q + ".gguf", "--strict");
        }
        return q;
    }

    /** Activation statistics and Hessians from 16 chunks of 256 tokens of the calibration text (once), then the recipe (once). */
    private Path calibratedQuantizeAndExport(String recipe) {
        Path stats = dir.resolve("calibration-stats");
        if (!Files.exists(stats.resolve("stats.json"))) {
            run("calibrate", "--input", table.toString(), "--output", stats.toString(), "--hessian",
                    "--text", TestSpark.shared().resolve("text/calibration.txt").toString(), "--ctx", "256", "--chunks", "16");
        }
        Path q = dir.resolve("q-" + recipe);
        if (!Files.exists(Path.of(q + ".gguf"))) {
            run("quantize", "--input", table.toString(), "--output", q.toString(), "--recipe", recipe, "--stats", stats.toString());
            run("export", "--input", q.toString(), "--output", q + ".gguf", "--strict");
        }
        return q;
    }

    /** {@link #K_QUANT} (once), exported with {@code --strict}: its K-quant tensors as Q4_K. */
    private Path kQuantAndExport() throws Exception {
        Path q = dir.resolve("q-k256");
        if (!Files.exists(Path.of(q + ".gguf"))) {
            Path recipe = Files.writeString(dir.resolve("k256-down.json"), K_QUANT);
            run("quantize", "--input", table.toString(), "--output", q.toString(), "--recipe", recipe.toString());
            run("export", "--input", q.toString(), "--output", q + ".gguf", "--strict");
        }
        return q;
    }

    private Path llamaQuantize(String type) throws Exception {
        Path out = dir.resolve("llama-" + type + ".gguf");
        GgufShardTest.python(REFEREE, "quantize", f32.toString(), out.toString(), type);
        return out;
    }

    private static Path evaluationText() {
        return TestSpark.shared().resolve("text/evaluation.txt");
    }

    private static void run(String... args) {
        TestSpark.Run r = TestSpark.nibble(args);
        assertEquals(0, r.code(), String.join(" ", args) + ": " + r.err());
    }

    private static int[] ints(Path p) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
        int[] out = new int[b.remaining() / 4];
        b.asIntBuffer().get(out);
        return out;
    }

    private static float[] floats(Path p) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[b.remaining() / 4];
        b.asFloatBuffer().get(out);
        return out;
    }
}
