package nibble.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;
import nibble.common.format.GgufReader;
import nibble.common.io.FileByteSource;
import nibble.common.json.Json;
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
 *
 * <p>The SentencePiece tokenizer ({@code tokenizer.ggml.model} = {@code llama}) is checked on Llama's
 * 32,000-token vocabulary, llama.cpp's test file {@code models/ggml-vocab-llama-spm.gguf} (a vocabulary-only
 * GGUF that {@code .ci/venv} extracts from the pinned llama-cpp-python sdist into
 * {@code .venv/llama-vocab/}, or {@code -Dnibble.llama.vocab=FILE}): the whole evaluation text with and
 * without BOS, the corner cases, and llama.cpp's own test vectors next to it ({@code .inp}/{@code .out},
 * as its {@code test-tokenizer-0} reads them), each against both the {@code .out} file and llama.cpp run
 * now; decoding against llama.cpp's {@code llama_detokenize}.
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

    /** File name of llama.cpp's Llama SentencePiece test vocabulary. */
    static final String LLAMA_VOCAB = "ggml-vocab-llama-spm.gguf";

    /** The vocabulary: {@code -Dnibble.llama.vocab}, else {@code .venv/llama-vocab/}; null when absent. */
    static Path llamaVocab() {
        String prop = System.getProperty("nibble.llama.vocab");
        Path p = prop != null ? Path.of(prop) : GgufShardTest.project().resolve(".venv/llama-vocab").resolve(LLAMA_VOCAB);
        return Files.isRegularFile(p) ? p : null;
    }

    /** llama.cpp's test vectors for {@code vocab}: inputs split as {@code tests/test-tokenizer-0.cpp} does, and ids. */
    record Vectors(List<String> inputs, List<int[]> ids) {
        static Vectors read(Path vocab) throws Exception {
            String raw = Files.readString(Path.of(vocab + ".inp"), StandardCharsets.UTF_8);
            List<String> inputs = new ArrayList<>();
            String sep = "\n__ggml_vocab_test__\n";
            for (int pos = 0; pos < raw.length(); ) {
                int next = raw.indexOf(sep, pos);
                inputs.add(raw.substring(pos, next < 0 ? raw.length() : next));
                pos = next < 0 ? raw.length() : next + sep.length();
            }
            List<int[]> ids = new ArrayList<>();
            for (String line : Files.readAllLines(Path.of(vocab + ".out"), StandardCharsets.UTF_8)) {
                String t = line.strip();
                ids.add(t.isEmpty() ? new int[0] : Arrays.stream(t.split(" ")).mapToInt(Integer::parseInt).toArray());
            }
            assertEquals(inputs.size(), ids.size(), "the .inp and .out files hold different numbers of tests");
            return new Vectors(inputs, ids);
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void sentencePieceIdsEqualLlamaCppOnTheWholeEvaluationText() throws Exception {
        Path vocab = llamaVocab();
        GgufShardTest.requireOrSkip(vocab == null ? LLAMA_VOCAB + " not found under .venv/llama-vocab" : null);
        LlamaCpp.requireOrSkip();
        Path text = TestSpark.shared() == null ? null : TestSpark.shared().resolve("text/evaluation.txt");
        Assumptions.assumeTrue(text != null && Files.exists(text), "../shared/text/evaluation.txt is absent");

        Map<String, Object> tok;
        try (FileByteSource src = new FileByteSource(vocab)) {
            tok = (Map<String, Object>) GgufReader.read(src, LLAMA_VOCAB).sourceMetadata().get("tokenizer");
        }
        assertEquals("llama", tok.get("tokenizer.ggml.model"));
        Tokenizer tokenizer = Tokenizer.fromMetadata(LLAMA_VOCAB, tok);
        assertEquals(32000, tokenizer.size());
        assertTrue(tokenizer.addsBos());
        Vectors vectors = Vectors.read(vocab);
        List<String> cases = new ArrayList<>(CASES);
        cases.addAll(vectors.inputs());
        Path casesFile = tmp.resolve("cases.json");
        Files.writeString(casesFile, new ObjectMapper().writeValueAsString(cases), StandardCharsets.UTF_8);
        JsonNode ref = LlamaCpp.run(tmp.resolve("ids.json"), "tokenize", vocab.toString(), text.toString(),
                casesFile.toString(), "-");

        String prose = Files.readString(text, StandardCharsets.UTF_8);
        int[] expected = LlamaCpp.ints(ref.get("text_bos"));
        tokenizer.encode(prose, true); // warm up, then time one run
        long started = System.nanoTime();
        int[] ids = tokenizer.encode(prose, true);
        double seconds = (System.nanoTime() - started) / 1e9;
        int same = 0;
        while (same < Math.min(ids.length, expected.length) && ids[same] == expected[same]) {
            same++;
        }
        int agreeing = 0;
        for (int i = 0; i < vectors.inputs().size(); i++) {
            agreeing += Arrays.equals(vectors.ids().get(i), tokenizer.encode(vectors.inputs().get(i), false)) ? 1 : 0;
        }
        System.out.printf("TokenizerReferenceTest: llama (SentencePiece): evaluation.txt with BOS: %d of %d llama.cpp ids"
                        + " equal (Nibble gave %d); llama.cpp's %s vectors: %d of %d equal; Nibble %.0f tokens/s,"
                        + " llama.cpp %.0f tokens/s (llama-cpp-python %s)%n", same, expected.length, ids.length, LLAMA_VOCAB,
                agreeing, vectors.inputs().size(), ids.length / seconds, ref.get("text").size() / ref.get("seconds").asDouble(),
                ref.get("version").asText());
        assertEquals(expected.length, same, "first difference at token " + same);
        assertArrayEquals(expected, ids);
        assertEquals(tokenizer.bos(), ids[0]);
        int[] plain = tokenizer.encode(prose, false);
        assertArrayEquals(LlamaCpp.ints(ref.get("text")), plain);
        assertEquals(ref.get("decoded").asText(), tokenizer.decode(plain));
        assertEquals(prose, tokenizer.decode(plain), "the space put in front is dropped again");
        assertEquals(ref.get("decoded_bos").asText(), tokenizer.decode(ids));
        // as a table carries it: through the manifest's JSON (float32 scores as JSON numbers) and back
        Map<String, Object> viaManifest = Json.plainObject(new ObjectMapper().readTree(Json.write(tok)));
        assertArrayEquals(expected, Tokenizer.fromMetadata(LLAMA_VOCAB, viaManifest).encode(prose, true));

        for (int i = 0; i < cases.size(); i++) {
            int[] mine = tokenizer.encode(cases.get(i), false);
            assertArrayEquals(LlamaCpp.ints(ref.get("cases").get(i)), mine, "case " + i + ": '" + cases.get(i) + "'");
            if (i >= CASES.size()) {
                assertArrayEquals(vectors.ids().get(i - CASES.size()), mine, LLAMA_VOCAB + ".out, test " + (i - CASES.size()));
            }
            assertEquals(ref.get("cases_decoded").get(i).asText(), tokenizer.decode(mine), "decoded case " + i);
        }
        assertEquals(vectors.inputs().size(), agreeing);
        assertTrue(vectors.inputs().size() > 40, vectors.inputs().size() + " vectors");
        assertTrue(expected.length > 30000, expected.length + " tokens");
    }
}
