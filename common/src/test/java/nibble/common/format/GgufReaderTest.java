package nibble.common.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import nibble.common.DType;
import nibble.common.InvalidInputException;
import nibble.common.TensorInfo;
import org.junit.jupiter.api.Test;

class GgufReaderTest {
    private static final String FILE = "model.gguf";

    private static CheckpointHeader read(byte[] file) throws Exception {
        return GgufReader.read(new BytesSource(FILE, file), FILE);
    }

    private static byte[] f32(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) {
            b.putFloat(x);
        }
        return b.array();
    }

    /** A Q8_0 row of 32 values: scale 1 (f16 0x3C00), codes 0..31 (plus {@code add}). */
    private static byte[] q8Row(int add) {
        byte[] b = new byte[34];
        b[1] = 0x3c;
        for (int j = 0; j < 32; j++) {
            b[2 + j] = (byte) (j + add);
        }
        return b;
    }

    /** A tiny llama: dim 32, hidden 32, one layer, 4 heads, 2 kv heads, vocab 2. */
    private static GgufBuilder tinyLlama() {
        GgufBuilder g = new GgufBuilder().llama(32, 32, 1, 4, 2, 2);
        byte[] embd = new byte[68];
        System.arraycopy(q8Row(0), 0, embd, 0, 34);
        System.arraycopy(q8Row(1), 0, embd, 34, 34);
        g.tensor("token_embd.weight", GgmlType.Q8_0, new long[] {32, 2}, embd);
        g.tensor("output_norm.weight", GgmlType.F32, new long[] {32}, new byte[128]);
        g.tensor("blk.0.attn_q.weight", GgmlType.Q4_0, new long[] {32, 32}, new byte[32 * 18]);
        g.tensor("rope_freqs.weight", GgmlType.F16, new long[] {4}, new byte[8]);
        return g;
    }

    @Test
    void readsTensorsNamesShapesAndArchitecture() throws Exception {
        CheckpointHeader h = read(tinyLlama().build());
        assertEquals("gguf", h.format());
        assertEquals(List.of(FILE), h.files());
        assertEquals(4, h.tensors().size());
        SourceTensor embd = h.tensors().get(0);
        assertEquals(new TensorInfo("model.embed_tokens.weight", DType.F32, new long[] {2, 32}), embd.info());
        assertEquals("token_embd.weight", embd.sourceName());
        assertEquals(GgmlType.Q8_0, embd.sourceType());
        assertEquals(34, embd.sourceRowBytes());
        assertEquals(68, embd.sourceByteLength());
        assertEquals("model.norm.weight", h.tensors().get(1).info().name());
        assertArrayEquals(new long[] {32}, h.tensors().get(1).info().shape());
        assertEquals("model.layers.0.self_attn.q_proj.weight", h.tensors().get(2).info().name());
        assertEquals("rope_freqs.weight", h.tensors().get(3).info().name(), "unknown names stay as they are");
        assertEquals(embd.offset() + 96, h.tensors().get(1).offset(), "68 bytes, padded to the alignment 32");

        Map<String, Object> a = h.architecture();
        assertEquals("llama", a.get("model_type"));
        assertEquals(32, a.get("hidden_size"));
        assertEquals(4, a.get("num_attention_heads"));
        assertEquals(2, a.get("num_key_value_heads"));
        assertEquals(2, a.get("vocab_size"));
        assertEquals(64, a.get("max_position_embeddings"));
        assertEquals(1e-6, a.get("rms_norm_eps"));
        assertEquals(500000.0, a.get("rope_theta"));
        assertEquals(true, a.get("tie_word_embeddings"));
        assertEquals("interleaved", a.get("nibble_rope_layout"));
        assertEquals(3, h.sourceMetadata().get("gguf_version"));
    }

    @Test
    void decodesRowsFromTheirBlocks() throws Exception {
        byte[] file = tinyLlama().build();
        CheckpointHeader h = read(file);
        SourceTensor embd = h.tensors().get(0);
        byte[] raw = Arrays.copyOfRange(file, (int) embd.offset() + 34, (int) embd.offset() + 68);
        float[] want = new float[32];
        for (int j = 0; j < 32; j++) {
            want[j] = j + 1;
        }
        assertArrayEquals(f32(want), embd.decodeRow(raw));
        float[] all = new float[64];
        embd.decodeRows(Arrays.copyOfRange(file, (int) embd.offset(), (int) embd.offset() + 68), 2, all, 0);
        assertEquals(0f, all[0]);
        assertEquals(32f, all[63]);
    }

    @Test
    void untiedWhenOutputWeightExists() throws Exception {
        GgufBuilder g = tinyLlama();
        g.tensor("output.weight", GgmlType.F32, new long[] {32, 2}, new byte[256]);
        CheckpointHeader h = read(g.build());
        assertEquals(false, h.architecture().get("tie_word_embeddings"));
        assertEquals("lm_head.weight", h.tensors().get(4).info().name());
    }

    @Test
    void readsEveryValueTypeAndKeepsTheTokenizerApart() throws Exception {
        GgufBuilder g = new GgufBuilder().llama(32, 32, 1, 4, 2, 2);
        g.kv("u8", 0, o -> o.u8(200)).kv("i8", 1, o -> o.u8(0xff)).kv("u16", 2, o -> o.le(60000, 2))
                .kv("i16", 3, o -> o.le(-2, 2)).kv("u32", 4, o -> o.u32(4_000_000_000L)).kv("i32", 5, o -> o.u32(-5))
                .kv("bool", 7, o -> o.u8(1)).kv("u64", 10, o -> o.u64(-1L)).kv("i64", 11, o -> o.u64(-7))
                .kv("f64", 12, o -> o.u64(Double.doubleToLongBits(0.1)))
                .kv("nan", 6, o -> o.u32(Float.floatToRawIntBits(Float.NaN)))
                .kv("tokenizer.ggml.tokens", 9, o -> o.u32(8).u64(3).str("a").str("Ġb").str(""))
                .kv("tokenizer.ggml.token_type", 9, o -> o.u32(5).u64(2).u32(1).u32(3))
                .string("tokenizer.ggml.model", "gpt2");
        CheckpointHeader h = read(g.build());
        @SuppressWarnings("unchecked")
        Map<String, Object> meta = (Map<String, Object>) h.sourceMetadata().get("gguf_metadata");
        assertEquals(200, meta.get("u8"));
        assertEquals(-1, meta.get("i8"));
        assertEquals(60000, meta.get("u16"));
        assertEquals(-2, meta.get("i16"));
        assertEquals(4_000_000_000L, meta.get("u32"));
        assertEquals(-5, meta.get("i32"));
        assertEquals(true, meta.get("bool"));
        assertEquals(new BigInteger("18446744073709551615"), meta.get("u64"));
        assertEquals(-7L, meta.get("i64"));
        assertEquals(0.1, meta.get("f64"));
        assertEquals("NaN", meta.get("nan"));
        assertEquals(1e-6f, meta.get("llama.attention.layer_norm_rms_epsilon"));
        assertFalse(meta.containsKey("tokenizer.ggml.tokens"));
        @SuppressWarnings("unchecked")
        Map<String, Object> tok = (Map<String, Object>) h.sourceMetadata().get("tokenizer");
        assertEquals(List.of("a", "Ġb", ""), tok.get("tokenizer.ggml.tokens"));
        assertEquals(List.of(1, 3), tok.get("tokenizer.ggml.token_type"));
        assertEquals("gpt2", tok.get("tokenizer.ggml.model"));
    }

    @Test
    void readsAVocabularyOnlyFileThatEndsUnpadded() throws Exception {
        // llama.cpp's models/ggml-vocab-*.gguf: metadata, no tensors, no padding after the last value
        GgufBuilder g = new GgufBuilder().llama(32, 32, 1, 4, 2, 3).string("tokenizer.ggml.model", "llama")
                .kv("tokenizer.ggml.tokens", 9, o -> o.u32(8).u64(3).str("<unk>").str("\u2581a").str("b"));
        byte[] padded = g.build();
        int end = padded.length;
        while (padded[end - 1] == 0) {
            end--;
        }
        byte[] unpadded = Arrays.copyOf(padded, end);
        assertTrue(unpadded.length % 32 != 0, "the test needs an unaligned end");
        for (byte[] file : List.of(padded, unpadded)) {
            CheckpointHeader h = read(file);
            assertEquals(List.of(), h.tensors());
            @SuppressWarnings("unchecked")
            Map<String, Object> tok = (Map<String, Object>) h.sourceMetadata().get("tokenizer");
            assertEquals(List.of("<unk>", "\u2581a", "b"), tok.get("tokenizer.ggml.tokens"));
        }
        rejected(Arrays.copyOf(unpadded, unpadded.length - 1), "past the end");
    }

    @Test
    void honoursAlignmentAndVersion2() throws Exception {
        GgufBuilder g = new GgufBuilder();
        g.version = 2;
        g.alignment = 64;
        g.u32("general.alignment", 64).string("general.architecture", "mamba");
        g.tensor("a", GgmlType.F32, new long[] {3}, f32(1, 2, 3));
        g.tensor("b", GgmlType.BF16, new long[] {2, 2, 2}, new byte[16]);
        CheckpointHeader h = read(g.build());
        assertEquals(64, h.tensors().get(1).offset() - h.tensors().get(0).offset());
        assertEquals(0, h.tensors().get(0).offset() % 64);
        assertEquals("b", h.tensors().get(1).info().name(), "other architectures keep GGUF names");
        assertArrayEquals(new long[] {2, 2, 2}, h.tensors().get(1).info().shape());
        assertEquals("mamba", h.architecture().get("model_type"));
        assertNull(h.architecture().get("hidden_size"));
    }

    @Test
    void checkpointReaderFindsAGgufFile(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Files.write(dir.resolve(FILE), tinyLlama().build());
        assertEquals("gguf", CheckpointReader.read(dir).format());
        assertEquals("gguf", CheckpointReader.read(dir.resolve(FILE)).format());
    }

    // ---- bad input: one line, naming the file and the problem, before anything large is allocated ----

    private static void rejected(byte[] file, String... fragments) {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> read(file));
        String m = e.getMessage();
        assertTrue(m.startsWith(FILE + ": "), m);
        assertFalse(m.contains("\n"), m);
        for (String f : fragments) {
            assertTrue(m.contains(f), "'" + f + "' in: " + m);
        }
    }

    private static byte[] with(Consumer<GgufBuilder> change) {
        GgufBuilder g = tinyLlama();
        change.accept(g);
        return g.build();
    }

    @Test
    void wrongMagicOrVersion() {
        rejected(with(g -> g.magic = 0x12345678), "not a GGUF file");
        rejected(with(g -> g.version = 1), "unsupported GGUF version 1");
        rejected(with(g -> g.version = 4), "unsupported GGUF version 4");
        rejected(with(g -> g.version = Integer.reverseBytes(3)), "big-endian");
        rejected(new byte[] {'G', 'G'}, "too short");
    }

    @Test
    void truncatedAnywhere() {
        byte[] whole = tinyLlama().build();
        int[] cuts = {6, 12, 20, 30, 100, 300, whole.length - 100, whole.length - 30};
        for (int cut : cuts) {
            byte[] part = Arrays.copyOf(whole, cut);
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> read(part), "cut at " + cut);
            assertFalse(e.getMessage().contains("\n"));
            assertTrue(e.getMessage().contains("past the end") || e.getMessage().contains("truncated")
                    || e.getMessage().contains("cannot fit"), cut + ": " + e.getMessage());
        }
    }

    @Test
    void absurdCountsAndLengths() {
        rejected(with(g -> g.tensorCount = 1L << 60), "tensor count 1152921504606846976 exceeds the limit");
        rejected(with(g -> g.tensorCount = 100_000L), "tensor count 100000 cannot fit");
        rejected(with(g -> g.kvCount = -1L), "metadata count 18446744073709551615");
        rejected(with(g -> g.rawKv(o -> o.u64(1L << 40))), "string length 1099511627776 exceeds");
        rejected(with(g -> g.rawKv(o -> o.u64(60000).raw(new byte[] {'a'}))), "runs past the end of the file");
        rejected(with(g -> g.kv("s", 8, o -> o.u64(Long.MIN_VALUE))), "string length 9223372036854775808");
        rejected(with(g -> g.kv("arr", 9, o -> o.u32(8).u64(1L << 62))), "array length 4611686018427387904");
        rejected(with(g -> g.kv("arr", 9, o -> o.u32(0).u64(-1L))), "array length 18446744073709551615");
        rejected(with(g -> g.kv("arr", 9, o -> o.u32(9).u64(1))), "nested arrays");
        rejected(with(g -> g.kv("x", 13, o -> o.u8(0))), "unknown value type 13");
        rejected(with(g -> g.kv("b", 7, o -> o.u8(2))), "bool value 2");
        rejected(with(g -> g.string("general.architecture", "again")), "'general.architecture' appears twice");
    }

    @Test
    void badTensorInfos() {
        rejected(with(g -> g.tensor("k", 16, new long[] {256}, new byte[66], null)),
                "tensor 'k'", "IQ2_XXS (16) is not supported");
        rejected(with(g -> g.tensor("k", 99, new long[] {1}, new byte[4], null)), "unknown (99)");
        rejected(with(g -> g.tensor("k", 0, new long[] {1, 1, 1, 1, 1}, new byte[4], null)), "n_dims 5");
        rejected(with(g -> g.tensor("k", 8, new long[] {48}, new byte[68], null)), "not a multiple of the Q8_0 block");
        rejected(with(g -> g.tensor("k", 0, new long[] {1L << 40, 1L << 40}, new byte[4], null)), "overflows");
        rejected(with(g -> g.tensor("k", 0, new long[] {-1L}, new byte[4], null)), "ne[0]");
        rejected(with(g -> g.tensor("k", 0, new long[] {4}, new byte[16], 7L)), "not a multiple of the alignment");
        rejected(with(g -> g.tensor("k", 0, new long[] {1 << 20}, new byte[16], null)), "tensor 'k'", "truncated");
        rejected(with(g -> g.tensor("k", 0, new long[] {4}, new byte[16], 1L << 62)), "tensor 'k'", "past its end");
        rejected(with(g -> g.tensor("k", 0, new long[] {8}, new byte[32], 0L)), "overlap");
        rejected(with(g -> g.tensor("output_norm.weight", 0, new long[] {4}, new byte[16], null)), "appears twice");
        rejected(with(g -> g.tensor("model.norm.weight", 0, new long[] {4}, new byte[16], null)), "Hugging Face name");
        rejected(with(g -> g.u32("general.alignment", 48)), "general.alignment");
        rejected(with(g -> g.string("llama.block_count", "many")), "llama.block_count");
    }
}
