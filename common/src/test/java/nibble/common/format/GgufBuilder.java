package nibble.common.format;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** Writes hand-built GGUF files for tests: any header field can be set to a bad value. */
final class GgufBuilder {
    int magic = GgufReader.MAGIC;
    int version = 3;
    Long tensorCount;
    Long kvCount;
    int alignment = GgufReader.DEFAULT_ALIGNMENT;
    private final List<Consumer<Out>> kvs = new ArrayList<>();
    private final List<Tensor> tensors = new ArrayList<>();

    record Tensor(String name, long typeId, long[] ne, byte[] data, Long offset) {
    }

    /** Little-endian output. */
    static final class Out {
        final ByteArrayOutputStream b = new ByteArrayOutputStream();

        Out le(long v, int n) {
            for (int i = 0; i < n; i++) {
                b.write((int) (v >>> (8 * i)));
            }
            return this;
        }

        Out u8(int v) {
            return le(v, 1);
        }

        Out u32(long v) {
            return le(v, 4);
        }

        Out u64(long v) {
            return le(v, 8);
        }

        Out str(String s) {
            byte[] x = s.getBytes(StandardCharsets.UTF_8);
            u64(x.length);
            b.writeBytes(x);
            return this;
        }

        Out raw(byte[] x) {
            b.writeBytes(x);
            return this;
        }

        int size() {
            return b.size();
        }
    }

    /** A key/value whose value (type id and bytes) {@code value} writes. */
    GgufBuilder kv(String key, long type, Consumer<Out> value) {
        kvs.add(o -> {
            o.str(key).u32(type);
            value.accept(o);
        });
        return this;
    }

    /** A key/value written entirely by {@code raw} (key included). */
    GgufBuilder rawKv(Consumer<Out> raw) {
        kvs.add(raw);
        return this;
    }

    GgufBuilder string(String key, String value) {
        return kv(key, 8, o -> o.str(value));
    }

    GgufBuilder u32(String key, long value) {
        return kv(key, 4, o -> o.u32(value));
    }

    GgufBuilder f32(String key, float value) {
        return kv(key, 6, o -> o.u32(Float.floatToRawIntBits(value)));
    }

    GgufBuilder tensor(String name, GgmlType type, long[] ne, byte[] data) {
        tensors.add(new Tensor(name, type.id(), ne, data, null));
        return this;
    }

    GgufBuilder tensor(String name, long typeId, long[] ne, byte[] data, Long offset) {
        tensors.add(new Tensor(name, typeId, ne, data, offset));
        return this;
    }

    /** A llama header: the architecture keys for a tiny model. */
    GgufBuilder llama(int dim, int hidden, int layers, int heads, int kvHeads, int vocab) {
        string("general.architecture", "llama");
        u32("llama.embedding_length", dim);
        u32("llama.feed_forward_length", hidden);
        u32("llama.block_count", layers);
        u32("llama.attention.head_count", heads);
        u32("llama.attention.head_count_kv", kvHeads);
        u32("llama.context_length", 64);
        u32("llama.vocab_size", vocab);
        f32("llama.attention.layer_norm_rms_epsilon", 1e-6f);
        f32("llama.rope.freq_base", 500000f);
        return this;
    }

    byte[] build() {
        Out o = new Out();
        o.u32(magic).u32(version);
        o.u64(tensorCount != null ? tensorCount : tensors.size());
        o.u64(kvCount != null ? kvCount : kvs.size());
        for (Consumer<Out> kv : kvs) {
            kv.accept(o);
        }
        long next = 0;
        List<Long> offsets = new ArrayList<>();
        for (Tensor t : tensors) {
            long off = t.offset() != null ? t.offset() : next;
            offsets.add(off);
            if (t.offset() == null) {
                next = align(off + t.data().length);
            }
            o.str(t.name()).u32(t.ne().length);
            for (long d : t.ne()) {
                o.u64(d);
            }
            o.u32(t.typeId()).u64(off);
        }
        while (o.size() % alignment != 0) {
            o.u8(0);
        }
        byte[] data = new byte[(int) next];
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            long off = offsets.get(i);
            if (off >= 0 && off + t.data().length <= data.length) {
                System.arraycopy(t.data(), 0, data, (int) off, t.data().length);
            }
        }
        return o.raw(data).b.toByteArray();
    }

    private long align(long x) {
        return (x + alignment - 1) / alignment * alignment;
    }
}
