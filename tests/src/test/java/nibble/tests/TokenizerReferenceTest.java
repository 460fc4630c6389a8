package nibble.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;
import nibble.common.format.GgufReader;
import nibble.common.io.FileByteSource;
import nibble.common.tokenizer.Tokenizer;

/**
 * Nibble's tokenizer, built from SmolLM2-135M's GGUF tokenizer metadata (byte-level BPE, pre-tokenizer
 * {@code smollm}), gives llama.cpp's ids id for id on the whole of {@code ../shared/text/evaluation.txt}
 * and on strings chosen to exercise the pre-tokenizer's corners (contractions, digits, runs of spaces,
 * newlines, non-ASCII letters and spaces, emoji, control-token text). No Spark.
 *
 * <p>The same vocabulary under two other pre-tokenizers Nibble implements, {@code gpt-2} and
 * {@code llama-bpe} (llama 3's), checks those too: llama.cpp gets a vocabulary-only copy of the file's
 * metadata with {@code tokenizer.ggml.pre} changed, Nibble the same metadata.
 */
class TokenizerReferenceTest {
    @TempDir
    Path tmp;

    /** Corner cases for the pre-tokenizer and the byte fallback. */
    static final List<String> CASES = List.of(
            "", " ", "\n", "Hello world", "  two leading spaces", "trailing spaces   ", "a  b   c    d\t\te",
            "tabs\tand\nnewlines\n\n\nend", "mixed\r\nline\rendings\r\n", "don't I'll we've they're it's 'quoted' DON'T",
            "In 1960, 42.5% of $3,000,000 (1st) 2nd 007", "émigré café naïve Grüße façade", "日本語のテキスト、中文。",
            "emoji 🙂👍🏽 and ZWJ 👩‍👩‍👧", "non\u00a0breaking\u3000ideographic\u2009thin", "<|im_start|>user\nhi<|im_end|>",
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "Ω≈ç√∫˜µ≤≥÷ ½ ¼ Ⅻ ²",
            "   leading and trailing   \n  ", "'s's's 'll'LL", "--- *** ... !!! ???", "\u0000nul\u0007bell\u007fdel");

    @ParameterizedTest(name = "pre-tokenizer {0}")
    @ValueSource(strings = {"smollm", "gpt-2", "llama-bpe"})
    @SuppressWarnings("unchecked")
    void idsEqualLlamaCppOnTheWholeEvaluationText(String pre) throws Exception {
        Path gguf = GgufShardTest.smolLm2();
        GgufShardTest.requireOrSkip(gguf == null ? GgufShardTest.FILE + " not found under .venv" : null);
        LlamaCpp.requireOrSkip();
        Path text = TestSpark.shared() == null ? null : TestSpark.shared().resolve("text/evaluation.txt");
        Assumptions.assumeTrue(text != null && Files.exists(text), "../shared/text/evaluation.txt is absent");

        Tokenizer tokenizer;
        try (FileByteSource src = new FileByteSource(gguf)) {
            Map<String, Object> meta = GgufReader.read(src, GgufShardTest.FILE).sourceMetadata();
            Map<String, Object> tok = new java.util.LinkedHashMap<>((Map<String, Object>) meta.get("tokenizer"));
            assertEquals("smollm", tok.get("tokenizer.ggml.pre"));
            tok.put("tokenizer.ggml.pre", pre);
            tokenizer = Tokenizer.fromMetadata(GgufShardTest.FILE, tok);
        }
        String prose = Files.readString(text, StandardCharsets.UTF_8);
        Path cases = tmp.resolve("cases.json");
        Files.writeString(cases, new ObjectMapper().writeValueAsString(CASES), StandardCharsets.UTF_8);
        JsonNode ref = LlamaCpp.run(tmp.resolve("ids.json"), "tokenize", gguf.toString(), text.toString(), cases.toString(),
                pre.equals("smollm") ? "-" : pre);

        int[] expected = LlamaCpp.ints(ref.get("text"));
        tokenizer.encode(prose, false); // warm up, then time one run
        long started = System.nanoTime();
        int[] ids = tokenizer.encode(prose, false);
        double seconds = (System.nanoTime() - started) / 1e9;
        int same = 0;
        while (same < Math.min(ids.length, expected.length) && ids[same] == expected[same]) {
            same++;
        }
        System.out.printf("TokenizerReferenceTest: %s: evaluation.txt: %d of %d llama.cpp ids equal (Nibble gave %d);"
                        + " Nibble %.0f tokens/s, llama.cpp %.0f tokens/s (llama-cpp-python %s)%n", pre, same, expected.length, ids.length,
                ids.length / seconds, expected.length / ref.get("seconds").asDouble(), ref.get("version").asText());
        assertEquals(expected.length, same, "first difference at token " + same);
        assertArrayEquals(expected, ids);
        assertEquals(prose, tokenizer.decode(ids));

        for (int i = 0; i < CASES.size(); i++) {
            assertArrayEquals(LlamaCpp.ints(ref.get("cases").get(i)), tokenizer.encode(CASES.get(i), false),
                    "case " + i + ": '" + CASES.get(i) + "'");
        }
        assertTrue(expected.length > 30000, expected.length + " tokens");
    }
}
