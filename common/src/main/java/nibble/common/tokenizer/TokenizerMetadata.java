package nibble.common.tokenizer;

import java.util.List;
import java.util.Map;
import nibble.common.InvalidInputException;

/**
 * The GGUF {@code tokenizer.ggml.*} keys of a table's manifest, read and bounded: the manifest is
 * input, so every value's type, count and range is checked before anything is built.
 *
 * @param where the table, for error messages
 * @param model {@code tokenizer.ggml.model}: {@value #GPT2} or {@value #LLAMA}
 * @param pre {@code tokenizer.ggml.pre} ({@value #GPT2} only; llama.cpp ignores it for {@value #LLAMA})
 * @param tokens {@code tokenizer.ggml.tokens}, id order
 * @param types {@code tokenizer.ggml.token_type} (llama.cpp's {@code LLAMA_TOKEN_TYPE_*}), or null
 * @param merges {@code tokenizer.ggml.merges}, rank order ({@value #GPT2} only)
 * @param scores {@code tokenizer.ggml.scores}, one per token, zeros when absent ({@value #LLAMA} only)
 * @param bos the BOS id ({@code bos_token_id}, default as llama.cpp's for the model)
 * @param eos the EOS id
 * @param addBos {@code add_bos_token}, default as llama.cpp's for the model and pre-tokenizer
 * @param addEos {@code add_eos_token}, default false
 * @param addSpacePrefix {@code add_space_prefix}, default true for {@value #LLAMA} ({@value #LLAMA} only)
 */
record TokenizerMetadata(String where, String model, String pre, List<String> tokens, int[] types, List<String> merges,
                         float[] scores, int bos, int eos, boolean addBos, boolean addEos, boolean addSpacePrefix) {
    /** Byte-level BPE, {@link BpeTokenizer}. */
    static final String GPT2 = "gpt2";
    /** SentencePiece-style, {@link SpmTokenizer}. */
    static final String LLAMA = "llama";
    /** Most tokens accepted (the largest vocabularies in use hold about 260,000). */
    static final int MAX_TOKENS = 1 << 22;
    /** Most merges accepted. */
    static final int MAX_MERGES = 1 << 22;
    /** Longest token or merge accepted, in chars. */
    static final int MAX_TOKEN_CHARS = 1 << 16;
    static final String PREFIX = "tokenizer.ggml.";
    /** llama.cpp's BPE defaults when the keys are absent. */
    private static final int GPT2_DEFAULT_BOS = 11;
    /** llama.cpp's SPM defaults when the keys are absent. */
    private static final int LLAMA_DEFAULT_BOS = 1;
    private static final int LLAMA_DEFAULT_EOS = 2;

    static TokenizerMetadata parse(String where, Map<String, Object> m) {
        if (m == null || m.isEmpty()) {
            throw new InvalidInputException(where + ": the table carries no tokenizer (no source.tokenizer in its manifest)");
        }
        String model = string(where, m, "model", true);
        if (!GPT2.equals(model) && !LLAMA.equals(model)) {
            throw new InvalidInputException(where + ": tokenizer model '" + model + "' (tokenizer.ggml.model) is not supported;"
                    + " Nibble tokenizes 'gpt2' (byte-level BPE) and 'llama' (SentencePiece)");
        }
        boolean spm = LLAMA.equals(model);
        String pre = string(where, m, "pre", false);
        PreTokenizer kind = spm ? null : PreTokenizer.forName(pre);
        if (!spm && kind == null) {
            throw new InvalidInputException(where + ": pre-tokenizer " + (pre == null ? "(none)" : "'" + pre + "'")
                    + " (tokenizer.ggml.pre) is not supported; Nibble knows " + String.join(", ", PreTokenizer.names()));
        }
        List<String> tokens = strings(where, m, "tokens", MAX_TOKENS, true);
        if (tokens.isEmpty()) {
            throw new InvalidInputException(where + ": tokenizer.ggml.tokens is empty");
        }
        List<String> merges = spm ? List.of() : strings(where, m, "merges", MAX_MERGES, true);
        int[] types = null;
        Object t = m.get(PREFIX + "token_type");
        if (t != null) {
            List<?> list = perToken(where, "token_type", t, tokens.size());
            types = new int[list.size()];
            for (int i = 0; i < types.length; i++) {
                types[i] = (int) integer(where, "token_type[" + i + "]", list.get(i), 0, 6);
            }
        }
        float[] scores = spm ? scores(where, m, tokens.size()) : null;
        int bos = id(where, m, "bos_token_id", spm ? LLAMA_DEFAULT_BOS : GPT2_DEFAULT_BOS, tokens.size());
        int eos = id(where, m, "eos_token_id", spm ? LLAMA_DEFAULT_EOS : GPT2_DEFAULT_BOS, tokens.size());
        boolean addBos = bool(where, m, "add_bos_token", spm || kind.addsBosByDefault());
        boolean addEos = bool(where, m, "add_eos_token", false);
        boolean addSpacePrefix = spm && bool(where, m, "add_space_prefix", true);
        defaultInRange(where, "bos_token_id", bos, addBos, tokens.size());
        defaultInRange(where, "eos_token_id", eos, addEos, tokens.size());
        return new TokenizerMetadata(where, model, pre, tokens, types, merges, scores, bos, eos, addBos, addEos,
                addSpacePrefix);
    }

    Tokenizer build() {
        return LLAMA.equals(model) ? new SpmTokenizer(this) : new BpeTokenizer(this, PreTokenizer.forName(pre));
    }

    /** An array of one value per token. */
    private static List<?> perToken(String where, String key, Object v, int tokens) {
        List<?> list = list(where, key, v, MAX_TOKENS);
        if (list.size() != tokens) {
            throw new InvalidInputException(where + ": " + PREFIX + key + " holds " + list.size() + " values for "
                    + tokens + " tokens");
        }
        return list;
    }

    /** {@code tokenizer.ggml.scores}: finite numbers, one per token (float32 in GGUF); zeros when absent, as in llama.cpp. */
    private static float[] scores(String where, Map<String, Object> m, int tokens) {
        float[] scores = new float[tokens];
        Object v = m.get(PREFIX + "scores");
        if (v == null) {
            return scores;
        }
        List<?> list = perToken(where, "scores", v, tokens);
        for (int i = 0; i < tokens; i++) {
            if (!(list.get(i) instanceof Number n) || !Float.isFinite(n.floatValue())) {
                throw new InvalidInputException(where + ": " + PREFIX + "scores[" + i + "] is " + list.get(i)
                        + ", not a finite number");
            }
            scores[i] = n.floatValue();
        }
        return scores;
    }

    private static String string(String where, Map<String, Object> m, String key, boolean required) {
        Object v = m.get(PREFIX + key);
        if (v == null) {
            if (required) {
                throw new InvalidInputException(where + ": the tokenizer has no " + PREFIX + key);
            }
            return null;
        }
        if (!(v instanceof String s) || s.length() > MAX_TOKEN_CHARS) {
            throw new InvalidInputException(where + ": " + PREFIX + key + " is not a string of at most " + MAX_TOKEN_CHARS
                    + " chars");
        }
        return s;
    }

    private static List<?> list(String where, String key, Object v, int max) {
        if (!(v instanceof List<?> list)) {
            throw new InvalidInputException(where + ": " + PREFIX + key + " is not an array");
        }
        if (list.size() > max) {
            throw new InvalidInputException(where + ": " + PREFIX + key + " holds " + list.size() + " values, more than the "
                    + max + " accepted");
        }
        return list;
    }

    private static List<String> strings(String where, Map<String, Object> m, String key, int max, boolean required) {
        Object v = m.get(PREFIX + key);
        if (v == null) {
            if (required) {
                throw new InvalidInputException(where + ": the tokenizer has no " + PREFIX + key);
            }
            return List.of();
        }
        List<?> list = list(where, key, v, max);
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof String s) || s.length() > MAX_TOKEN_CHARS) {
                throw new InvalidInputException(where + ": " + PREFIX + key + "[" + i + "] is not a string of at most "
                        + MAX_TOKEN_CHARS + " chars");
            }
        }
        @SuppressWarnings("unchecked")
        List<String> strings = (List<String>) list;
        return strings;
    }

    private static long integer(String where, String key, Object v, long min, long max) {
        if (v instanceof Number n && (n instanceof Integer || n instanceof Long || n instanceof Short || n instanceof Byte
                || n instanceof java.math.BigInteger) && n.longValue() >= min && n.longValue() <= max
                && !(n instanceof java.math.BigInteger b && b.bitLength() > 63)) {
            return n.longValue();
        }
        throw new InvalidInputException(where + ": " + PREFIX + key + " is " + v + ", not an integer in " + min + ".." + max);
    }

    private static int id(String where, Map<String, Object> m, String key, int fallback, int size) {
        Object v = m.get(PREFIX + key);
        return v == null ? fallback : (int) integer(where, key, v, 0, size - 1);
    }

    /** A default special id (the key is absent) that encoding adds must be a token of the vocabulary. */
    private static void defaultInRange(String where, String key, int id, boolean added, int size) {
        if (added && id >= size) {
            throw new InvalidInputException(where + ": " + PREFIX + key + " is absent and its default " + id
                    + " is not among the " + size + " tokens");
        }
    }

    private static boolean bool(String where, Map<String, Object> m, String key, boolean fallback) {
        Object v = m.get(PREFIX + key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        throw new InvalidInputException(where + ": " + PREFIX + key + " is " + v + ", not true or false");
    }
}
