package nibble.common.format;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import nibble.common.DType;
import nibble.common.InvalidInputException;
import nibble.common.TensorInfo;
import nibble.common.io.ByteSource;

/**
 * Reads a llama2.c {@code .bin} checkpoint (Karpathy's legacy format): a 7-int32 header followed by
 * float32 weights in a fixed order. There is no self-description beyond the header, so the header is
 * checked for sane, consistent values and the length it implies must equal the file's length exactly.
 * Tensors are renamed to Hugging Face Llama names so later stages see one naming scheme; each layer's
 * slice of a stacked llama2.c array becomes its own tensor. The RoPE tables the file carries are
 * skipped: they are derived data, not weights.
 */
public final class Llama2cReader {

    /** Bytes of the header: dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len. */
    public static final int HEADER_BYTES = 28;

    private Llama2cReader() {
    }

    /** The header's fields; {@code vocabSize} is signed (negative: an unshared classifier follows). */
    public record Config(int dim, int hiddenDim, int nLayers, int nHeads, int nKvHeads, int vocabSize, int seqLen) {
        public int vocab() {
            return Math.abs(vocabSize);
        }

        public boolean sharedClassifier() {
            return vocabSize > 0;
        }

        public int headSize() {
            return dim / nHeads;
        }

        public int kvDim() {
            return nKvHeads * headSize();
        }

        @Override
        public String toString() {
            return "dim=" + dim + ", hidden_dim=" + hiddenDim + ", n_layers=" + nLayers + ", n_heads=" + nHeads
                    + ", n_kv_heads=" + nKvHeads + ", vocab_size=" + vocabSize + ", seq_len=" + seqLen;
        }
    }

    /**
     * Reads and validates the header and lays out the tensors.
     *
     * @param fileName the name recorded in each {@link SourceTensor#file()} and used in error messages
     * @throws InvalidInputException when the header is impossible or disagrees with the file's length
     */
    public static CheckpointHeader read(ByteSource src, String fileName) throws IOException {
        long length = src.length();
        if (length < HEADER_BYTES) {
            throw new InvalidInputException(fileName + ": file is " + length + " bytes, too short for the "
                    + HEADER_BYTES + "-byte llama2.c header");
        }
        ByteBuffer h = ByteBuffer.wrap(src.read(0, HEADER_BYTES)).order(ByteOrder.LITTLE_ENDIAN);
        Config c = new Config(h.getInt(), h.getInt(), h.getInt(), h.getInt(), h.getInt(), h.getInt(), h.getInt());
        validate(c, fileName);

        List<SourceTensor> tensors = new ArrayList<>();
        long expected;
        try {
            expected = layout(c, fileName, tensors);
        } catch (ArithmeticException e) {
            throw new InvalidInputException(fileName + ": header (" + c + ") implies more than 2^63 bytes, file has "
                    + length);
        }
        if (expected != length) {
            throw new InvalidInputException(fileName + ": header (" + c + ") implies " + expected + " bytes, file has "
                    + length);
        }
        return new CheckpointHeader("llama2c", List.of(fileName), List.copyOf(tensors), architecture(c));
    }

    private static void validate(Config c, String fileName) {
        checkRange(fileName, "dim", c.dim(), 1 << 16);
        checkRange(fileName, "hidden_dim", c.hiddenDim(), 1 << 20);
        checkRange(fileName, "n_layers", c.nLayers(), 1 << 10);
        checkRange(fileName, "n_heads", c.nHeads(), 1 << 16);
        checkRange(fileName, "n_kv_heads", c.nKvHeads(), 1 << 16);
        if (c.vocabSize() == 0 || c.vocabSize() == Integer.MIN_VALUE || c.vocab() > 1 << 22) {
            throw new InvalidInputException(fileName + ": header field vocab_size=" + c.vocabSize()
                    + " out of range (|vocab_size| must be 1.." + (1 << 22) + ")");
        }
        checkRange(fileName, "seq_len", c.seqLen(), 1 << 22);
        if (c.dim() % c.nHeads() != 0) {
            throw new InvalidInputException(fileName + ": header field n_heads=" + c.nHeads()
                    + " does not divide dim=" + c.dim());
        }
        if (c.nKvHeads() > c.nHeads() || c.nHeads() % c.nKvHeads() != 0) {
            throw new InvalidInputException(fileName + ": header field n_kv_heads=" + c.nKvHeads()
                    + " must divide n_heads=" + c.nHeads());
        }
        if (c.headSize() % 2 != 0) {
            throw new InvalidInputException(fileName + ": header fields dim=" + c.dim() + ", n_heads=" + c.nHeads()
                    + " give odd head size " + c.headSize() + " (RoPE needs it even)");
        }
    }

    private static void checkRange(String fileName, String field, int value, int max) {
        if (value < 1 || value > max) {
            throw new InvalidInputException(fileName + ": header field " + field + "=" + value
                    + " out of range (must be 1.." + max + ")");
        }
    }

    /** Appends the tensors in file order and returns the file length the header implies. */
    private static long layout(Config c, String fileName, List<SourceTensor> out) {
        long dim = c.dim();
        long hidden = c.hiddenDim();
        long vocab = c.vocab();
        long qDim = (long) c.nHeads() * c.headSize();
        long kvDim = c.kvDim();
        Cursor cur = new Cursor(fileName, out);
        cur.add("token_embedding_table", "model.embed_tokens.weight", vocab, dim);
        cur.perLayer(c, "rms_att_weight", "input_layernorm.weight", dim);
        cur.perLayer(c, "wq", "self_attn.q_proj.weight", qDim, dim);
        cur.perLayer(c, "wk", "self_attn.k_proj.weight", kvDim, dim);
        cur.perLayer(c, "wv", "self_attn.v_proj.weight", kvDim, dim);
        cur.perLayer(c, "wo", "self_attn.o_proj.weight", dim, qDim);
        cur.perLayer(c, "rms_ffn_weight", "post_attention_layernorm.weight", dim);
        cur.perLayer(c, "w1", "mlp.gate_proj.weight", hidden, dim);
        cur.perLayer(c, "w2", "mlp.down_proj.weight", dim, hidden);
        cur.perLayer(c, "w3", "mlp.up_proj.weight", hidden, dim);
        cur.add("rms_final_weight", "model.norm.weight", dim);
        long ropeFloats = Math.multiplyExact((long) c.seqLen(), c.headSize() / 2L);
        cur.skip(Math.multiplyExact(2L, ropeFloats));
        if (!c.sharedClassifier()) {
            cur.add("wcls", "lm_head.weight", vocab, dim);
        }
        return cur.offset;
    }

    private static final class Cursor {
        private final String fileName;
        private final List<SourceTensor> out;
        private long offset = HEADER_BYTES;

        Cursor(String fileName, List<SourceTensor> out) {
            this.fileName = fileName;
            this.out = out;
        }

        void add(String sourceName, String name, long... shape) {
            TensorInfo info = new TensorInfo(name, DType.F32, shape);
            out.add(new SourceTensor(info, fileName, offset, sourceName));
            offset = Math.addExact(offset, info.byteLength());
        }

        void perLayer(Config c, String sourceField, String suffix, long... shape) {
            for (int i = 0; i < c.nLayers(); i++) {
                add(sourceField + "[" + i + "]", "model.layers." + i + "." + suffix, shape);
            }
        }

        void skip(long floats) {
            offset = Math.addExact(offset, Math.multiplyExact(floats, 4L));
        }
    }

    private static Map<String, Object> architecture(Config c) {
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("model_type", "llama");
        a.put("hidden_size", c.dim());
        a.put("intermediate_size", c.hiddenDim());
        a.put("num_hidden_layers", c.nLayers());
        a.put("num_attention_heads", c.nHeads());
        a.put("num_key_value_heads", c.nKvHeads());
        a.put("vocab_size", c.vocab());
        a.put("max_position_embeddings", c.seqLen());
        a.put("tie_word_embeddings", c.sharedClassifier());
        a.put("rms_norm_eps", 1e-5);
        a.put("rope_theta", 10000.0);
        a.put("nibble_source_format", "llama2c");
        // llama2.c rotates adjacent pairs (2i, 2i+1); Hugging Face rotates the two halves of each head.
        a.put("nibble_rope_layout", "interleaved");
        return a;
    }
}
