package nibble.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code evaluate --text} and {@code sample --text} on SmolLM2-135M (the F32 table sharded from the Q4_1
 * GGUF) and ../shared/text/evaluation.txt, by llama-perplexity's protocol with short chunks ({@code --ctx
 * 64 --chunks 2}, as the Java runtime is slow). The "quantized" side is the same model kept whole by a
 * recipe that keeps every tensor, so the comparison is of the model with itself. llama.cpp, running the
 * GGUF file, is the referee of the perplexity.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EvaluateTextTest {
    static final int CTX = 64;
    static final int CHUNKS = 2;

    private Path dir;
    private Path gguf;
    private Path text;
    private Path table;
    private Path same;
    private JsonNode model;

    @BeforeAll
    void evaluateTheModelAgainstItself(@TempDir Path tmp) throws Exception {
        dir = tmp;
        gguf = GgufShardTest.smolLm2();
        GgufShardTest.requireOrSkip(gguf == null ? GgufShardTest.FILE + " not found under .venv" : null);
        text = TestSpark.shared() == null ? null : TestSpark.shared().resolve("text/evaluation.txt");
        GgufShardTest.requireOrSkip(text != null && Files.exists(text) ? null : "../shared/text/evaluation.txt is absent");
        table = dir.resolve("smollm2");
        ok("shard", "--input", gguf.toString(), "--output", table.toString(), "--target-file-mb", "64");
        Path keepAll = dir.resolve("keep-all.json");
        Files.writeString(keepAll, "{\"description\": \"keeps every tensor\", \"default\": {\"bits\": 8, \"symmetric\": true,"
                + " \"granularity\": \"channel\"}, \"overrides\": [{\"match\": \".*\", \"keep\": true}]}\n");
        same = dir.resolve("same");
        ok("quantize", "--input", table.toString(), "--output", same.toString(), "--recipe", keepAll.toString());
        long started = System.nanoTime();
        ok("evaluate", "--original", table.toString(), "--quantized", same.toString(), "--output", dir.resolve("eval").toString(),
                "--text", text.toString(), "--ctx", String.valueOf(CTX), "--chunks", String.valueOf(CHUNKS));
        System.out.printf("EvaluateTextTest: evaluate --text --ctx %d --chunks %d took %.1f s%n", CTX, CHUNKS,
                (System.nanoTime() - started) / 1e9);
        model = new ObjectMapper().readTree(dir.resolve("eval/report.json").toFile()).get("model");
    }

    private static TestSpark.Run ok(String... args) {
        TestSpark.Run r = TestSpark.nibble(args);
        assertEquals(0, r.code(), String.join(" ", args) + ": " + r.err());
        return r;
    }

    @Test
    void theModelAgainstItselfHasEqualPerplexityAndZeroKld() {
        assertEquals(CHUNKS, model.get("sequences").asInt());
        assertEquals(CHUNKS * (CTX - CTX / 2 - 1), model.get("tokens").asInt(), "second halves: 31 scored per chunk");
        JsonNode t = model.get("text");
        assertEquals(text.toString(), t.get("input").asText());
        assertEquals("llama-perplexity", t.get("protocol").asText());
        assertEquals(CTX, t.get("ctx").asInt());
        assertEquals(CTX / 2, t.get("scored_from").asInt());
        assertEquals(false, t.get("bos").asBoolean(), "SmolLM2's GGUF says add_bos_token = false");
        double before = model.get("perplexity_original").get("mean").asDouble();
        assertEquals(before, model.get("perplexity_quantized").get("mean").asDouble());
        assertEquals(0.0, model.get("kld_mean").get("mean").asDouble());
        assertEquals(1.0, model.get("top1_agreement").get("mean").asDouble());
        assertTrue(before > 3 && before < 100, "perplexity " + before);
    }

    @Test
    void perplexityIsLlamaCppsWithinOnePercent() throws Exception {
        LlamaCpp.requireOrSkip();
        JsonNode ref = LlamaCpp.referee(dir.resolve("ppl.json"), "perplexity", gguf.toString(), text.toString(), String.valueOf(CTX),
                String.valueOf(CHUNKS));
        double nibble = model.get("perplexity_original").get("mean").asDouble();
        double llama = ref.get("ppl").asDouble();
        System.out.printf("EvaluateTextTest: perplexity of the first %d chunks of %d tokens of evaluation.txt: Nibble (F32 table)"
                        + " %.4f, llama.cpp (Q4_1 GGUF) %.4f, difference %+.3f%% (per chunk NLL llama.cpp %s)%n", CHUNKS, CTX, nibble,
                llama, 100 * (nibble / llama - 1), ref.get("chunk_nll"));
        assertEquals(model.get("tokens").asInt(), ref.get("count").asInt());
        assertEquals(model.get("text").get("text_tokens").asInt(), ref.get("text_tokens").asInt(), "the same tokens");
        assertTrue(Math.abs(nibble / llama - 1) < 0.01, nibble + " vs " + llama);

        Path seqs = dir.resolve("seqs");
        ok("sample", "--model", table.toString(), "--output", seqs.toString(), "--text", text.toString(), "--ctx",
                String.valueOf(CTX), "--chunks", String.valueOf(CHUNKS));
        List<int[]> chunks = tokens(seqs.resolve("sequences"));
        assertEquals(CHUNKS, chunks.size());
        for (int i = 0; i < CHUNKS; i++) {
            assertArrayEquals(LlamaCpp.ints(ref.get("chunk_tokens").get(i)), chunks.get(i), "chunk " + i + " is llama-perplexity's");
        }
    }

    @Test
    void sampleTextWritesChunksThatEvaluateDataScoresTheSameWay() throws Exception {
        Path seqs = dir.resolve("seqs-data");
        ok("sample", "--model", table.toString(), "--output", seqs.toString(), "--text", text.toString(), "--ctx",
                String.valueOf(CTX), "--chunks", String.valueOf(CHUNKS));
        JsonNode record = new ObjectMapper().readTree(seqs.resolve("sample.json").toFile());
        assertEquals(CTX / 2, record.get("scored_from").asInt());
        assertEquals(CHUNKS, record.get("sequences").asInt());
        assertEquals(model.get("text").get("text_tokens").asInt(), record.get("text_tokens").asInt());
        ok("evaluate", "--original", table.toString(), "--quantized", same.toString(), "--output", dir.resolve("eval-data").toString(),
                "--data", seqs.toString());
        JsonNode m = new ObjectMapper().readTree(dir.resolve("eval-data/report.json").toFile()).get("model");
        assertEquals(model.get("tokens").asInt(), m.get("tokens").asInt(), "scored from sample.json's scored_from");
        for (String key : List.of("nll_original", "perplexity_original", "perplexity_quantized")) {
            assertEquals(model.get(key).get("mean").asDouble(), m.get(key).get("mean").asDouble(), key);
        }
    }

    @Test
    void textAndDataTogetherAreAUsageError() {
        TestSpark.Run r = TestSpark.nibble("evaluate", "--original", table.toString(), "--quantized", same.toString(), "--output",
                dir.resolve("e-both").toString(), "--text", text.toString(), "--data", dir.resolve("x").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--text and --data are mutually exclusive"), r.err());
    }

    static List<int[]> tokens(Path parquetDir) throws Exception {
        List<int[]> out = new ArrayList<>();
        List<Path> files;
        try (var s = Files.list(parquetDir)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".parquet")).sorted().toList();
        }
        for (Path f : files) {
            try (ParquetReader<Group> reader = ParquetReader.builder(new GroupReadSupport(),
                    new org.apache.hadoop.fs.Path(f.toString())).withConf(new Configuration()).build()) {
                for (Group g = reader.read(); g != null; g = reader.read()) {
                    Group list = g.getGroup("tokens", 0);
                    int n = list.getFieldRepetitionCount(0);
                    int[] t = new int[n];
                    for (int i = 0; i < n; i++) {
                        t[i] = list.getGroup(0, i).getInteger(0, 0);
                    }
                    out.add(t);
                }
            }
        }
        return out;
    }
}
