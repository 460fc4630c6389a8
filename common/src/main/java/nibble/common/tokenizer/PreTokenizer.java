package nibble.common.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * How text is cut into words before byte-pair merging, as llama.cpp does it for each
 * {@code tokenizer.ggml.pre} value (its {@code llm_tokenizer_bpe} regexes, which it runs through
 * hand-written matchers in {@code unicode.cpp}). Each kind is a sequence of splits: a later split works
 * inside the pieces of the one before and never across them.
 *
 * <ul>
 * <li>{@link #GPT2}: {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+}.
 * <li>{@link #DIGITS_GPT2}: first every number code point on its own ({@code \p{N}}), then GPT-2's.
 * <li>{@link #LLAMA3}: {@code (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
 * ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+}, and a word that is itself a token skips merging.
 * </ul>
 */
enum PreTokenizer {
    GPT2(false, false, false),
    DIGITS_GPT2(true, false, false),
    LLAMA3(false, true, true);

    /** llama.cpp's names ({@code llama-vocab.cpp}) of the pre-tokenizers each kind serves. */
    private static final Map<String, PreTokenizer> NAMES = Map.ofEntries(
            Map.entry("gpt-2", GPT2), Map.entry("phi-2", GPT2), Map.entry("jina-es", GPT2), Map.entry("jina-de", GPT2),
            Map.entry("gigachat", GPT2), Map.entry("jina-v2-es", GPT2), Map.entry("jina-v2-de", GPT2),
            Map.entry("a.x-4.0", GPT2), Map.entry("mellum", GPT2), Map.entry("mpt", GPT2), Map.entry("olmo", GPT2),
            Map.entry("jais", GPT2), Map.entry("exaone4", GPT2), Map.entry("trillion", GPT2),
            Map.entry("granite-docling", GPT2),
            Map.entry("starcoder", DIGITS_GPT2), Map.entry("refact", DIGITS_GPT2), Map.entry("command-r", DIGITS_GPT2),
            Map.entry("smollm", DIGITS_GPT2), Map.entry("codeshell", DIGITS_GPT2), Map.entry("exaone", DIGITS_GPT2),
            Map.entry("minerva-7b", DIGITS_GPT2),
            Map.entry("llama3", LLAMA3), Map.entry("llama-v3", LLAMA3), Map.entry("llama-bpe", LLAMA3),
            Map.entry("falcon3", LLAMA3), Map.entry("falcon-h1", LLAMA3), Map.entry("pixtral", LLAMA3),
            Map.entry("midm-2.0", LLAMA3), Map.entry("lfm2", LLAMA3));

    private final boolean digitsFirst;
    private final boolean llama3;
    /** Whether a word that is a token is taken whole (llama.cpp's {@code ignore_merges}). */
    final boolean ignoreMerges;

    PreTokenizer(boolean digitsFirst, boolean llama3, boolean ignoreMerges) {
        this.digitsFirst = digitsFirst;
        this.llama3 = llama3;
        this.ignoreMerges = ignoreMerges;
    }

    /** The kind llama.cpp uses for {@code tokenizer.ggml.pre} = {@code name}, or null when Nibble has none. */
    static PreTokenizer forName(String name) {
        return name == null ? null : NAMES.get(name);
    }

    /** The supported names, sorted, for error messages. */
    static List<String> names() {
        return NAMES.keySet().stream().sorted().toList();
    }

    /** Whether llama.cpp adds a BOS token by default for this kind (overridden by {@code add_bos_token}). */
    boolean addsBosByDefault() {
        return llama3;
    }

    /** The words of {@code text}, in order; their concatenation is {@code text}. */
    List<String> split(String text) {
        int[] cps = text.codePoints().toArray();
        List<String> words = new ArrayList<>();
        Splitter s = new Splitter(cps, words);
        if (digitsFirst) {
            int start = 0;
            for (int i = 0; i < cps.length; i++) {
                if (Codepoints.isNumber(cps[i])) {
                    s.piece(start, i, llama3);
                    s.piece(i, i + 1, llama3);
                    start = i + 1;
                }
            }
            s.piece(start, cps.length, llama3);
        } else {
            s.piece(0, cps.length, llama3);
        }
        return words;
    }

    /** The matcher over one piece {@code [ini, end)} of the code points; positions outside it read as nothing. */
    private static final class Splitter {
        private static final int NONE = -1;
        private final int[] cps;
        private final List<String> words;
        private int ini;
        private int end;
        private int prevEnd;

        Splitter(int[] cps, List<String> words) {
            this.cps = cps;
            this.words = words;
        }

        private int at(int pos) {
            return pos >= ini && pos < end ? cps[pos] : NONE;
        }

        private boolean letter(int pos) {
            int c = at(pos);
            return c != NONE && Codepoints.isLetter(c);
        }

        private boolean number(int pos) {
            int c = at(pos);
            return c != NONE && Codepoints.isNumber(c);
        }

        private boolean space(int pos) {
            int c = at(pos);
            return c != NONE && Codepoints.isWhitespace(c);
        }

        /** In the piece and none of whitespace, letter, number: {@code [^\s\p{L}\p{N}]}. */
        private boolean other(int pos) {
            return at(pos) != NONE && !space(pos) && !letter(pos) && !number(pos);
        }

        /** Ends the current word at {@code pos} (nothing when empty) and returns {@code pos}. */
        private int emit(int pos) {
            if (pos > prevEnd) {
                words.add(new String(cps, prevEnd, pos - prevEnd));
            }
            prevEnd = pos;
            return pos;
        }

        void piece(int from, int to, boolean llama3) {
            if (from >= to) {
                return;
            }
            ini = from;
            end = to;
            prevEnd = from;
            int pos = from;
            while (pos < end) {
                pos = llama3 ? nextLlama3(pos) : nextGpt2(pos);
            }
        }

        private int contraction(int pos, boolean anyCase) {
            if (at(pos) != '\'' || pos + 1 >= end) {
                return NONE;
            }
            int n = fold(at(pos + 1), anyCase);
            if (n == 's' || n == 't' || n == 'm' || n == 'd') {
                return pos + 2;
            }
            if (pos + 2 < end) {
                int nn = fold(at(pos + 2), anyCase);
                if ((n == 'r' && nn == 'e') || (n == 'v' && nn == 'e') || (n == 'l' && nn == 'l')) {
                    return pos + 3;
                }
            }
            return NONE;
        }

        private static int fold(int c, boolean anyCase) {
            return anyCase ? Character.toLowerCase(c) : c;
        }

        private int whitespaceRun(int pos) {
            int n = 0;
            while (space(pos + n)) {
                n++;
            }
            return n;
        }

        private int nextGpt2(int pos) {
            int c = contraction(pos, false);
            if (c != NONE) {
                return emit(c);
            }
            int cp = at(pos);
            int q = cp == ' ' ? pos + 1 : pos; // " ?X": the class is tested after an optional space
            if (letter(q)) {
                pos = q;
                while (letter(pos)) {
                    pos++;
                }
                return emit(pos);
            }
            if (number(q)) {
                pos = q;
                while (number(pos)) {
                    pos++;
                }
                return emit(pos);
            }
            if (other(q)) {
                pos = q;
                while (other(pos)) {
                    pos++;
                }
                return emit(pos);
            }
            return whitespace(pos, whitespaceRun(pos));
        }

        /** {@code \s+(?!\S)|\s+}: a run of spaces before a non-space leaves its last space to the next word. */
        private int whitespace(int pos, int n) {
            if (n > 1 && at(pos + n) != NONE) {
                return emit(pos + n - 1);
            }
            if (n > 0) {
                return emit(pos + n);
            }
            return emit(pos + 1);
        }

        private int nextLlama3(int pos) {
            int c = contraction(pos, true);
            if (c != NONE) {
                return emit(c);
            }
            int cp = at(pos);
            if (!(cp == '\r' || cp == '\n' || number(pos)) && (letter(pos) || letter(pos + 1))) {
                pos++;
                while (letter(pos)) {
                    pos++;
                }
                return emit(pos);
            }
            if (number(pos)) {
                int start = pos;
                while (number(pos)) {
                    if (++pos - start >= 3) {
                        emit(pos);
                        start = pos;
                    }
                }
                return emit(pos);
            }
            int q = cp == ' ' ? pos + 1 : pos;
            if (!(space(q) || letter(q) || number(q))) {
                pos = q;
                while (other(pos)) {
                    pos++;
                }
                while (at(pos) == '\r' || at(pos) == '\n') {
                    pos++;
                }
                return emit(pos);
            }
            int n = 0;
            int lastNewline = NONE;
            while (space(pos + n)) {
                int w = at(pos + n);
                if (w == '\r' || w == '\n') {
                    lastNewline = pos + n + 1;
                }
                n++;
            }
            if (lastNewline != NONE) {
                return emit(lastNewline);
            }
            return whitespace(pos, n);
        }
    }
}
