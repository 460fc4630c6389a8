package nibble.common.format;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import nibble.common.DType;
import nibble.common.InvalidInputException;
import nibble.common.TensorInfo;
import nibble.common.io.ByteSource;

/**
 * Reads the header of a GGUF file (versions 2 and 3, little-endian; ggml's {@code docs/gguf.md}):
 * magic {@code GGUF}, version, tensor count, metadata count, the metadata key/value pairs (every value
 * type, arrays included), the tensor infos (name, dims fastest-first, ggml type, offset), then the
 * data section at the next multiple of {@code general.alignment} (default 32).
 *
 * <p>Every count, length, offset and type is checked against the file's length and the limits below
 * before anything is allocated, so a hostile header fails with one line. Tensors become
 * {@link SourceTensor}s of dtype F32 (the table holds dequantized rows) with their {@link GgmlType}: a
 * ggml tensor of {@code ne = [cols, rows]} is a table tensor of shape {@code [rows, cols]}. For the
 * {@code llama} architecture the tensors get Hugging Face names ({@code blk.0.attn_q.weight} is
 * {@code model.layers.0.self_attn.q_proj.weight}; the GGUF name is kept as the source name) and the
 * {@code llama.*} metadata becomes the architecture in {@code config.json} keys, with
 * {@code nibble_rope_layout} "interleaved": llama.cpp's converter permutes the q/k rows of Hugging
 * Face checkpoints to Meta's adjacent-pair rotary layout, which is what llama.cpp computes with.
 */
public final class GgufReader {

    /** "GGUF" as a little-endian uint32. */
    public static final int MAGIC = 0x46554747;
    public static final int DEFAULT_ALIGNMENT = 32;
    /** Most tensors accepted. */
    public static final long MAX_TENSORS = 1L << 20;
    /** Most metadata key/value pairs accepted. */
    public static final long MAX_KVS = 1L << 20;
    /** Most bytes the whole metadata section may take (it is kept in memory and in the manifest). */
    public static final long MAX_METADATA_BYTES = 32L << 20;
    /** Most bytes the {@code tokenizer.*} metadata may take in the file. */
    public static final long MAX_TOKENIZER_BYTES = 16L << 20;
    /** Longest key or tensor name accepted. */
    public static final long MAX_NAME_BYTES = 1L << 16;
    /** ggml's {@code GGML_MAX_DIMS}. */
    public static final int MAX_DIMS = 4;

    private static final String TOKENIZER_PREFIX = "tokenizer.";

    private GgufReader() {
    }

    /** One tensor info as the file states it. */
    public record GgufTensor(String name, long[] ne, GgmlType type, long offset) {
    }

    /** Everything the header says: version, metadata in file order, tensor infos, where data starts. */
    public record GgufHeader(int version, Map<String, Object> metadata, Map<String, String> types,
                             List<GgufTensor> tensors, int alignment, long dataStart, long tokenizerBytes) {
    }

    /**
     * Reads the header and lays the tensors out as table tensors.
     *
     * @param fileName the name recorded in each {@link SourceTensor#file()} and used in error messages
     * @throws InvalidInputException when the header is malformed, uses an unsupported version or
     *     tensor type, or disagrees with the file's length
     */
    public static CheckpointHeader read(ByteSource src, String fileName) throws IOException {
        GgufHeader h = readHeader(src, fileName);
        String arch = h.metadata().get("general.architecture") instanceof String s ? s : null;
        boolean llama = "llama".equals(arch);
        List<SourceTensor> out = new ArrayList<>(h.tensors().size());
        Set<String> names = new HashSet<>();
        for (GgufTensor t : h.tensors()) {
            String name = llama ? GgufNames.hf(t.name()) : t.name();
            if (!names.add(name)) {
                throw new InvalidInputException(fileName + ": tensor '" + t.name() + "' maps to Hugging Face name '"
                        + name + "', which another tensor already has");
            }
            long[] shape = new long[t.ne().length];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = t.ne()[shape.length - 1 - i];
            }
            TensorInfo info;
            try {
                info = new TensorInfo(name, DType.F32, shape);
            } catch (InvalidInputException e) {
                throw new InvalidInputException(fileName + ": " + e.getMessage(), e);
            }
            out.add(new SourceTensor(info, fileName, h.dataStart() + t.offset(), t.name(), t.type()));
        }
        Map<String, Object> meta = new LinkedHashMap<>();
        Map<String, Object> tokenizer = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : h.metadata().entrySet()) {
            (e.getKey().startsWith(TOKENIZER_PREFIX) ? tokenizer : meta).put(e.getKey(), e.getValue());
        }
        Map<String, Object> sourceMeta = new LinkedHashMap<>();
        sourceMeta.put("gguf_version", h.version());
        sourceMeta.put("gguf_metadata", meta);
        sourceMeta.put("gguf_types", h.types());
        if (!tokenizer.isEmpty()) {
            sourceMeta.put("tokenizer", tokenizer);
        }
        Map<String, Object> architecture = llama ? llamaArchitecture(h, fileName, names)
                : otherArchitecture(arch);
        return new CheckpointHeader("gguf", List.of(fileName), List.copyOf(out), architecture, sourceMeta);
    }

    /** Parses and validates the header without renaming anything. */
    public static GgufHeader readHeader(ByteSource src, String fileName) throws IOException {
        Cursor c = new Cursor(src, fileName);
        if (c.length < 4) {
            throw c.bad("file is " + c.length + " bytes, too short for the GGUF magic");
        }
        int magic = c.i32("magic");
        if (magic != MAGIC) {
            throw c.bad("not a GGUF file (magic " + String.format("0x%08x", magic) + ", expected 'GGUF')");
        }
        long version = c.u32("version");
        if (version != 2 && version != 3) {
            String hint = Integer.reverseBytes((int) version) == 2 || Integer.reverseBytes((int) version) == 3
                    ? " (a big-endian GGUF file; only little-endian files are read)" : " (supported: 2, 3)";
            throw c.bad("unsupported GGUF version " + version + hint);
        }
        long tensorCount = c.u64("tensor count");
        long kvCount = c.u64("metadata count");
        // Each tensor info takes at least 8 (name length) + 4 (n_dims) + 8 (one dim) + 4 (type) + 8 (offset) bytes;
        // each key/value at least 8 (key length) + 4 (type) + 1 (a uint8 value).
        checkCount(c, "tensor count", tensorCount, MAX_TENSORS, 32);
        checkCount(c, "metadata count", kvCount, MAX_KVS, 13);

        long metaStart = c.pos;
        Map<String, Object> metadata = new LinkedHashMap<>();
        Map<String, String> types = new LinkedHashMap<>();
        long tokenizerBytes = 0;
        for (long i = 0; i < kvCount; i++) {
            long at = c.pos;
            String key = c.string("metadata key " + i, MAX_NAME_BYTES);
            if (metadata.containsKey(key)) {
                throw c.bad("metadata key '" + key + "' appears twice");
            }
            long type = c.u32("type of metadata '" + key + "'");
            Object value = c.value(type, "metadata '" + key + "'", metaStart, true);
            metadata.put(key, value);
            types.put(key, GgufValueType.label(GgufValueType.byId(type), c.lastElement));
            if (key.startsWith(TOKENIZER_PREFIX)) {
                tokenizerBytes += c.pos - at;
                if (tokenizerBytes > MAX_TOKENIZER_BYTES) {
                    throw c.bad("tokenizer metadata exceeds the " + MAX_TOKENIZER_BYTES + "-byte limit (at '"
                            + key + "')");
                }
            }
        }
        int alignment = alignment(c, metadata.get("general.alignment"));

        List<GgufTensor> tensors = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (long i = 0; i < tensorCount; i++) {
            String name = c.string("name of tensor " + i, MAX_NAME_BYTES);
            String where = "tensor '" + name + "'";
            if (!names.add(name)) {
                throw c.bad(where + " appears twice");
            }
            long nDims = c.u32(where + " n_dims");
            if (nDims < 1 || nDims > MAX_DIMS) {
                throw c.bad(where + ": n_dims " + nDims + " out of range (must be 1.." + MAX_DIMS + ")");
            }
            long[] ne = new long[(int) nDims];
            for (int d = 0; d < nDims; d++) {
                ne[d] = c.u64(where + " ne[" + d + "]");
                if (ne[d] < 0) {
                    throw c.bad(where + ": ne[" + d + "] = " + Long.toUnsignedString(ne[d]) + " is out of range");
                }
            }
            long typeId = c.u32(where + " type");
            GgmlType type = GgmlType.byId(typeId);
            if (type == null) {
                throw c.bad(where + ": tensor type " + GgmlType.describe(typeId) + " is not supported (supported: "
                        + GgmlType.supported() + ")");
            }
            if (ne[0] % type.blockSize() != 0) {
                throw c.bad(where + ": row length ne[0] = " + ne[0] + " is not a multiple of the " + type
                        + " block size " + type.blockSize());
            }
            long offset = c.u64(where + " offset");
            if (offset < 0 || offset % alignment != 0) {
                throw c.bad(where + ": data offset " + Long.toUnsignedString(offset)
                        + " is not a multiple of the alignment " + alignment);
            }
            tensors.add(new GgufTensor(name, ne, type, offset));
        }
        long dataStart = c.pos + (alignment - c.pos % alignment) % alignment;
        if (tensors.isEmpty()) {
            // a vocabulary-only file (llama.cpp's ggml-vocab-*.gguf) may end unpadded after its metadata
            dataStart = Math.min(dataStart, c.length);
        }
        if (dataStart > c.length) {
            throw c.bad("data section would start at " + dataStart + ", past the end of the file (" + c.length
                    + " bytes)");
        }
        checkData(c, tensors, c.length - dataStart);
        return new GgufHeader((int) version, metadata, types, List.copyOf(tensors), alignment, dataStart, tokenizerBytes);
    }

    private static void checkCount(Cursor c, String what, long n, long max, long minBytesEach) {
        if (n < 0 || n > max) {
            throw c.bad(what + " " + Long.toUnsignedString(n) + " exceeds the limit of " + max);
        }
        if (n > (c.length - c.pos) / minBytesEach) {
            throw c.bad(what + " " + n + " cannot fit in the " + (c.length - c.pos) + " bytes left in the file");
        }
    }

    private static int alignment(Cursor c, Object v) {
        if (v == null) {
            return DEFAULT_ALIGNMENT;
        }
        if (!(v instanceof Long a) || a < 1 || a > (1 << 30) || Long.bitCount(a) != 1) {
            throw c.bad("general.alignment must be a uint32 power of two, found " + v);
        }
        return (int) (long) a;
    }

    private static void checkData(Cursor c, List<GgufTensor> tensors, long dataLength) {
        record Range(GgufTensor t, long begin, long end) {
        }
        List<Range> ranges = new ArrayList<>();
        for (GgufTensor t : tensors) {
            String where = "tensor '" + t.name() + "'";
            long bytes;
            try {
                long n = 1;
                for (long d : t.ne()) {
                    n = Math.multiplyExact(n, d);
                }
                Math.multiplyExact(n, 4L);
                bytes = t.type().bytesOf(n);
                // a row must be addressable too, also when another dimension is 0 (no elements at all)
                Math.multiplyExact(t.ne()[0], 4L);
                t.type().bytesOf(t.ne()[0]);
            } catch (ArithmeticException e) {
                throw c.bad(where + ": shape " + Arrays.toString(t.ne()) + " overflows");
            }
            if (t.offset() > dataLength || bytes > dataLength - t.offset()) {
                throw c.bad(where + ": data [" + t.offset() + ", " + (t.offset() + bytes) + ") of the data section runs"
                        + " past its end (" + dataLength + " bytes); the file is truncated");
            }
            ranges.add(new Range(t, t.offset(), t.offset() + bytes));
        }
        ranges.sort(Comparator.comparingLong(Range::begin));
        Range reach = null;
        for (Range r : ranges) {
            if (r.begin() == r.end()) {
                continue;
            }
            if (reach != null && r.begin() < reach.end()) {
                throw c.bad("tensors '" + reach.t().name() + "' and '" + r.t().name() + "' overlap in the data section");
            }
            if (reach == null || r.end() > reach.end()) {
                reach = r;
            }
        }
    }

    private static Map<String, Object> otherArchitecture(String arch) {
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("model_type", arch == null ? "unknown" : arch);
        a.put("nibble_source_format", "gguf");
        return a;
    }

    private static Map<String, Object> llamaArchitecture(GgufHeader h, String fileName, Set<String> names) {
        Map<String, Object> m = h.metadata();
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("model_type", "llama");
        a.put("hidden_size", intKey(m, "llama.embedding_length", fileName, null));
        a.put("intermediate_size", intKey(m, "llama.feed_forward_length", fileName, null));
        a.put("num_hidden_layers", intKey(m, "llama.block_count", fileName, null));
        Object heads = intKey(m, "llama.attention.head_count", fileName, null);
        a.put("num_attention_heads", heads);
        a.put("num_key_value_heads", intKey(m, "llama.attention.head_count_kv", fileName, heads));
        Object vocab = m.get("llama.vocab_size");
        if (vocab == null && m.get("tokenizer.ggml.tokens") instanceof List<?> tokens) {
            vocab = (long) tokens.size();
        }
        a.put("vocab_size", vocab == null ? null : intKey(Map.of("llama.vocab_size", vocab), "llama.vocab_size",
                fileName, null));
        a.put("max_position_embeddings", intKey(m, "llama.context_length", fileName, null));
        a.put("rms_norm_eps", number(m, "llama.attention.layer_norm_rms_epsilon", fileName, 1e-5));
        a.put("rope_theta", number(m, "llama.rope.freq_base", fileName, 10000.0));
        a.put("tie_word_embeddings", !names.contains("lm_head.weight"));
        Object keyLength = m.get("llama.attention.key_length");
        if (keyLength != null) {
            a.put("head_dim", intKey(m, "llama.attention.key_length", fileName, null));
        }
        Object scaling = m.get("llama.rope.scaling.type");
        if (scaling != null && !"none".equals(scaling)) {
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("rope_type", scaling);
            s.put("factor", m.get("llama.rope.scaling.factor"));
            a.put("rope_scaling", s);
        }
        a.put("nibble_source_format", "gguf");
        a.put("nibble_rope_layout", "interleaved");
        a.values().removeIf(v -> v == null);
        return a;
    }

    private static Object intKey(Map<String, Object> m, String key, String fileName, Object dflt) {
        Object v = m.get(key);
        if (v == null) {
            return dflt;
        }
        if (v instanceof Integer || v instanceof Long) {
            long x = ((Number) v).longValue();
            if (x >= 0 && x <= Integer.MAX_VALUE) {
                return (int) x;
            }
        }
        throw new InvalidInputException(fileName + ": metadata '" + key + "' must be a non-negative integer below 2^31,"
                + " found " + v);
    }

    private static Object number(Map<String, Object> m, String key, String fileName, double dflt) {
        Object v = m.get(key);
        if (v == null) {
            return dflt;
        }
        if (v instanceof Float f) {
            return Double.parseDouble(Float.toString(f));
        }
        if (v instanceof Double || v instanceof Integer || v instanceof Long) {
            return ((Number) v).doubleValue();
        }
        throw new InvalidInputException(fileName + ": metadata '" + key + "' must be a number, found " + v);
    }

    /** Sequential little-endian reads through a window, every read checked against the file's length. */
    private static final class Cursor {
        private static final int WINDOW = 1 << 16;
        private final ByteSource src;
        private final String fileName;
        private final long length;
        private long pos;
        private final byte[] buf = new byte[WINDOW];
        private final java.nio.charset.CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        private long bufStart;
        private int bufLen;
        /** The element type of the last array read. */
        private GgufValueType lastElement;

        Cursor(ByteSource src, String fileName) throws IOException {
            this.src = src;
            this.fileName = fileName;
            this.length = src.length();
        }

        InvalidInputException bad(String problem) {
            return new InvalidInputException(fileName + ": " + problem);
        }

        private void need(long n, String what) {
            if (n > length - pos) {
                throw bad(what + " at offset " + pos + " runs past the end of the file (" + length
                        + " bytes); the file is truncated or not GGUF");
            }
        }

        /** Makes {@code n <= WINDOW} bytes at {@code pos} available in {@code buf}; returns their index. */
        private int fill(int n, String what) throws IOException {
            need(n, what);
            if (pos < bufStart || pos + n > bufStart + bufLen) {
                bufStart = pos;
                bufLen = (int) Math.min(WINDOW, length - pos);
                src.readFully(pos, buf, 0, bufLen);
            }
            int at = (int) (pos - bufStart);
            pos += n;
            return at;
        }

        long le(int n, String what) throws IOException {
            int at = fill(n, what);
            long v = 0;
            for (int i = n - 1; i >= 0; i--) {
                v = (v << 8) | (buf[at + i] & 0xff);
            }
            return v;
        }

        int i32(String what) throws IOException {
            return (int) le(4, what);
        }

        long u32(String what) throws IOException {
            return le(4, what) & 0xffffffffL;
        }

        long u64(String what) throws IOException {
            return le(8, what);
        }

        byte[] bytes(long n, String what) throws IOException {
            need(n, what);
            byte[] out = new byte[(int) n];
            if (n <= WINDOW) {
                System.arraycopy(buf, fill((int) n, what), out, 0, (int) n);
            } else {
                src.readFully(pos, out, 0, (int) n);
                pos += n;
            }
            return out;
        }

        String string(String what, long max) throws IOException {
            long n = u64(what + " length");
            if (n < 0 || n > max) {
                throw bad(what + ": string length " + Long.toUnsignedString(n) + " exceeds the limit of " + max);
            }
            need(n, what + " (" + n + " bytes)");
            byte[] b = bytes(n, what);
            try {
                return utf8.decode(java.nio.ByteBuffer.wrap(b)).toString();
            } catch (CharacterCodingException e) {
                throw bad(what + " at offset " + (pos - n) + " is not valid UTF-8");
            }
        }

        private void checkMetadataSize(long metaStart, String what) {
            if (pos - metaStart > MAX_METADATA_BYTES) {
                throw bad("metadata exceeds the " + MAX_METADATA_BYTES + "-byte limit (at " + what + ")");
            }
        }

        /** Reads one metadata value of GGUF value type {@code type}. */
        Object value(long type, String what, long metaStart, boolean arraysAllowed) throws IOException {
            Object v = switch ((int) Math.min(type, 99)) {
                case 0 -> (int) le(1, what);
                case 1 -> (int) (byte) le(1, what);
                case 2 -> (int) le(2, what);
                case 3 -> (int) (short) le(2, what);
                case 4 -> u32(what);
                case 5 -> i32(what);
                case 6 -> finite(Float.intBitsToFloat(i32(what)));
                case 7 -> {
                    long b = le(1, what);
                    if (b > 1) {
                        throw bad(what + ": bool value " + b + " is not 0 or 1");
                    }
                    yield b == 1;
                }
                case 8 -> string(what, MAX_METADATA_BYTES);
                case 9 -> {
                    if (!arraysAllowed) {
                        throw bad(what + ": nested arrays are not supported");
                    }
                    yield array(what, metaStart);
                }
                case 10 -> {
                    long x = u64(what);
                    yield x >= 0 ? (Object) x : new BigInteger(Long.toUnsignedString(x));
                }
                case 11 -> u64(what);
                case 12 -> finite(Double.longBitsToDouble(u64(what)));
                default -> throw bad(what + ": unknown value type " + type);
            };
            checkMetadataSize(metaStart, what);
            return v;
        }

        private List<Object> array(String what, long metaStart) throws IOException {
            long elemType = u32(what + " array type");
            lastElement = GgufValueType.byId(elemType);
            long n = u64(what + " array length");
            long minBytes = switch ((int) Math.min(elemType, 99)) {
                case 0, 1, 7 -> 1;
                case 2, 3 -> 2;
                case 4, 5, 6 -> 4;
                case 8, 10, 11, 12 -> 8;
                case 9 -> throw bad(what + ": nested arrays are not supported");
                default -> throw bad(what + ": unknown array element type " + elemType);
            };
            if (n < 0 || n > (length - pos) / minBytes) {
                throw bad(what + ": array length " + Long.toUnsignedString(n) + " cannot fit in the "
                        + (length - pos) + " bytes left in the file");
            }
            if (n * minBytes > MAX_METADATA_BYTES) {
                throw bad(what + ": array of " + n + " values exceeds the " + MAX_METADATA_BYTES
                        + "-byte metadata limit");
            }
            List<Object> out = new ArrayList<>((int) Math.min(n, 1 << 16));
            for (long i = 0; i < n; i++) {
                out.add(value(elemType, what, metaStart, false));
            }
            return out;
        }

        private static Object finite(float f) {
            return Float.isFinite(f) ? (Object) f : Float.toString(f);
        }

        private static Object finite(double d) {
            return Double.isFinite(d) ? (Object) d : Double.toString(d);
        }
    }
}
