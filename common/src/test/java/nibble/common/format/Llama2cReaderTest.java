package nibble.common.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import nibble.common.DType;
import nibble.common.InvalidInputException;
import nibble.common.io.FileByteSource;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class Llama2cReaderTest {
    private static final String FILE = "model.bin";

    static Path stories260K() {
        Path p = Path.of(System.getProperty("nibble.shared.dir", "../../shared"), "models", "stories260K.bin")
                .toAbsolutePath().normalize();
        if (!Files.exists(p)) {
            System.out.println("skipping: " + p + " not found (set -Dnibble.shared.dir)");
        }
        Assumptions.assumeTrue(Files.exists(p), p + " not found (set -Dnibble.shared.dir)");
        return p;
    }

    @Test
    void readsStories260K() throws Exception {
        Path p = stories260K();
        CheckpointHeader h = CheckpointReader.read(p);
        assertEquals("llama2c", h.format());
        assertEquals(List.of("stories260K.bin"), h.files());
        assertEquals(1 + 5 * 9 + 1, h.tensors().size());
        long total = h.tensors().stream().mapToLong(t -> t.info().elementCount()).sum();
        assertEquals(260_032, total);

        Map<String, Object> arch = new LinkedHashMap<>();
        arch.put("model_type", "llama");
        arch.put("hidden_size", 64);
        arch.put("intermediate_size", 172);
        arch.put("num_hidden_layers", 5);
        arch.put("num_attention_heads", 8);
        arch.put("num_key_value_heads", 4);
        arch.put("vocab_size", 512);
        arch.put("max_position_embeddings", 512);
        arch.put("tie_word_embeddings", true);
        arch.put("rms_norm_eps", 1e-5);
        arch.put("rope_theta", 10000.0);
        arch.put("nibble_source_format", "llama2c");
        arch.put("nibble_rope_layout", "interleaved");
        assertEquals(arch, h.architecture());
        assertEquals(List.copyOf(arch.keySet()), List.copyOf(h.architecture().keySet()));

        SourceTensor embed = h.tensors().get(0);
        assertEquals("model.embed_tokens.weight", embed.info().name());
        assertEquals("token_embedding_table", embed.sourceName());
        assertArrayEquals(new long[] {512, 64}, embed.info().shape());
        assertEquals(DType.F32, embed.info().dtype());
        assertEquals(28, embed.offset());

        SourceTensor rms3 = find(h, "model.layers.3.input_layernorm.weight");
        assertEquals("rms_att_weight[3]", rms3.sourceName());
        assertEquals(28 + 512 * 64 * 4 + 3 * 64 * 4, rms3.offset());
        assertArrayEquals(new long[] {32, 64}, find(h, "model.layers.0.self_attn.k_proj.weight").info().shape());
        assertArrayEquals(new long[] {64, 64}, find(h, "model.layers.4.self_attn.o_proj.weight").info().shape());
        assertArrayEquals(new long[] {172, 64}, find(h, "model.layers.2.mlp.gate_proj.weight").info().shape());
        assertArrayEquals(new long[] {64, 172}, find(h, "model.layers.2.mlp.down_proj.weight").info().shape());
        assertEquals("w2[2]", find(h, "model.layers.2.mlp.down_proj.weight").sourceName());
        assertEquals("w3[1]", find(h, "model.layers.1.mlp.up_proj.weight").sourceName());
        SourceTensor norm = h.tensors().get(h.tensors().size() - 1);
        assertEquals("model.norm.weight", norm.info().name());
        assertEquals("rms_final_weight", norm.sourceName());
        assertTrue(h.tensors().stream().noneMatch(t -> t.info().name().equals("lm_head.weight")));

        // file order: all rms_att_weight, then all wq, ...; offsets strictly increasing and contiguous
        long expect = 28;
        for (SourceTensor t : h.tensors()) {
            assertEquals(expect, t.offset(), t.sourceName());
            expect += t.info().byteLength();
        }
        assertEquals(Files.size(p) - 4096 * 4, expect, "only the RoPE tables follow the final norm");

        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "r")) {
            byte[] four = new byte[4];
            f.seek(28);
            f.readFully(four);
            float first = ByteBuffer.wrap(four).order(ByteOrder.LITTLE_ENDIAN).getFloat();
            try (FileByteSource src = new FileByteSource(p)) {
                float viaHeader = ByteBuffer.wrap(src.read(embed.offset(), 4)).order(ByteOrder.LITTLE_ENDIAN)
                        .getFloat();
                assertEquals(first, viaHeader);
            }
            assertTrue(Float.isFinite(first) && first != 0f);
        }
    }

    private static SourceTensor find(CheckpointHeader h, String name) {
        return h.tensors().stream().filter(t -> t.info().name().equals(name)).findFirst().orElseThrow();
    }

    /** A header followed by exactly the bytes it implies (plus {@code extra}). */
    static byte[] file(int dim, int hidden, int layers, int heads, int kvHeads, int vocab, int seq, long extra) {
        long headSize = dim / heads;
        long kv = kvHeads * headSize;
        long floats = (long) Math.abs(vocab) * dim
                + (long) layers * (2L * dim + dim * (long) dim * 2 + 2 * kv * dim + 3L * hidden * dim)
                + dim + seq * headSize;
        if (vocab < 0) {
            floats += (long) -vocab * dim;
        }
        ByteBuffer b = ByteBuffer.allocate((int) (28 + floats * 4 + extra)).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(dim).putInt(hidden).putInt(layers).putInt(heads).putInt(kvHeads).putInt(vocab).putInt(seq);
        return b.array();
    }

    static byte[] header(int... fields) {
        ByteBuffer b = ByteBuffer.allocate(28 + 64).order(ByteOrder.LITTLE_ENDIAN);
        for (int f : fields) {
            b.putInt(f);
        }
        return b.array();
    }

    static CheckpointHeader read(byte[] bytes) throws Exception {
        return Llama2cReader.read(new BytesSource(FILE, bytes), FILE);
    }

    static void fails(byte[] bytes, String... mustMention) {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> read(bytes));
        String m = e.getMessage();
        assertFalse(m.contains("\n"), m);
        assertTrue(m.startsWith(FILE + ":"), "names the file: " + m);
        for (String s : mustMention) {
            assertTrue(m.contains(s), "message should mention '" + s + "': " + m);
        }
    }

    @Test
    void unsharedClassifierAddsLmHead() throws Exception {
        CheckpointHeader h = read(file(16, 40, 2, 4, 2, -32, 8, 0));
        SourceTensor last = h.tensors().get(h.tensors().size() - 1);
        assertEquals("lm_head.weight", last.info().name());
        assertEquals("wcls", last.sourceName());
        assertArrayEquals(new long[] {32, 16}, last.info().shape());
        assertEquals(32, h.architecture().get("vocab_size"));
        assertEquals(false, h.architecture().get("tie_word_embeddings"));
        assertEquals(1 + 2 * 9 + 1 + 1, h.tensors().size());
    }

    @Test
    void impossibleHeaders() {
        fails(new byte[20], "20 bytes", "header");
        fails(header(0, 40, 2, 4, 2, 32, 8), "dim=0");
        fails(header(16, -5, 2, 4, 2, 32, 8), "hidden_dim=-5");
        fails(header(16, 40, 0, 4, 2, 32, 8), "n_layers=0");
        fails(header(16, 40, 2, 0, 2, 32, 8), "n_heads=0");
        fails(header(16, 40, 2, 4, 0, 32, 8), "n_kv_heads=0");
        fails(header(16, 40, 2, 4, 2, 0, 8), "vocab_size=0");
        fails(header(16, 40, 2, 4, 2, Integer.MIN_VALUE, 8), "vocab_size=" + Integer.MIN_VALUE);
        fails(header(16, 40, 2, 4, 2, 32, -1), "seq_len=-1");
        fails(header(18, 40, 2, 4, 2, 32, 8), "n_heads=4", "dim=18");
        fails(header(16, 40, 2, 4, 8, 32, 8), "n_kv_heads=8", "n_heads=4");
        fails(header(16, 40, 2, 4, 3, 32, 8), "n_kv_heads=3");
        fails(header(15, 40, 2, 5, 5, 32, 8), "head size 3");
        fails(header(Integer.MAX_VALUE, 40, 2, 1, 1, 32, 8), "dim=" + Integer.MAX_VALUE);
        fails(header(16, 40, 2, 4, 2, Integer.MAX_VALUE, 8), "vocab_size=" + Integer.MAX_VALUE);
    }

    @Test
    void hugeButInRangeDimsMustMatchFileLength() {
        fails(header(65536, 1 << 20, 1024, 64, 64, 1 << 22, 1 << 22), "header (dim=65536", "implies",
                "file has 92");
    }

    @Test
    void lengthMustMatchExactly() throws Exception {
        read(file(16, 40, 2, 4, 2, 32, 8, 0));
        fails(file(16, 40, 2, 4, 2, 32, 8, 4), "header (dim=16, hidden_dim=40", "file has");
        byte[] ok = file(16, 40, 2, 4, 2, 32, 8, 0);
        fails(java.util.Arrays.copyOf(ok, ok.length - 1), "implies " + ok.length + " bytes, file has "
                + (ok.length - 1));
    }
}
