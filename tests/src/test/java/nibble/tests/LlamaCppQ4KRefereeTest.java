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
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import nibble.common.eval.Divergence;
import nibble.common.format.GgmlType;
import nibble.common.model.ActivationQuant;
import nibble.common.model.LlamaModel;
import nibble.jobs.model.TableModels;

/**
 * The K-quant layout ({@code granularity superblock}) judged by llama.cpp on SmolLM2-135M, as {@link
 * LlamaCppRefereeTest} judges Q4_0: {@code nibble export --strict} writes the K-quant tensors as GGUF
 * {@code Q4_K} with their bytes carried over, gguf-py's Q4_K dequantization of the file gives Nibble's
 * dequantized values bit for bit, llama.cpp loads and runs the file, its logits agree with Nibble's
 * runtime and its perplexity with {@code nibble evaluate}'s. SmolLM2's rows are 576 values except
 * the MLP's down projection (1536): Q4_K needs rows of a multiple of 256, so the K-quant layout goes
 * on the down projections (30 tensors, a quarter of the linear weights) and the other linear layers
 * are int4 g32 (Q4_0), embedding and head int8 g32 (Q8_0).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LlamaCppQ4KRefereeTest {
    private static final int LOGIT_TOKENS = 32;
    private static final String CTX = "256";
    private static final String CHUNKS = "6";
    private static final Path REFEREE = GgufShardTest.project().resolve("bin/llama-cpp-referee");
    static final String RECIPE = """
            {"keep_1d": true, "default": {"bits": 4, "symmetric": true, "group_size": 32, "range": "mse"},
             "overrides": [
               {"match": "(?i).*norm.*", "keep": true},
               {"match": ".*mlp\\\\.down_proj\\\\.weight", "bits": 4, "symmetric": false, "granularity": "superblock", "range": "mse"},
               {"match": "model\\\\.embed_tokens\\\\.weight|lm_head\\\\.weight", "bits": 8, "symmetric": true, "group_size": 32}]}
            """;

    Path dir;
    Path table;
    Path q;
    Path gguf;

    @BeforeAll
    void export(@TempDir Path tmp) throws Exception {
        LlamaCpp.requireOrSkip();
        dir = tmp;
        Path source = GgufShardTest.smolLm2();
        GgufShardTest.requireOrSkip(source == null ? "SmolLM2 GGUF absent (.ci/venv installs it)" : null);
        GgufShardTest.requireOrSkip(Files.isExecutable(GgufShardTest.venvPython()) ? null : "no .venv");
        table = dir.resolve("smollm2");
        run("shard", "--input", source.toString(), "--output", table.toString());
        Path recipe = Files.writeString(dir.resolve("k256-down.json"), RECIPE);
        q = dir.resolve("q-k256");
        run("quantize", "--input", table.toString(), "--output", q.toString(), "--recipe", recipe.toString());
        gguf = dir.resolve("q-k256.gguf");
        run("export", "--input", q.toString(), "--output", gguf.toString(), "--strict");
    }

    @Test
    void q4KTensorsReadBackInGgufPyAsNibblesValues() throws Exception {
        Map<String, GgmlType> types = GgufExportTest.assertMatchesTable(q, gguf, dir);
        long q4k = types.values().stream().filter(t -> t == GgmlType.Q4_K).count();
        assertEquals(30, q4k, "every down projection is Q4_K: " + types);
        assertEquals(GgmlType.Q4_K, types.get("blk.0.ffn_down.weight"));
        assertEquals(GgmlType.Q4_0, types.get("blk.0.ffn_up.weight"));
    }

    @Test
    void llamaCppRunsTheQ4KFileAsNibbleDoes() throws Exception {
        String prefix = dir.resolve("ref-k256").toString();
        GgufShardTest.python(REFEREE, "logits", gguf.toString(), evaluationText().toString(), Integer.toString(LOGIT_TOKENS), prefix);
        int[] ids = ints(Path.of(prefix + ".ids"));
        float[] theirs = floats(Path.of(prefix + ".logits"));
        LlamaModel model = TableModels.get(q.toString(), ActivationQuant.Q8_0, new Configuration());
        float[][] ours = model.logits(ids);
        int vocab = ours[0].length;
        assertEquals((long) ids.length * vocab, theirs.length);
        double kld = 0;
        double maxAbs = 0;
        for (int t = 0; t < ids.length; t++) {
            float[] row = Arrays.copyOfRange(theirs, t * vocab, (t + 1) * vocab);
            for (int v = 0; v < vocab; v++) {
                maxAbs = Math.max(maxAbs, Math.abs(row[v] - ours[t][v]));
            }
            kld += Divergence.of(row, ours[t], t + 1 < ids.length ? ids[t + 1] : 0).kl();
        }
        kld /= ids.length;
        System.out.printf(Locale.ROOT, "llama.cpp vs Nibble logits, K-quant down projections, %d tokens: max |diff| %.4f, mean KLD %.2e%n",
                ids.length, maxAbs, kld);
        assertTrue(kld < 1e-2, "mean KLD between llama.cpp's and Nibble's logits: " + kld);

        Path eval = dir.resolve("eval-text");
        run("evaluate", "--original", table.toString(), "--quantized", q.toString(), "--output", eval.toString(),
                "--text", evaluationText().toString(), "--ctx", CTX, "--chunks", CHUNKS, "--activations", "q8_0");
        JsonNode report = new ObjectMapper().readTree(eval.resolve("report.json").toFile()).get("model");
        double ours2 = report.get("perplexity_quantized").get("mean").asDouble();
        double theirs2 = LlamaCpp.referee(dir.resolve("ppl-k256.json"), "perplexity", gguf.toString(), evaluationText().toString(),
                CTX, CHUNKS).get("ppl").asDouble();
        double diff = ours2 / theirs2 - 1;
        System.out.printf(Locale.ROOT, "perplexity, ctx %s, %s chunks, K-quant down projections: Nibble %.4f, llama.cpp %.4f (%+.3f%%)%n",
                CTX, CHUNKS, ours2, theirs2, 100 * diff);
        // llama.cpp rounds a Q4_K layer's input to Q8_K (blocks of 256, F32 scale), Nibble's --activations q8_0 to Q8_0
        // blocks of 32: the same kind of noise, not the same values; over the 762 tokens scored it averages out.
        assertTrue(Math.abs(diff) < 0.01, "Nibble " + ours2 + " vs llama.cpp " + theirs2);
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
