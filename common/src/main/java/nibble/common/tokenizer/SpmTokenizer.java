package nibble.common.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;
import nibble.common.InvalidInputException;

/**
 * SentencePiece-style tokenization of Llama GGUF vocabularies ({@code tokenizer.ggml.model} =
 * {@code llama}), with llama.cpp's rules ({@code llm_tokenizer_spm_session} and the SPM branch of
 * {@code llama_vocab::impl::tokenize}):
 * <ol>
 * <li>user-defined tokens (type 4) are cut out of the text first, longest first ({@link UserDefinedTokens});
 * <li>each remaining stretch is one piece, no pre-tokenizer: a space is put before it when
 *     {@code add_space_prefix} holds and it starts the text or follows a user-defined token, and every
 *     space becomes U+2581 ({@value #SPACE});
 * <li>the piece starts as one symbol per character (code point); adjacent symbols whose joined text is a
 *     token are merged, always the pair whose token has the highest score, the leftmost on a tie, until no
 *     adjacent pair forms a token;
 * <li>a final symbol that is not a token falls back to its UTF-8 bytes' tokens {@code <0xXX>} (or, as in
 *     llama.cpp, the token whose text is that single byte).
 * </ol>
 * BOS and EOS are added when {@code add_bos_token} / {@code add_eos_token} say so (llama defaults: BOS
 * yes, EOS no). When several tokens share a text, the last id wins, as in llama.cpp's map.
 */
final class SpmTokenizer implements Tokenizer {
    /** SentencePiece's meta symbol for a space, U+2581. */
    static final String SPACE = "\u2581";
    static final int TYPE_NORMAL = 1;
    static final int TYPE_BYTE = 6;

    private final String where;
    private final String[] texts;
    private final int[] types;
    private final float[] scores;
    private final Map<String, Integer> ids;
    /** The token of each byte, or -1 when the vocabulary has none. */
    private final int[] byteTokens = new int[256];
    private final UserDefinedTokens userDefined;
    private final boolean addSpacePrefix;
    private final int bos;
    private final int eos;
    private final boolean addBos;
    private final boolean addEos;

    SpmTokenizer(TokenizerMetadata m) {
        where = m.where();
        int n = m.tokens().size();
        texts = new String[n];
        types = new int[n];
        scores = m.scores();
        ids = new HashMap<>(n * 2);
        for (int i = 0; i < n; i++) {
            String t = m.tokens().get(i);
            texts[i] = t.isEmpty() ? "[EMPTY_" + i + "]" : t; // llama.cpp's name for an empty token
            types[i] = m.types() == null ? TYPE_NORMAL : m.types()[i];
            ids.put(texts[i], i);
            if (types[i] == TYPE_BYTE && byteOf(texts[i]) < 0) {
                throw new InvalidInputException(where + ": tokenizer.ggml.tokens[" + i + "] '" + texts[i]
                        + "' has token type 6 (byte) but is not of the form <0xXX>");
            }
        }
        for (int b = 0; b < 256; b++) {
            Integer id = ids.get(String.format("<0x%02X>", b));
            if (id == null && b < 0x80) {
                id = ids.get(String.valueOf((char) b));
            }
            byteTokens[b] = id == null ? -1 : id;
        }
        userDefined = new UserDefinedTokens(texts, types);
        addSpacePrefix = m.addSpacePrefix();
        bos = m.bos();
        eos = m.eos();
        addBos = m.addBos();
        addEos = m.addEos();
    }

    /** The byte a {@code <0xXX>} token stands for, or -1 when {@code text} is not of that form. */
    static int byteOf(String text) {
        if (text.length() != 6 || !text.startsWith("<0x") || text.charAt(5) != '>') {
            return -1;
        }
        int hi = Character.digit(text.charAt(3), 16);
        int lo = Character.digit(text.charAt(4), 16);
        return hi < 0 || lo < 0 ? -1 : hi << 4 | lo;
    }

    @Override
    public int size() {
        return texts.length;
    }

    @Override
    public boolean addsBos() {
        return addBos;
    }

    @Override
    public int bos() {
        return bos;
    }

    @Override
    public int[] encode(String text, boolean addSpecial) {
        IntList out = new IntList(text.length() / 3 + 4);
        if (addSpecial && addBos) {
            out.add(bos);
        }
        // unpaired surrogates become '?' as in the UTF-8 bytes llama.cpp would be given
        String valid = new String(text.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
        userDefined.split(valid, new UserDefinedTokens.Sink() {
            private boolean afterSpecial = true; // the text's start counts as one, as in llama.cpp

            @Override
            public void text(String piece) {
                String spaced = addSpacePrefix && afterSpecial ? " " + piece : piece;
                merge(spaced.replace(" ", SPACE), out);
                afterSpecial = false;
            }

            @Override
            public void token(int id) {
                out.add(id);
                afterSpecial = true;
            }
        });
        if (addSpecial && addEos) {
            out.add(eos);
        }
        return out.toArray();
    }

    /** A candidate merge of the symbols starting at {@code left} and {@code right} into a token of {@code score}. */
    private record Bigram(int left, int right, int length, float score) {
    }

    /** Highest score first, then the leftmost; compared as llama.cpp does (with {@code <}, so 0.0 ties -0.0). */
    private static final Comparator<Bigram> ORDER = (a, b) -> a.score > b.score ? -1 : a.score < b.score ? 1
            : Integer.compare(a.left, b.left);

    /** Merges one piece's symbols (one code point each) by score, appending the resulting ids. */
    private void merge(String piece, IntList out) {
        int n = piece.length();
        int[] len = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        int last = -1;
        for (int i = 0; i < n; i += len[i]) {
            len[i] = Character.charCount(piece.codePointAt(i));
            prev[i] = last;
            if (last >= 0) {
                next[last] = i;
            }
            last = i;
        }
        next[last] = -1;
        PriorityQueue<Bigram> queue = new PriorityQueue<>(ORDER);
        for (int i = next[0]; i >= 0; i = next[i]) {
            offer(queue, piece, len, prev[i], i);
        }
        while (!queue.isEmpty()) {
            Bigram b = queue.poll();
            if (len[b.left] == 0 || len[b.right] == 0 || len[b.left] + len[b.right] != b.length) {
                continue; // outdated: one side has changed since this pair was queued (lengths only grow)
            }
            len[b.left] += len[b.right];
            len[b.right] = 0;
            next[b.left] = next[b.right];
            if (next[b.right] >= 0) {
                prev[next[b.right]] = b.left;
            }
            offer(queue, piece, len, prev[b.left], b.left);
            offer(queue, piece, len, b.left, next[b.left]);
        }
        for (int i = 0; i >= 0; i = next[i]) {
            String symbol = piece.substring(i, i + len[i]);
            Integer id = ids.get(symbol);
            if (id != null) {
                out.add(id);
                continue;
            }
            for (byte b : symbol.getBytes(StandardCharsets.UTF_8)) {
                int token = byteTokens[b & 0xff];
                if (token < 0) {
                    throw new InvalidInputException(where + ": the vocabulary has no token for byte "
                            + String.format("<0x%02X>", b & 0xff) + ", which the text needs (byte fallback)");
                }
                out.add(token);
            }
        }
    }

    private void offer(PriorityQueue<Bigram> queue, String piece, int[] len, int left, int right) {
        if (left < 0 || right < 0) {
            return;
        }
        Integer id = ids.get(piece.substring(left, right + len[right]));
        if (id != null) {
            queue.add(new Bigram(left, right, len[left] + len[right], scores[id]));
        }
    }

    /**
     * The text of {@code ids} as llama.cpp's detokenizer gives it without {@code remove_special} and
     * {@code unparse_special}: normal tokens with U+2581 as a space, byte tokens as their byte,
     * user-defined tokens as written; control, unknown, unused and undefined tokens give nothing. When
     * {@code add_space_prefix} holds, one leading space of the first token's text is dropped.
     */
    @Override
    public String decode(int[] tokens) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        boolean first = addSpacePrefix;
        for (int id : tokens) {
            if (id < 0 || id >= texts.length) {
                throw new IllegalArgumentException("token " + id + " is outside the vocabulary of " + texts.length);
            }
            byte[] piece = switch (types[id]) {
                case TYPE_NORMAL -> texts[id].replace(SPACE, " ").getBytes(StandardCharsets.UTF_8);
                case UserDefinedTokens.TYPE -> texts[id].getBytes(StandardCharsets.UTF_8);
                case TYPE_BYTE -> new byte[] {(byte) byteOf(texts[id])};
                default -> new byte[0];
            };
            int from = first && piece.length > 0 && piece[0] == ' ' ? 1 : 0;
            bytes.write(piece, from, piece.length - from);
            first = false;
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
