package nibble.common.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import nibble.common.InvalidInputException;

/**
 * The SentencePiece-style tokenizer on hand-built vocabularies: score order and ties, the space prefix
 * and U+2581, byte fallback, user-defined and control token text, BOS/EOS, decoding, bad metadata.
 * Id-for-id agreement with llama.cpp on Llama's real vocabulary is {@code tests/TokenizerReferenceTest}.
 */
class SpmTokenizerTest {
    /** Ids 0..2: {@code <unk> <s> </s>}; 3..258: {@code <0x00>..<0xFF>}; then the pieces given, in order. */
    static final int FIRST_PIECE = 259;

    /** A llama vocabulary of the control tokens, the 256 byte tokens and {@code pieces} with {@code scores}. */
    static Map<String, Object> vocab(List<String> pieces, List<Double> scores) {
        List<String> tokens = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        List<Object> types = new ArrayList<>(List.of(2, 3, 3));
        List<Object> s = new ArrayList<>(List.of(0.0, 0.0, 0.0));
        for (int b = 0; b < 256; b++) {
            tokens.add(String.format("<0x%02X>", b));
            types.add(6);
            s.add(0.0);
        }
        for (int i = 0; i < pieces.size(); i++) {
            tokens.add(pieces.get(i).replace(" ", SpmTokenizer.SPACE));
            types.add(pieces.get(i).startsWith("<") ? 4 : 1);
            s.add(scores.get(i));
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("tokenizer.ggml.model", "llama");
        m.put("tokenizer.ggml.pre", "default");
        m.put("tokenizer.ggml.tokens", tokens);
        m.put("tokenizer.ggml.token_type", types);
        m.put("tokenizer.ggml.scores", s);
        return m;
    }

    private static int[] ids(int... pieceIndexOrNegativeByte) {
        int[] out = new int[pieceIndexOrNegativeByte.length];
        for (int i = 0; i < out.length; i++) {
            int v = pieceIndexOrNegativeByte[i];
            out[i] = v >= 0 ? FIRST_PIECE + v : 3 + (-v - 1);
        }
        return out;
    }

    /** The id of byte {@code b}, for {@link #ids}. */
    private static int b(int b) {
        return -(b + 1);
    }

    private static final List<String> ABC = List.of(" ", "a", "b", "c", "ab", "bc", " a", "aa", "abc");
    private static final List<Double> SCORES = List.of(-1.0, -2.0, -3.0, -4.0, -5.0, -6.0, -7.0, -6.5, -10.0);

    /** Pieces 0..8; "abc" is replaced by a piece that never matches when {@code abc} is null. */
    private static Tokenizer abc(double ab, double bc, Double abc) {
        List<String> pieces = List.of(" ", "a", "b", "c", "ab", "bc", " a", "aa", abc == null ? "zzz" : "abc");
        return Tokenizer.fromMetadata("t", vocab(pieces, List.of(-1.0, -2.0, -3.0, -4.0, ab, bc, -7.0, -6.5,
                abc == null ? -50.0 : abc)));
    }

    private static Tokenizer abc() {
        return abc(-5, -6, -10.0);
    }

    @Test
    void theHighestScoringPairMergesFirst() {
        assertArrayEquals(ids(0, 4, 3), abc(-5, -6, null).encode("abc", false), "ab outscores bc: ▁ ab c");
        assertArrayEquals(ids(6, 5), abc(-6, -5, null).encode("abc", false), "bc, then ▁a: ▁a bc");
        assertArrayEquals(ids(0, 8), abc(-5, -6, -10.0).encode("abc", false), "ab, then ab+c is the token abc");
        assertArrayEquals(ids(6, 5), abc(-6, -5, -10.0).encode("abc", false), "bc, then ▁a (-7) before a+bc (-10)");
    }

    @Test
    void aTieMergesTheLeftmostPair() {
        assertArrayEquals(ids(0, 7, 1), abc().encode("aaa", false), "▁ aa a, not ▁a aa");
        assertArrayEquals(ids(0, 7, 7), abc().encode("aaaa", false));
        Tokenizer zeros = Tokenizer.fromMetadata("t", vocab(ABC, List.of(-1.0, -2.0, -3.0, -4.0, 0.0, -6.0, -0.0, -6.5,
                -10.0)));
        assertArrayEquals(ids(6, 2), zeros.encode("ab", false), "▁a (-0.0) ties ab (0.0), as with C++'s <");
    }

    @Test
    void spacesBecomeTheMetaSymbolWithOneInFront() {
        Tokenizer t = abc();
        assertArrayEquals(ids(6, 0, 2, 0, 0), t.encode("a b  ", false), "▁a ▁ b ▁ ▁");
        assertArrayEquals(ids(0, 0, 6), t.encode("  a", false));
        Map<String, Object> m = vocab(ABC, SCORES);
        m.put("tokenizer.ggml.add_space_prefix", false);
        assertArrayEquals(ids(1, 0, 2), Tokenizer.fromMetadata("t", m).encode("a b", false));
        assertEquals("a b", Tokenizer.fromMetadata("t", m).decode(ids(1, 0, 2)));
    }

    @Test
    void charactersNotInTheVocabularyFallBackToTheirBytes() {
        Tokenizer t = abc();
        assertArrayEquals(ids(0, b(0xC3), b(0xA9), 1), t.encode("éa", false));
        assertArrayEquals(ids(0, b(0xF0), b(0x9F), b(0x99), b(0x82)), t.encode("🙂", false), "one symbol per code point");
        assertArrayEquals(ids(0, b('<'), b('/'), b('s'), b('>')), t.encode("</s>", false), "control text is text");
        assertArrayEquals(ids(0, b('?')), t.encode("\ud800", false), "an unpaired surrogate is '?' in UTF-8");
    }

    @Test
    void userDefinedTokensAreCutOutAndTheNextPieceGetsASpace() {
        Tokenizer t = Tokenizer.fromMetadata("t", vocab(List.of(" ", "a", " a", "<x>", "<xy>"),
                List.of(-1.0, -2.0, -3.0, 0.0, 0.0)));
        assertArrayEquals(ids(2, 3, 2, 4, 2), t.encode("a<x>a<xy>a", false));
        assertArrayEquals(ids(3, 3), t.encode("<x><x>", false));
        assertEquals("a<x> a<xy> a", t.decode(ids(2, 3, 2, 4, 2)), "the space put in front stays, as in llama.cpp");
    }

    @Test
    void bosAndEosAsTheVocabularySays() {
        Map<String, Object> m = vocab(ABC, SCORES);
        Tokenizer t = Tokenizer.fromMetadata("t", m);
        assertTrue(t.addsBos(), "llama's default");
        assertEquals(1, t.bos());
        assertArrayEquals(new int[] {1, FIRST_PIECE + 6}, t.encode("a", true));
        assertArrayEquals(new int[] {1}, t.encode("", true));
        assertArrayEquals(new int[0], t.encode("", false));
        m.put("tokenizer.ggml.add_bos_token", false);
        m.put("tokenizer.ggml.add_eos_token", true);
        m.put("tokenizer.ggml.eos_token_id", 5L);
        assertArrayEquals(new int[] {FIRST_PIECE + 6, 5}, Tokenizer.fromMetadata("t", m).encode("a", true));
    }

    @Test
    void decodingDropsTheLeadingSpaceOfTheFirstTokenOnly() {
        Tokenizer t = abc();
        for (String s : List.of("abc aaa", "  a é🙂 b ", "\n\ttabs", "")) {
            assertEquals(s, t.decode(t.encode(s, false)), s);
        }
        // as llama.cpp's detokenizer without remove_special: BOS (control) gives nothing but is the first token
        assertEquals(" abc", t.decode(t.encode("abc", true)));
        assertEquals("", t.decode(new int[] {0, 1, 2}), "unknown and control tokens give nothing");
        assertThrows(IllegalArgumentException.class, () -> t.decode(new int[] {FIRST_PIECE + ABC.size()}));
    }

    @Test
    void badMetadataIsOneClearError() {
        Map<String, Object> m = vocab(ABC, SCORES);
        Map<String, Object> one = new LinkedHashMap<>(Map.of("tokenizer.ggml.model", "llama",
                "tokenizer.ggml.tokens", List.of("a")));
        assertEquals("tbl: tokenizer.ggml.bos_token_id is absent and its default 1 is not among the 1 tokens",
                assertThrows(InvalidInputException.class, () -> Tokenizer.fromMetadata("tbl", one)).getMessage());
        one.put("tokenizer.ggml.add_bos_token", false);
        one.put("tokenizer.ggml.add_space_prefix", false);
        assertArrayEquals(new int[] {0}, Tokenizer.fromMetadata("tbl", one).encode("a", true),
                "the least a vocabulary needs: tokens (no scores, types or byte tokens)");
        assertEquals("tbl: the vocabulary has no token for byte <0x62>, which the text needs (byte fallback)",
                assertThrows(InvalidInputException.class, () -> Tokenizer.fromMetadata("tbl", one).encode("b", true))
                        .getMessage());
        m.put("tokenizer.ggml.scores", List.of(1.0));
        assertEquals("tbl: tokenizer.ggml.scores holds 1 values for 268 tokens",
                assertThrows(InvalidInputException.class, () -> Tokenizer.fromMetadata("tbl", m)).getMessage());
        List<Object> scores = new ArrayList<>(java.util.Collections.nCopies(268, (Object) 0.0));
        scores.set(7, "NaN");
        m.put("tokenizer.ggml.scores", scores);
        assertEquals("tbl: tokenizer.ggml.scores[7] is NaN, not a finite number",
                assertThrows(InvalidInputException.class, () -> Tokenizer.fromMetadata("tbl", m)).getMessage());
        m.remove("tokenizer.ggml.scores");
        assertArrayEquals(ids(6, 2), Tokenizer.fromMetadata("tbl", m).encode("ab", false),
                "no scores: all zero, as in llama.cpp; ▁a and ab tie, the leftmost merges, then nothing pairs");
        m.put("tokenizer.ggml.add_space_prefix", "yes");
        assertEquals("tbl: tokenizer.ggml.add_space_prefix is yes, not true or false",
                assertThrows(InvalidInputException.class, () -> Tokenizer.fromMetadata("tbl", m)).getMessage());
        m.remove("tokenizer.ggml.add_space_prefix");
        @SuppressWarnings("unchecked")
        List<String> tokens = new ArrayList<>((List<String>) m.get("tokenizer.ggml.tokens"));
        tokens.set(3 + 0x41, "<0xZZ>");
        m.put("tokenizer.ggml.tokens", tokens);
        assertEquals("tbl: tokenizer.ggml.tokens[68] '<0xZZ>' has token type 6 (byte) but is not of the form <0xXX>",
                assertThrows(InvalidInputException.class, () -> Tokenizer.fromMetadata("tbl", m)).getMessage());
        @SuppressWarnings("unchecked")
        List<Object> types = new ArrayList<>((List<Object>) m.get("tokenizer.ggml.token_type"));
        types.set(3 + 0x41, 1);
        m.put("tokenizer.ggml.token_type", types);
        Tokenizer noA = Tokenizer.fromMetadata("tbl", m);
        assertArrayEquals(ids(0, b('B')), noA.encode("B", false));
        assertEquals("tbl: the vocabulary has no token for byte <0x41>, which the text needs (byte fallback)",
                assertThrows(InvalidInputException.class, () -> noA.encode("A", false)).getMessage());
    }
}
