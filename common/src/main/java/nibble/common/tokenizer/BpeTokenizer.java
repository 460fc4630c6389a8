package nibble.common.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * GPT-2-style byte-level BPE, with llama.cpp's rules ({@code llm_tokenizer_bpe_session}):
 * <ol>
 * <li>user-defined tokens (token type 4) are cut out of the text first, longest first;
 * <li>each remaining piece is split into words by the {@link PreTokenizer};
 * <li>each word's UTF-8 bytes are spelled in the {@link ByteLevel} alphabet, one symbol per byte;
 * <li>adjacent symbol pairs are merged, always the pair of lowest merge rank, the leftmost on a tie,
 *     until no adjacent pair has a rank;
 * <li>a final symbol that is not a token falls back to its single-character tokens (only ASCII ones
 *     can exist, as in llama.cpp); others are dropped.
 * </ol>
 * When several tokens share a text, the last id wins; when a merge repeats, the first rank does (as in
 * llama.cpp's maps).
 */
final class BpeTokenizer implements Tokenizer {
    static final int TYPE_NORMAL = 1;

    private final String[] texts;
    private final int[] types;
    private final Map<String, Integer> ids;
    private final Map<Pair, Integer> ranks;
    private final UserDefinedTokens userDefined;
    private final PreTokenizer pre;
    private final int bos;
    private final int eos;
    private final boolean addBos;
    private final boolean addEos;

    private record Pair(String left, String right) {
    }

    BpeTokenizer(TokenizerMetadata m, PreTokenizer pre) {
        this.pre = pre;
        int n = m.tokens().size();
        texts = new String[n];
        types = new int[n];
        ids = new HashMap<>(n * 2);
        for (int i = 0; i < n; i++) {
            String t = m.tokens().get(i);
            texts[i] = t.isEmpty() ? "[EMPTY_" + i + "]" : t; // llama.cpp's name for an empty token
            types[i] = m.types() == null ? TYPE_NORMAL : m.types()[i];
            ids.put(texts[i], i);
        }
        userDefined = new UserDefinedTokens(texts, types);
        ranks = new HashMap<>(m.merges().size() * 2);
        for (int r = 0; r < m.merges().size(); r++) {
            String merge = m.merges().get(r);
            int space = merge.indexOf(' ', 1);
            Pair p = space < 0 ? new Pair("", "") : new Pair(merge.substring(0, space), merge.substring(space + 1));
            ranks.putIfAbsent(p, r);
        }
        bos = m.bos();
        eos = m.eos();
        addBos = m.addBos();
        addEos = m.addEos();
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
        userDefined.split(text, new UserDefinedTokens.Sink() {
            @Override
            public void text(String piece) {
                encodeText(piece, out);
            }

            @Override
            public void token(int id) {
                out.add(id);
            }
        });
        if (addSpecial && addEos) {
            out.add(eos);
        }
        return out.toArray();
    }

    /** Encodes one stretch of text between user-defined tokens: words, then merges. */
    private void encodeText(String text, IntList out) {
        for (String word : pre.split(text)) {
            String symbols = ByteLevel.encode(word);
            Integer whole = pre.ignoreMerges ? ids.get(symbols) : null;
            if (whole != null) {
                out.add(whole);
            } else {
                merge(symbols, out);
            }
        }
    }

    /** A candidate merge of the symbols starting at {@code left} and {@code right}. */
    private record Bigram(int left, int right, String text, int rank) {
    }

    private static final Comparator<Bigram> ORDER = Comparator.comparingInt(Bigram::rank).thenComparingInt(Bigram::left);

    /** Byte-pair merging of one word's symbols (one char each), appending the resulting ids. */
    private void merge(String word, IntList out) {
        int n = word.length();
        int[] len = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            len[i] = 1;
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>(ORDER);
        for (int i = 1; i < n; i++) {
            offer(queue, word, len, i - 1, i);
        }
        while (!queue.isEmpty()) {
            Bigram b = queue.poll();
            if (len[b.left] == 0 || len[b.right] == 0
                    || !word.startsWith(b.text, b.left) || len[b.left] + len[b.right] != b.text.length()
                    || next[b.left] != b.right) {
                continue; // outdated: one side has changed since this pair was queued
            }
            len[b.left] += len[b.right];
            len[b.right] = 0;
            next[b.left] = next[b.right];
            if (next[b.right] >= 0) {
                prev[next[b.right]] = b.left;
            }
            offer(queue, word, len, prev[b.left], b.left);
            offer(queue, word, len, b.left, next[b.left]);
        }
        for (int i = 0; i >= 0 && i < n; i = next[i]) {
            String symbol = word.substring(i, i + len[i]);
            Integer id = ids.get(symbol);
            if (id != null) {
                out.add(id);
                continue;
            }
            for (int c = 0; c < symbol.length(); c++) {
                Integer single = symbol.charAt(c) < 0x80 ? ids.get(String.valueOf(symbol.charAt(c))) : null;
                if (single != null) {
                    out.add(single);
                }
            }
        }
    }

    private void offer(PriorityQueue<Bigram> queue, String word, int[] len, int left, int right) {
        if (left < 0 || right < 0) {
            return;
        }
        String l = word.substring(left, left + len[left]);
        String r = word.substring(right, right + len[right]);
        Integer rank = ranks.get(new Pair(l, r));
        if (rank != null) {
            queue.add(new Bigram(left, right, l + r, rank));
        }
    }

    @Override
    public String decode(int[] tokens) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int id : tokens) {
            if (id < 0 || id >= texts.length) {
                throw new IllegalArgumentException("token " + id + " is outside the vocabulary of " + texts.length);
            }
            String t = texts[id];
            if (types[id] == UserDefinedTokens.TYPE) {
                bytes.writeBytes(t.getBytes(StandardCharsets.UTF_8));
            } else if (types[id] == TYPE_NORMAL) {
                for (int c = 0; c < t.length(); c++) {
                    int b = ByteLevel.toByte(t.charAt(c));
                    if (b >= 0) {
                        bytes.write(b);
                    } else {
                        bytes.writeBytes(String.valueOf(t.charAt(c)).getBytes(StandardCharsets.UTF_8));
                    }
                }
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
