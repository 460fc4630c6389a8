package nibble.common.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The user-defined tokens (token type 4) of a vocabulary, cut out of a text before the model's
 * tokenizer sees it, longest first (then lowest id), as llama.cpp's {@code tokenizer_st_partition} does
 * without {@code parse_special}: control and unknown tokens written in the text are left as text.
 */
final class UserDefinedTokens {
    /** llama.cpp's {@code LLAMA_TOKEN_TYPE_USER_DEFINED}. */
    static final int TYPE = 4;

    /** Where the pieces of a split text go, in text order. */
    interface Sink {
        /** A non-empty stretch of text between user-defined tokens. */
        void text(String piece);

        /** A user-defined token found in the text. */
        void token(int id);
    }

    private final String[] texts;
    /** User-defined token ids, longest text first (then lowest id). */
    private final int[] ids;

    UserDefinedTokens(String[] texts, int[] types) {
        this.texts = texts;
        List<Integer> user = new ArrayList<>();
        for (int i = 0; i < types.length; i++) {
            if (types[i] == TYPE) {
                user.add(i);
            }
        }
        user.sort(Comparator.<Integer>comparingInt(i -> -texts[i].length()).thenComparingInt(i -> i));
        ids = user.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Splits {@code text} into text pieces and user-defined tokens, in order. */
    void split(String text, Sink sink) {
        split(text, 0, sink);
    }

    /** Cuts the user-defined tokens from {@code first} on out of {@code text}, longest first. */
    private void split(String text, int first, Sink sink) {
        for (int k = first; k < ids.length; k++) {
            String special = texts[ids[k]];
            int at = text.indexOf(special);
            if (at >= 0) {
                int from = 0;
                while (at >= 0) {
                    split(text.substring(from, at), k + 1, sink);
                    sink.token(ids[k]);
                    from = at + special.length();
                    at = text.indexOf(special, from);
                }
                split(text.substring(from), k + 1, sink);
                return;
            }
        }
        if (!text.isEmpty()) {
            sink.text(text);
        }
    }
}
