package nibble.common.tokenizer;

import java.util.Map;

/**
 * A model's tokenizer: text to token ids and back, giving the ids llama.cpp gives for the same
 * vocabulary. Build one from a table's {@code source.tokenizer} (the GGUF {@code tokenizer.*} keys) with
 * {@link #fromMetadata}: byte-level BPE for {@code tokenizer.ggml.model} {@code gpt2}, SentencePiece-style
 * for {@code llama}. Instances are immutable and safe to share between threads.
 */
public interface Tokenizer {

    /**
     * The ids of {@code text}. Special tokens written in the text are not parsed (llama.cpp's
     * {@code parse_special = false}); user-defined tokens are, as llama.cpp does.
     *
     * @param addSpecial add BOS (and EOS) when the vocabulary says to ({@code add_bos_token}), as
     *        llama.cpp's {@code add_special} does
     */
    int[] encode(String text, boolean addSpecial);

    /** The text of {@code ids}; control tokens give nothing, as llama.cpp's detokenizer without {@code special}. */
    String decode(int[] ids);

    /** Number of tokens in the vocabulary. */
    int size();

    /** Whether {@link #encode} with {@code addSpecial} starts with {@link #bos()}. */
    boolean addsBos();

    /** The BOS token id. */
    int bos();

    /**
     * The tokenizer a table's manifest describes.
     *
     * @param where the table, for error messages
     * @param metadata the manifest's {@code source.tokenizer}: GGUF {@code tokenizer.*} keys to JSON values
     * @throws nibble.common.InvalidInputException naming {@code where} and the problem when the model or
     *         pre-tokenizer is not supported or a value is missing, malformed or out of bounds
     */
    static Tokenizer fromMetadata(String where, Map<String, Object> metadata) {
        return TokenizerMetadata.parse(where, metadata).build();
    }
}
