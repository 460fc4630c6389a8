package nibble.jobs.action;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import nibble.common.InvalidInputException;
import nibble.common.model.LlamaConfig;
import nibble.common.table.Manifest;
import nibble.common.tokenizer.Tokenizer;
import nibble.jobs.cli.UsageException;
import nibble.jobs.io.TextInput;
import nibble.jobs.io.Uris;

/**
 * Text cut into evaluation chunks by llama.cpp's {@code llama-perplexity} protocol: the text is
 * tokenized once (with BOS when the vocabulary adds one), at least {@code 2·ctx} tokens are required,
 * the tokens are cut into {@code ⌊n/ctx⌋} chunks of {@code ctx} (the rest is dropped; {@code --chunks}
 * keeps the first ones), the first token of each chunk becomes BOS when the vocabulary adds BOS, and
 * each chunk is scored on its second half: the logits at positions {@code ctx/2 .. ctx-2} predict the
 * tokens after them, {@code ctx - ctx/2 - 1} per chunk.
 *
 * @param chunks the chunks, each {@code ctx} tokens
 * @param ctx tokens per chunk
 * @param scoredFrom the first position whose prediction is scored ({@code ctx/2})
 * @param textTokens tokens the whole text gave
 * @param bos whether each chunk starts with BOS
 */
public record TextChunks(List<int[]> chunks, int ctx, int scoredFrom, int textTokens, boolean bos) {

    /**
     * The chunks of the text at {@code input}, tokenized with the tokenizer of {@code table} (whose
     * manifest is {@code m}): bad input when the table has no architecture or tokenizer, or the text is
     * missing, empty, unreadable or too short; a usage error when {@code ctx} exceeds the model's positions.
     */
    public static TextChunks read(String table, Manifest m, String input, int ctx, int maxChunks, Configuration conf)
            throws IOException {
        if (m.architecture() == null) {
            throw new InvalidInputException(Uris.redact(table) + ": no architecture in the manifest, so there is no model to score text with");
        }
        LlamaConfig config = LlamaConfig.fromArchitecture(m.architecture());
        if (ctx > config.maxPositions()) {
            throw new UsageException("--ctx " + ctx + " exceeds the model's " + config.maxPositions() + " positions");
        }
        Object meta = m.source() == null ? null : m.source().get("tokenizer");
        if (meta != null && !(meta instanceof Map)) {
            throw new InvalidInputException(Uris.redact(table) + ": source.tokenizer in the manifest is not an object");
        }
        @SuppressWarnings("unchecked")
        Tokenizer tokenizer = Tokenizer.fromMetadata(Uris.redact(table), (Map<String, Object>) meta);
        return of(input, TextInput.read(input, conf), tokenizer, ctx, maxChunks, config.vocabSize());
    }

    /** The chunks of {@code text} ({@code input} names it in errors); {@code maxChunks} 0 keeps all. */
    public static TextChunks of(String input, String text, Tokenizer tokenizer, int ctx, int maxChunks, int vocabSize) {
        int[] tokens = tokenizer.encode(text, true);
        if (tokens.length < 2L * ctx) {
            throw new InvalidInputException(Uris.redact(input) + ": the text gives " + tokens.length + " tokens; --ctx " + ctx
                    + " needs at least " + 2L * ctx);
        }
        for (int t : tokens) {
            if (t >= vocabSize) {
                throw new InvalidInputException(Uris.redact(input) + ": the tokenizer gives token " + t
                        + ", outside the model's vocabulary of " + vocabSize);
            }
        }
        int n = tokens.length / ctx;
        if (maxChunks > 0) {
            n = Math.min(n, maxChunks);
        }
        List<int[]> chunks = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int[] c = Arrays.copyOfRange(tokens, i * ctx, (i + 1) * ctx);
            if (tokenizer.addsBos()) {
                c[0] = tokenizer.bos();
            }
            chunks.add(c);
        }
        return new TextChunks(List.copyOf(chunks), ctx, ctx / 2, tokens.length, tokenizer.addsBos());
    }

    /** Positions scored per chunk. */
    public int scoredPerChunk() {
        return ctx - scoredFrom - 1;
    }
}
