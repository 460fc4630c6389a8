package nibble.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;
import nibble.common.DType;
import nibble.common.format.CheckpointReader;
import nibble.common.format.LocalCheckpointFiles;
import nibble.common.format.SourceTensor;

/**
 * Bad input to every command, through the launcher ({@link TestSpark#nibble}): each case gets its
 * documented exit code (2 usage, 3 invalid input), exactly one error line naming the input and the
 * problem and no stack trace, and leaves nothing behind: the output is as it was (absent stays
 * absent; an existing result is untouched), and no temporary folder or claim file is left anywhere.
 * The fixtures are built once from the tiny synthetic checkpoint.
 */
class BadInputMatrixTest {
    private static final String SECRET = "matrixSECRETkey";
    private static final String CREDS = "s3a://AKIAMATRIX:" + SECRET + "@bucket/";

    @TempDir
    static Path work;
    /** A checkpoint, its table (with statistics), its quantized table and sampled sequences. */
    static Path ckpt;
    static Path table;
    static Path quantized;
    static Path sequences;
    /** Tables of checkpoints with a NaN in a kept norm weight, a NaN in a quantized weight, and huge (finite) norm weights. */
    static Path nanTable;
    static Path nanQuantized;
    static Path nanWeightTable;
    static Path hugeTable;
    /** Sources refused by shard: +Inf in a safetensors weight, NaN in a llama2.c file, -Inf in a GGUF file's F32 norm. */
    static Path infCkpt;
    static Path nanLlama2c;
    static Path infGguf;
    static Path hugeQuantized;
    static Path outOfVocab;
    /** Parquet without a tokens column; a registry prefix that a pipeline completed with int4-g32. */
    static Path noTokens;
    static Path done;
    /** A table quantized with int4-g128 (no GGUF type); a copy of {@code quantized} whose manifest names a wrong checksum. */
    static Path quantizedG128;
    static Path wrongChecksum;
    /** A copy of the dense table with one weight changed in its Parquet file (no .crc sidecars to notice). */
    static Path tampered;
    static Path wrongDtype;
    static Path wrongRowLength;
    /** The tiny table with a byte-level tokenizer (256 byte tokens) in its manifest, and short and empty texts. */
    static Path textTable;
    static Path shortText;
    static Path emptyText;
    static Path latin1Text;

    /** Copies of the dense table with bytes of a Parquet page destroyed: without .crc sidecars, and with them (stale). */
    static Path damaged;
    static Path crcMismatch;
    static Path damagedQuantized;

    @BeforeAll
    static void fixtures() throws Exception {
        ckpt = ShardRoundTripTest.tinyCheckpoint(work.resolve("ckpt"), DType.F32, 0);
        table = work.resolve("table");
        quantized = work.resolve("q");
        sequences = work.resolve("seqs");
        ok("shard", "--input", ckpt.toString(), "--output", table.toString());
        ok("calibrate", "--input", table.toString());
        ok("quantize", "--input", table.toString(), "--output", quantized.toString(), "--recipe", "int4-g32");
        ok("sample", "--model", table.toString(), "--output", sequences.toString(), "--sequences", "2", "--sequence-length", "8");

        Path nanCkpt = patched("ckpt-nan", "model.norm.weight", 3, Float.NaN);
        nanTable = work.resolve("table-nan");
        // shard refuses NaN unless told to keep it; quantize refuses it always (kept norms too), so the
        // quantized fixture is a valid quantized table with the NaN written into its Parquet bytes
        ok("shard", "--input", nanCkpt.toString(), "--output", nanTable.toString(), "--allow-non-finite");
        nanQuantized = nanCopy(quantized, table, nanTable, "model.norm.weight", 3, work.resolve("q-nan"));

        nanWeightTable = work.resolve("table-nan-w");
        ok("shard", "--input", patched("ckpt-nan-w", "model.layers.0.self_attn.q_proj.weight", 70, Float.NaN).toString(),
                "--output", nanWeightTable.toString(), "--allow-non-finite");

        infCkpt = ShardRoundTripTest.tinyCheckpoint(work.resolve("ckpt-inf"), DType.F32, 0);
        patch(infCkpt, "model.layers.0.mlp.up_proj.weight", 2 * rowLength(infCkpt, "model.layers.0.mlp.up_proj.weight") + 1,
                Float.POSITIVE_INFINITY);
        nanLlama2c = llama2cWithNaN(work.resolve("stories-nan.bin"));
        infGguf = ggufWithInfinity(work.resolve("inf.gguf"));

        Path huge = patched("ckpt-huge", "model.layers.0.input_layernorm.weight", -1, 3e38f);
        patch(huge, "model.norm.weight", -1, 3e38f);
        hugeTable = work.resolve("table-huge");
        hugeQuantized = work.resolve("q-huge");
        ok("shard", "--input", huge.toString(), "--output", hugeTable.toString());
        ok("quantize", "--input", hugeTable.toString(), "--output", hugeQuantized.toString(), "--recipe", "int4-g32");

        outOfVocab = work.resolve("tokens-oov");
        TestSpark.session().sql("select array(1, 5, 100000) as tokens").write().parquet(outOfVocab.toString());
        noTokens = work.resolve("no-tokens");
        TestSpark.session().sql("select 1 as seq, array(1, 5) as ids").write().parquet(noTokens.toString());
        quantizedG128 = work.resolve("q-g128");
        ok("quantize", "--input", table.toString(), "--output", quantizedG128.toString(), "--recipe", "int4-g128");
        wrongChecksum = copyWithWrongChecksum(quantized, work.resolve("q-wrong-crc"));
        tampered = tamperedCopy(table, work.resolve("table-tampered"));
        wrongDtype = withNormRows(table, work.resolve("table-wrong-dtype"), "F16", 2.0);
        wrongRowLength = withNormRows(table, work.resolve("table-wrong-row-length"), "F32", 0.5);
        textTable = withByteTokenizer(table, work.resolve("table-tok"));
        shortText = file("short.txt", "Only a few words.".getBytes(StandardCharsets.UTF_8));
        emptyText = file("empty.txt", new byte[0]);
        latin1Text = file("latin1.txt", "caf\u00e9 cr\u00e8me".getBytes(StandardCharsets.ISO_8859_1));
        done = Files.createDirectories(work.resolve("done-int4-g32"));
        Files.writeString(done.resolve("_SUCCESS"), "{\"input\": \"" + ckpt + "\", \"recipe\": \"int4-g32\"}\n");
        damaged = damagedCopy(table, work.resolve("table-damaged"), false);
        crcMismatch = damagedCopy(table, work.resolve("table-crc-mismatch"), true);
        damagedQuantized = damagedCopy(quantized, work.resolve("q-damaged"), false);
    }

    /**
     * A copy of {@code table} whose first Parquet file has the 36 bytes after its magic number (the first
     * page header) inverted; with {@code sidecars}, Hadoop's .crc files are copied too and no longer match.
     */
    private static Path damagedCopy(Path table, Path copy, boolean sidecars) throws IOException {
        copyTable(table, copy);
        Path file;
        try (var files = Files.list(copy.resolve("tensors"))) {
            file = files.filter(f -> f.toString().endsWith(".parquet")).sorted().findFirst().orElseThrow();
        }
        if (sidecars) {
            Path crc = table.resolve("tensors").resolve("." + file.getFileName() + ".crc");
            Files.copy(crc, file.resolveSibling(crc.getFileName()));
        }
        byte[] bytes = Files.readAllBytes(file);
        for (int i = 4; i < 40; i++) {
            bytes[i] ^= (byte) 0xff;
        }
        Files.write(file, bytes);
        return copy;
    }

    /** A copy of {@code table}'s files, without Hadoop's {@code .crc} sidecars (they would not match an edited manifest). */
    private static Path copyTable(Path table, Path copy) throws IOException {
        try (var s = Files.walk(table)) {
            for (Path f : (Iterable<Path>) s::iterator) {
                Path to = copy.resolve(table.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(to);
                } else if (!f.getFileName().toString().endsWith(".crc")) {
                    Files.copy(f, to);
                }
            }
        }
        return copy;
    }

    /** A copy of {@code table} whose manifest gives its first tensor another checksum, as if a data file had changed. */
    private static Path copyWithWrongChecksum(Path table, Path copy) throws IOException {
        Path manifest = copyTable(table, copy).resolve("manifest.json");
        String json = Files.readString(manifest);
        int at = json.indexOf("\"checksum\" : \"", json.indexOf("\"tensors\"")) + "\"checksum\" : \"".length();
        char first = json.charAt(at);
        Files.writeString(manifest, json.substring(0, at) + (first == '0' ? '1' : '0') + json.substring(at + 1));
        return copy;
    }

    private static int rowLength(Path dir, String tensor) throws IOException {
        return (int) CheckpointReader.read(new LocalCheckpointFiles(dir)).tensors().stream()
                .filter(t -> t.info().name().equals(tensor)).findFirst().orElseThrow().info().rowLength();
    }

    /** stories260K.bin with a NaN at row 1, column 5 of its token embeddings (after the 7-int header, rows of dim floats). */
    private static Path llama2cWithNaN(Path copy) throws IOException {
        Path stories = TestSpark.stories260K();
        Files.copy(stories, copy);
        int dim;
        try (FileChannel ch = FileChannel.open(copy, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer header = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(header, 0);
            dim = header.getInt(0);
            ByteBuffer nan = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(0, Float.NaN);
            ch.write(nan, 28 + 4L * (dim + 5));
        }
        return copy;
    }

    /**
     * The quantized fixture exported to GGUF (its norms stay F32), with -Infinity written over column 3
     * of the final norm's bytes in the file.
     */
    private static Path ggufWithInfinity(Path gguf) throws IOException {
        ok("export", "--input", quantized.toString(), "--output", gguf.toString());
        byte[] row = Tables.tensorBytes(table).get("model.norm.weight");
        byte[] bytes = Files.readAllBytes(gguf);
        int hits = 0;
        for (int i = 0; i + row.length <= bytes.length; i++) {
            if (Arrays.equals(bytes, i, i + row.length, row, 0, row.length)) {
                ByteBuffer.wrap(bytes, i + 12, 4).order(ByteOrder.LITTLE_ENDIAN).putFloat(Float.NEGATIVE_INFINITY);
                hits++;
            }
        }
        assertEquals(1, hits, "the final norm's bytes found once in " + gguf);
        Files.write(gguf, bytes);
        return gguf;
    }

    /**
     * A copy of the quantized table {@code q} (quantized from {@code dense}) with a NaN at {@code column}
     * of the kept tensor {@code tensor}'s row 0, written into its (uncompressed, dictionary-free) Parquet
     * bytes; its manifest's {@code checksum} and {@code source_checksum} of that tensor become those of
     * {@code nanDense}, which holds the same NaN: a consistent table, as quantize would have written it
     * if it let NaN through.
     */
    private static Path nanCopy(Path q, Path dense, Path nanDense, String tensor, int column, Path copy) throws IOException {
        copyTable(q, copy);
        byte[] row = Tables.tensorBytes(dense).get(tensor);
        List<Path> hits = new ArrayList<>();
        try (var files = Files.list(copy.resolve("tensors"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".parquet")).sorted().toList()) {
                byte[] bytes = Files.readAllBytes(file);
                for (int i = 0; i + row.length <= bytes.length; i++) {
                    if (Arrays.equals(bytes, i, i + row.length, row, 0, row.length)) {
                        ByteBuffer.wrap(bytes, i + 4 * column, 4).order(ByteOrder.LITTLE_ENDIAN).putFloat(Float.NaN);
                        Files.write(file, bytes);
                        hits.add(file);
                        break;
                    }
                }
            }
        }
        assertEquals(1, hits.size(), "the bytes of " + tensor + " found once in " + copy);
        String checksum = Tables.manifest(nanDense).tensors().stream().filter(e -> e.info().name().equals(tensor))
                .findFirst().orElseThrow().checksum();
        ObjectMapper json = new ObjectMapper();
        ObjectNode m = (ObjectNode) json.readTree(copy.resolve("manifest.json").toFile());
        int edited = 0;
        for (var e : m.get("tensors")) {
            if (e.get("name").asText().equals(tensor)) {
                assertEquals("keep", e.get("treatment").asText(), tensor + " is kept by the recipe");
                ((ObjectNode) e).put("checksum", checksum);
                ((ObjectNode) e).put("source_checksum", checksum);
                edited++;
            }
        }
        assertEquals(1, edited);
        Files.write(copy.resolve("manifest.json"), json.writerWithDefaultPrettyPrinter().writeValueAsBytes(m));
        return copy;
    }

    /** A copy of {@code table} with one byte of a weight changed inside its first Parquet file, the manifest untouched. */
    private static Path tamperedCopy(Path table, Path copy) throws IOException {
        copyTable(table, copy);
        Path file;
        try (var files = Files.list(copy.resolve("tensors"))) {
            file = files.filter(f -> f.toString().endsWith(".parquet")).sorted().findFirst().orElseThrow();
        }
        byte[] row = Tables.tensorBytes(table).get("model.layers.0.self_attn.q_proj.weight");
        byte[] needle = Arrays.copyOfRange(row, 64, 96);
        byte[] bytes = Files.readAllBytes(file);
        for (int i = 0; i + needle.length <= bytes.length; i++) {
            if (Arrays.equals(bytes, i, i + needle.length, needle, 0, needle.length)) {
                bytes[i + 1] ^= 0x10; // a low mantissa bit of one F32 value: still finite, slightly different
                Files.write(file, bytes);
                return copy;
            }
        }
        throw new IllegalStateException("weight bytes not found in " + file);
    }

    /**
     * A copy of {@code table} whose manifest describes {@code model.norm.weight}'s rows as {@code dtype}
     * with {@code factor} times as many values per row as its data file holds.
     */
    private static Path withNormRows(Path table, Path copy, String dtype, double factor) throws IOException {
        copyTable(table, copy);
        ObjectMapper json = new ObjectMapper();
        ObjectNode m = (ObjectNode) json.readTree(copy.resolve("manifest.json").toFile());
        for (var e : m.get("tensors")) {
            if (e.get("name").asText().equals("model.norm.weight")) {
                var shape = (com.fasterxml.jackson.databind.node.ArrayNode) e.get("shape");
                long last = Math.round(shape.get(shape.size() - 1).asLong() * factor);
                shape.set(shape.size() - 1, last);
                ((ObjectNode) e).put("row_length", last);
                ((ObjectNode) e).put("dtype", dtype);
            }
        }
        Files.write(copy.resolve("manifest.json"), json.writerWithDefaultPrettyPrinter().writeValueAsBytes(m));
        return copy;
    }

    /**
     * A copy of {@code table} whose manifest carries a GGUF-style tokenizer: the 256 GPT-2 byte symbols
     * as tokens (the tiny model's vocabulary), no merges, pre-tokenizer {@code gpt-2}.
     */
    static Path withByteTokenizer(Path table, Path copy) throws IOException {
        copyTable(table, copy);
        ObjectMapper json = new ObjectMapper();
        ObjectNode m = (ObjectNode) json.readTree(copy.resolve("manifest.json").toFile());
        ObjectNode tok = ((ObjectNode) m.get("source")).putObject("tokenizer");
        tok.put("tokenizer.ggml.model", "gpt2");
        tok.put("tokenizer.ggml.pre", "gpt-2");
        var tokens = tok.putArray("tokenizer.ggml.tokens");
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            tokens.add(String.valueOf((char) (printable ? b : next++)));
        }
        tok.putArray("tokenizer.ggml.merges");
        Files.write(copy.resolve("manifest.json"), json.writerWithDefaultPrettyPrinter().writeValueAsBytes(m));
        return copy;
    }

    private static void ok(String... args) {
        TestSpark.Run r = TestSpark.nibble(args);
        assertEquals(0, r.code(), String.join(" ", args) + ": " + r.err());
    }

    /** A copy of the tiny checkpoint with {@code value} at {@code index} of {@code tensor} (every value when -1). */
    private static Path patched(String name, String tensor, int index, float value) throws Exception {
        Path dir = ShardRoundTripTest.tinyCheckpoint(work.resolve(name), DType.F32, 0);
        patch(dir, tensor, index, value);
        return dir;
    }

    static void patch(Path dir, String tensor, int index, float value) throws Exception {
        SourceTensor t = CheckpointReader.read(new LocalCheckpointFiles(dir)).tensors().stream()
                .filter(s -> s.info().name().equals(tensor)).findFirst().orElseThrow();
        long n = t.info().elementCount();
        ByteBuffer b = ByteBuffer.allocate(4 * (int) (index < 0 ? n : 1)).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            b.putFloat(value);
        }
        b.flip();
        try (FileChannel ch = FileChannel.open(dir.resolve(t.file()), StandardOpenOption.WRITE)) {
            ch.write(b, t.offset() + 4L * Math.max(0, index));
        }
    }

    // ---- the cases

    /**
     * One bad run.
     *
     * @param code the documented exit code
     * @param args the command line
     * @param output the output whose state must not change (null: none)
     * @param mentions what the error line must contain (input, problem)
     * @param absent results that must not exist afterwards under the output (for a pipeline, whose earlier stages stay)
     * @param claim a live claim of another run to plant beside the output for the case, or null
     */
    record Case(int code, Supplier<String[]> args, Supplier<Path> output, Supplier<List<String>> mentions, List<String> absent,
                Supplier<Path> claim) {
    }

    private static Case rejected(int code, Supplier<Path> output, Supplier<String[]> args, Supplier<List<String>> mentions) {
        return new Case(code, args, output, mentions, List.of(), null);
    }

    private static String s(Path p) {
        return p.toString();
    }

    private static Path fresh(String name) {
        return work.resolve("out").resolve(name);
    }

    static Stream<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        // ---- shard
        add(all, "shard: missing input", rejected(3, () -> fresh("s1"),
                () -> a("shard", "--input", s(work.resolve("nope.safetensors")), "--output", s(fresh("s1"))),
                () -> List.of("nope.safetensors", "no such file")));
        add(all, "shard: truncated safetensors", rejected(3, () -> fresh("s2"),
                () -> a("shard", "--input", s(file("short.safetensors", new byte[] {1, 2, 3})), "--output", s(fresh("s2"))),
                () -> List.of("short.safetensors")));
        add(all, "shard: unsupported dtype", rejected(3, () -> fresh("s3"),
                () -> a("shard", "--input", s(safetensors("ids.safetensors", "{\"ids\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}", 16)),
                        "--output", s(fresh("s3"))),
                () -> List.of("ids.safetensors", "'ids'", "I64")));
        add(all, "shard: output is a file", rejected(3, () -> work.resolve("a-file"),
                () -> a("shard", "--input", s(ckpt), "--output", s(file("a-file", new byte[] {7}))),
                () -> List.of("a-file", "output exists and is a file")));
        add(all, "shard: output holds foreign files, --overwrite", rejected(3, () -> work.resolve("foreign"),
                () -> a("shard", "--input", s(ckpt), "--output", s(foreignFolder()), "--overwrite"),
                () -> List.of("foreign", "not a Nibble table")));
        add(all, "shard: output holds a table, no --overwrite", rejected(3, () -> table,
                () -> a("shard", "--input", s(ckpt), "--output", s(table)),
                () -> List.of(s(table), "already holds a complete result")));
        add(all, "shard: re-shard a table onto itself, --overwrite", rejected(3, () -> table,
                () -> a("shard", "--input", s(table), "--output", s(table) + "/", "--overwrite"),
                () -> List.of("the output contains " + table + "/manifest.json (--input)")));
        add(all, "shard: output inside the checkpoint folder", rejected(3, () -> ckpt.resolve("table"),
                () -> a("shard", "--input", s(ckpt), "--output", s(ckpt.resolve("table"))),
                () -> List.of("the output lies inside " + ckpt + " (--input)")));
        add(all, "shard: credentials in --input", rejected(2, () -> fresh("s9"),
                () -> a("shard", "--input", CREDS + "m/v1/", "--output", s(fresh("s9"))),
                () -> List.of("--input: credentials in the URI are not accepted")));
        add(all, "shard: credentials in --output", rejected(2, null,
                () -> a("shard", "--input", s(ckpt), "--output", CREDS + "t"),
                () -> List.of("--output: credentials in the URI are not accepted")));
        add(all, "shard: --target-file-mb 0", rejected(2, () -> fresh("s11"),
                () -> a("shard", "--input", s(ckpt), "--output", s(fresh("s11")), "--target-file-mb", "0"),
                () -> List.of("--target-file-mb must be positive")));
        add(all, "shard: another run writing the output", claimed(() -> fresh("s12"),
                () -> a("shard", "--input", s(ckpt), "--output", s(fresh("s12")))));

        // ---- shard: NaN and infinities in every source format, refused naming the tensor and row
        add(all, "shard: NaN in a norm weight (safetensors)", rejected(3, () -> fresh("s13"),
                () -> a("shard", "--input", s(work.resolve("ckpt-nan")), "--output", s(fresh("s13"))),
                () -> List.of(s(work.resolve("ckpt-nan")) + ": tensor 'model.norm.weight' row 0 holds a non-finite value NaN at column 3",
                        "--allow-non-finite")));
        add(all, "shard: +Infinity in a weight (safetensors)", rejected(3, () -> fresh("s14"),
                () -> a("shard", "--input", s(infCkpt), "--output", s(fresh("s14"))),
                () -> List.of(s(infCkpt) + ": tensor 'model.layers.0.mlp.up_proj.weight' row 2 holds a non-finite value Infinity at column 1")));
        add(all, "shard: NaN in a weight (llama2.c .bin)", rejected(3, () -> fresh("s15"),
                () -> a("shard", "--input", s(nanLlama2c), "--output", s(fresh("s15"))),
                () -> List.of(s(nanLlama2c) + ": tensor 'model.embed_tokens.weight' row 1 holds a non-finite value NaN at column 5")));
        add(all, "shard: -Infinity in a kept norm weight (GGUF)", rejected(3, () -> fresh("s16"),
                () -> a("shard", "--input", s(infGguf), "--output", s(fresh("s16"))),
                () -> List.of(s(infGguf) + ": tensor '", "' row 0 holds a non-finite value -Infinity at column 3")));
        add(all, "shard: re-shard a table holding NaN", rejected(3, () -> fresh("s17"),
                () -> a("shard", "--input", s(nanTable), "--output", s(fresh("s17"))),
                () -> List.of(s(nanTable) + ": tensor 'model.norm.weight' row 0 holds a non-finite value NaN at column 3")));

        // ---- calibrate
        add(all, "calibrate: input is not a table", rejected(3, () -> ckpt.resolve("stats"),
                () -> a("calibrate", "--input", s(ckpt)),
                () -> List.of(s(ckpt), "not a tensor table")));
        add(all, "calibrate: --output the table itself, --overwrite", rejected(3, () -> table,
                () -> a("calibrate", "--input", s(table), "--output", s(table), "--overwrite"),
                () -> List.of("the output contains " + table + "/manifest.json (--input)")));
        add(all, "calibrate: --output the table's tensors/, --overwrite", rejected(3, () -> table.resolve("tensors"),
                () -> a("calibrate", "--input", s(table), "--output", "file:" + table + "/tensors/", "--overwrite"),
                () -> List.of("the output is " + table + "/tensors (--input)")));
        add(all, "calibrate: input is a quantized table", rejected(3, () -> quantized.resolve("stats"),
                () -> a("calibrate", "--input", s(quantized)),
                () -> List.of(s(quantized), "calibrate reads dense tables")));
        add(all, "calibrate: --outlier-factor 1", rejected(2, () -> table.resolve("stats"),
                () -> a("calibrate", "--input", s(table), "--outlier-factor", "1", "--overwrite"),
                () -> List.of("--outlier-factor must be greater than 1")));
        add(all, "calibrate: another run writing <table>/stats, --overwrite", claimed(() -> table.resolve("stats"),
                () -> a("calibrate", "--input", s(table), "--overwrite")));
        add(all, "calibrate: --data and --text", rejected(2, () -> fresh("c1"),
                () -> a("calibrate", "--input", s(table), "--output", s(fresh("c1")), "--data", s(sequences), "--text", s(shortText)),
                () -> List.of("--text and --data are mutually exclusive")));
        add(all, "calibrate: --data with a token outside the vocabulary", rejected(3, () -> fresh("c2"),
                () -> a("calibrate", "--input", s(table), "--output", s(fresh("c2")), "--data", s(outOfVocab)),
                () -> List.of(s(outOfVocab), "token 100000, outside the vocabulary")));
        add(all, "calibrate: --text shorter than 2 x --ctx tokens", rejected(3, () -> fresh("c4"),
                () -> a("calibrate", "--input", s(textTable), "--output", s(fresh("c4")), "--text", s(shortText), "--ctx", "16"),
                () -> List.of(s(shortText), "the text gives 17 tokens; --ctx 16 needs at least 32")));
        add(all, "calibrate: --data without a tokens column", rejected(3, () -> fresh("c3"),
                () -> a("calibrate", "--input", s(table), "--output", s(fresh("c3")), "--data", s(noTokens)),
                () -> List.of(s(noTokens), "no 'tokens' column of array<int>")));

        // ---- quantize
        add(all, "quantize: onto its own input, --overwrite", rejected(3, () -> table,
                () -> a("quantize", "--input", s(table), "--output", s(table), "--overwrite"),
                () -> List.of(s(table), "the output contains " + table + "/manifest.json (--input)")));
        add(all, "quantize: onto its input spelled ./relative/, --overwrite", rejected(3, () -> table,
                () -> a("quantize", "--input", s(table), "--output", "./" + Path.of("").toAbsolutePath().relativize(table) + "/", "--overwrite"),
                () -> List.of("the output contains " + table + "/manifest.json (--input)")));
        add(all, "quantize: onto the statistics it reads, --overwrite", rejected(3, () -> table.resolve("stats"),
                () -> a("quantize", "--input", s(table), "--output", s(table.resolve("stats")), "--overwrite"),
                () -> List.of("the output is " + table.resolve("stats") + " (--stats)")));
        add(all, "quantize: output holds a table, no --overwrite", rejected(3, () -> quantized,
                () -> a("quantize", "--input", s(table), "--output", s(quantized), "--recipe", "int4-g32"),
                () -> List.of(s(quantized), "already holds a complete result")));
        add(all, "quantize: unknown recipe", rejected(3, () -> fresh("q5"),
                () -> a("quantize", "--input", s(table), "--output", s(fresh("q5")), "--recipe", "int3-magic"),
                () -> List.of("int3-magic", "no built-in recipe")));
        add(all, "quantize: input is a quantized table", rejected(3, () -> fresh("q6"),
                () -> a("quantize", "--input", s(quantized), "--output", s(fresh("q6"))),
                () -> List.of(s(quantized), "quantize reads dense tables")));
        add(all, "quantize: NaN in a quantized weight", rejected(3, () -> fresh("q7"),
                () -> a("quantize", "--input", s(nanWeightTable), "--output", s(fresh("q7")), "--recipe", "int4-g32"),
                () -> List.of(s(nanWeightTable), "'model.layers.0.self_attn.q_proj.weight' row 1", "non-finite value NaN")));
        add(all, "quantize: NaN in a kept norm weight", rejected(3, () -> fresh("q10"),
                () -> a("quantize", "--input", s(nanTable), "--output", s(fresh("q10")), "--recipe", "int4-g32"),
                () -> List.of(s(nanTable) + ": tensor 'model.norm.weight' row 0 holds a non-finite value NaN at column 3",
                        "keeps this tensor unquantized")));
        add(all, "quantize: a recipe needing activation statistics, weight statistics only", rejected(3, () -> fresh("q9"),
                () -> a("quantize", "--input", s(table), "--output", s(fresh("q9")), "--recipe", "int4-g32-imatrix"),
                () -> List.of(s(table.resolve("stats")), "recipe 'int4-g32-imatrix' needs activation statistics of " + table,
                        "--data or --text")));
        add(all, "quantize: credentials in --recipe", rejected(2, () -> fresh("q8"),
                () -> a("quantize", "--input", s(table), "--output", s(fresh("q8")), "--recipe", CREDS + "r.json"),
                () -> List.of("--recipe: credentials in the URI are not accepted")));
        add(all, "quantize: another run writing the output, --overwrite", claimed(() -> quantized,
                () -> a("quantize", "--input", s(table), "--output", s(quantized), "--recipe", "int4-g32", "--overwrite")));

        // ---- evaluate
        String[] small = {"--sequences", "2", "--sequence-length", "8"};
        add(all, "evaluate: report onto the original, --overwrite", rejected(3, () -> table,
                () -> a(cat(new String[] {"evaluate", "--original", s(table), "--quantized", s(quantized), "--output", s(table), "--overwrite"}, small)),
                () -> List.of("the output contains " + table + "/manifest.json (--original)")));
        add(all, "evaluate: report onto the quantized table, --overwrite", rejected(3, () -> quantized,
                () -> a(cat(new String[] {"evaluate", "--original", s(table), "--quantized", s(quantized), "--output", "file:" + quantized, "--overwrite"}, small)),
                () -> List.of("the output contains " + quantized + "/manifest.json (--quantized)")));
        Case nan = new Case(3, () -> a(cat(new String[] {"evaluate", "--original", s(nanTable), "--quantized", s(nanQuantized),
                "--output", s(fresh("e3")), "--max-kld", "0.05"}, small)), () -> fresh("e3"),
                () -> List.of(s(nanTable), "tensor 'model.norm.weight' row 0 holds a non-finite value NaN at column 3"),
                List.of(), null);
        add(all, "evaluate: NaN in a kept norm weight, --max-kld", nan);
        add(all, "evaluate: finite weights whose logits overflow", rejected(3, () -> fresh("e4"),
                () -> a(cat(new String[] {"evaluate", "--original", s(hugeTable), "--quantized", s(hugeQuantized), "--output", s(fresh("e4"))}, small)),
                () -> List.of(s(hugeTable) + ": sequence ", ": the model's logits at position", "are not finite",
                        "although every weight is finite")));
        add(all, "evaluate: --original is a quantized table", rejected(3, () -> fresh("e5"),
                () -> a(cat(new String[] {"evaluate", "--original", s(quantized), "--quantized", s(quantized), "--output", s(fresh("e5"))}, small)),
                () -> List.of(s(quantized), "--original must be a dense table")));
        add(all, "evaluate: quantized from another table", rejected(3, () -> fresh("e6"),
                () -> a(cat(new String[] {"evaluate", "--original", s(table), "--quantized", s(nanQuantized), "--output", s(fresh("e6"))}, small)),
                () -> List.of(s(nanQuantized), "was not quantized from")));
        add(all, "evaluate: --data with a token outside the vocabulary", rejected(3, () -> fresh("e7"),
                () -> a("evaluate", "--original", s(table), "--quantized", s(quantized), "--output", s(fresh("e7")), "--data", s(outOfVocab)),
                () -> List.of(s(outOfVocab), "token 100000, outside the vocabulary")));
        add(all, "evaluate: --data does not exist", rejected(3, () -> fresh("e12"),
                () -> a("evaluate", "--original", s(table), "--quantized", s(quantized), "--output", s(fresh("e12")), "--data",
                        s(work.resolve("no-such-data"))),
                () -> List.of(s(work.resolve("no-such-data")), "no such file or directory")));
        add(all, "evaluate: --data without a tokens column", rejected(3, () -> fresh("e13"),
                () -> a("evaluate", "--original", s(table), "--quantized", s(quantized), "--output", s(fresh("e13")), "--data", s(noTokens)),
                () -> List.of(s(noTokens), "no 'tokens' column of array<int>")));
        add(all, "evaluate: --sequence-length beyond the model", rejected(2, () -> fresh("e8"),
                () -> a("evaluate", "--original", s(table), "--quantized", s(quantized), "--output", s(fresh("e8")), "--sequence-length", "5000"),
                () -> List.of("--sequence-length 5000 exceeds the model's 2048 positions")));
        add(all, "evaluate: --max-kld -1", rejected(2, () -> fresh("e9"),
                () -> a("evaluate", "--original", s(table), "--quantized", s(quantized), "--output", s(fresh("e9")), "--max-kld", "-1"),
                () -> List.of("--max-kld must be a non-negative number")));
        add(all, "evaluate: credentials in --data", rejected(2, () -> fresh("e10"),
                () -> a("evaluate", "--original", s(table), "--quantized", s(quantized), "--output", s(fresh("e10")), "--data", CREDS + "seqs"),
                () -> List.of("--data: credentials in the URI are not accepted")));
        add(all, "evaluate: another run writing the output", claimed(() -> fresh("e11"),
                () -> a(cat(new String[] {"evaluate", "--original", s(table), "--quantized", s(quantized), "--output", s(fresh("e11"))}, small))));

        // ---- evaluate --text
        add(all, "evaluate: --text, the table has no tokenizer", rejected(3, () -> fresh("t1"),
                () -> a("evaluate", "--original", s(table), "--quantized", s(quantized), "--output", s(fresh("t1")), "--text", s(shortText)),
                () -> List.of(s(table), "the table carries no tokenizer")));
        add(all, "evaluate: --text does not exist", rejected(3, () -> fresh("t2"),
                () -> a("evaluate", "--original", s(textTable), "--quantized", s(quantized), "--output", s(fresh("t2")), "--text",
                        s(work.resolve("no-such.txt"))),
                () -> List.of(s(work.resolve("no-such.txt")), "no such file or directory")));
        add(all, "evaluate: --text is empty", rejected(3, () -> fresh("t3"),
                () -> a("evaluate", "--original", s(textTable), "--quantized", s(quantized), "--output", s(fresh("t3")), "--text", s(emptyText)),
                () -> List.of(s(emptyText), "the text is empty")));
        add(all, "evaluate: --text shorter than 2 x --ctx tokens", rejected(3, () -> fresh("t4"),
                () -> a("evaluate", "--original", s(textTable), "--quantized", s(quantized), "--output", s(fresh("t4")), "--text", s(shortText),
                        "--ctx", "16"),
                () -> List.of(s(shortText), "the text gives 17 tokens; --ctx 16 needs at least 32")));
        add(all, "evaluate: --text Parquet without a text column", rejected(3, () -> fresh("t5"),
                () -> a("evaluate", "--original", s(textTable), "--quantized", s(quantized), "--output", s(fresh("t5")), "--text", s(noTokens)),
                () -> List.of(s(noTokens), "no 'text' column of strings (found seq, ids)")));
        add(all, "evaluate: --text is not UTF-8", rejected(3, () -> fresh("t6"),
                () -> a("evaluate", "--original", s(textTable), "--quantized", s(quantized), "--output", s(fresh("t6")), "--text", s(latin1Text)),
                () -> List.of(s(latin1Text), "not UTF-8 text")));
        add(all, "evaluate: --text and --data", rejected(2, () -> fresh("t7"),
                () -> a("evaluate", "--original", s(textTable), "--quantized", s(quantized), "--output", s(fresh("t7")), "--text", s(shortText),
                        "--data", s(sequences)),
                () -> List.of("--text and --data are mutually exclusive")));
        add(all, "evaluate: --ctx 2", rejected(2, () -> fresh("t8"),
                () -> a("evaluate", "--original", s(textTable), "--quantized", s(quantized), "--output", s(fresh("t8")), "--text", s(shortText),
                        "--ctx", "2"),
                () -> List.of("--ctx must be at least 4")));
        add(all, "evaluate: --ctx beyond the model", rejected(2, () -> fresh("t9"),
                () -> a("evaluate", "--original", s(textTable), "--quantized", s(quantized), "--output", s(fresh("t9")), "--text", s(shortText),
                        "--ctx", "4096"),
                () -> List.of("--ctx 4096 exceeds the model's 2048 positions")));
        add(all, "evaluate: --ctx without --text", rejected(2, () -> fresh("t11"),
                () -> a("evaluate", "--original", s(textTable), "--quantized", s(quantized), "--output", s(fresh("t11")), "--ctx", "8"),
                () -> List.of("--ctx and --chunks go with --text")));
        add(all, "sample: --seed with --text", rejected(2, () -> fresh("m9"),
                () -> a("sample", "--model", s(textTable), "--output", s(fresh("m9")), "--text", s(shortText), "--seed", "7"),
                () -> List.of("--seed does not go with --text")));
        add(all, "evaluate: credentials in --text", rejected(2, () -> fresh("t10"),
                () -> a("evaluate", "--original", s(textTable), "--quantized", s(quantized), "--output", s(fresh("t10")), "--text", CREDS + "t.txt"),
                () -> List.of("--text: credentials in the URI are not accepted")));

        // ---- sample
        add(all, "sample: --text, the table has no tokenizer", rejected(3, () -> fresh("m6"),
                () -> a("sample", "--model", s(table), "--output", s(fresh("m6")), "--text", s(shortText)),
                () -> List.of(s(table), "the table carries no tokenizer")));
        add(all, "sample: --text shorter than 2 x --ctx tokens", rejected(3, () -> fresh("m7"),
                () -> a("sample", "--model", s(textTable), "--output", s(fresh("m7")), "--text", s(shortText)),
                () -> List.of(s(shortText), "the text gives 17 tokens; --ctx 512 needs at least 1024")));
        add(all, "sample: --text Parquet without a text column", rejected(3, () -> fresh("m8"),
                () -> a("sample", "--model", s(textTable), "--output", s(fresh("m8")), "--text", s(noTokens), "--ctx", "4"),
                () -> List.of(s(noTokens), "no 'text' column of strings (found seq, ids)")));
        add(all, "sample: --model is not a table", rejected(3, () -> fresh("m1"),
                () -> a("sample", "--model", s(ckpt), "--output", s(fresh("m1")), "--sequences", "2", "--sequence-length", "8"),
                () -> List.of(s(ckpt), "not a tensor table")));
        add(all, "sample: onto its model, --overwrite", rejected(3, () -> table,
                () -> a("sample", "--model", s(table), "--output", s(table), "--overwrite"),
                () -> List.of("the output contains " + table + "/manifest.json (--model)")));
        add(all, "sample: NaN in the model", rejected(3, () -> fresh("m3"),
                () -> a("sample", "--model", s(nanTable), "--output", s(fresh("m3")), "--sequences", "2", "--sequence-length", "8"),
                () -> List.of(s(nanTable), "'model.norm.weight' row 0 holds a non-finite value NaN at column 3")));
        add(all, "sample: logits overflow", rejected(3, () -> fresh("m4"),
                () -> a("sample", "--model", s(hugeTable), "--output", s(fresh("m4")), "--sequences", "2", "--sequence-length", "8"),
                () -> List.of(s(hugeTable) + ": sequence ", "are not finite")));
        add(all, "sample: --sequences 0", rejected(2, () -> fresh("m5"),
                () -> a("sample", "--model", s(table), "--output", s(fresh("m5")), "--sequences", "0"),
                () -> List.of("--sequences must be positive")));

        // ---- pipeline
        String[] quick = {"--recipe", "int4-g32", "--sequences", "2", "--sequence-length", "8"};
        add(all, "pipeline: NaN in a kept norm weight, --max-kld", new Case(3,
                () -> a(cat(new String[] {"pipeline", "--input", s(work.resolve("ckpt-nan")), "--output", s(fresh("p1")), "--max-kld", "0.05"}, quick)),
                () -> fresh("p1"), () -> List.of(s(work.resolve("ckpt-nan")), "'model.norm.weight' row 0", "non-finite value NaN"),
                List.of("_SUCCESS", "table/manifest.json", "quantized/manifest.json", "eval/report.json", "eval/report.md",
                        "eval/report.html"), null));
        add(all, "pipeline: output is the checkpoint", rejected(3, () -> ckpt,
                () -> a(cat(new String[] {"pipeline", "--input", s(ckpt), "--output", s(ckpt)}, quick)),
                () -> List.of("the output is " + ckpt + " (--input)")));
        add(all, "pipeline: output inside the checkpoint", rejected(3, () -> ckpt.resolve("v1-int4"),
                () -> a(cat(new String[] {"pipeline", "--input", s(ckpt), "--output", s(ckpt.resolve("v1-int4"))}, quick)),
                () -> List.of("the output lies inside " + ckpt + " (--input)")));
        add(all, "pipeline: credentials in --input", rejected(2, () -> fresh("p4"),
                () -> a(cat(new String[] {"pipeline", "--input", CREDS + "m/v1/", "--output", s(fresh("p4"))}, quick)),
                () -> List.of("--input: credentials in the URI are not accepted")));
        add(all, "pipeline: complete prefix, another recipe", rejected(3, () -> done,
                () -> a(cat(new String[] {"pipeline", "--input", s(ckpt), "--output", s(done)}, new String[] {"--recipe", "int8-channel"})),
                () -> List.of(s(done) + ": already complete for input", "recipe \"int4-g32\"", "not input", "--force")));
        add(all, "pipeline: unknown recipe", rejected(3, () -> fresh("p5"),
                () -> a("pipeline", "--input", s(ckpt), "--output", s(fresh("p5")), "--recipe", "int3-magic"),
                () -> List.of("int3-magic", "no built-in recipe")));
        add(all, "pipeline: another pipeline on the prefix", claimed(() -> fresh("p6"),
                () -> a(cat(new String[] {"pipeline", "--input", s(ckpt), "--output", s(fresh("p6"))}, quick))));

        // ---- every stage checks what it reads against the manifest
        add(all, "quantize: a value changed in a data file", rejected(3, () -> fresh("t1"),
                () -> a("quantize", "--input", s(tampered), "--output", s(fresh("t1")), "--recipe", "int4-g32"),
                () -> List.of(s(tampered), "model.layers.0.self_attn.q_proj.weight", "the manifest says")));
        add(all, "shard: re-shard a table with a value changed in a data file", rejected(3, () -> fresh("rs1"),
                () -> a("shard", "--input", s(tampered), "--output", s(fresh("rs1"))),
                () -> List.of(s(tampered) + ": tensor 'model.layers.0.self_attn.q_proj.weight': data checksum ",
                        "does not match the manifest's")));
        add(all, "shard: re-shard a table whose rows have another dtype than the manifest's", rejected(3, () -> fresh("rs2"),
                () -> a("shard", "--input", s(wrongDtype), "--output", s(fresh("rs2"))),
                () -> List.of(s(wrongDtype) + ": tensor 'model.norm.weight': row 0 has dtype F32, expected F16")));
        add(all, "shard: re-shard a table whose rows are shorter than the manifest's", rejected(3, () -> fresh("rs3"),
                () -> a("shard", "--input", s(wrongRowLength), "--output", s(fresh("rs3"))),
                () -> List.of(s(wrongRowLength) + ": tensor 'model.norm.weight': row 0 has ", " bytes, expected ")));
        add(all, "calibrate: a value changed in a data file", rejected(3, () -> fresh("t2"),
                () -> a("calibrate", "--input", s(tampered), "--output", s(fresh("t2"))),
                () -> List.of(s(tampered), "model.layers.0.self_attn.q_proj.weight", "the manifest says")));
        add(all, "evaluate: a value changed in the original's data file", rejected(3, () -> fresh("t3"),
                () -> a("evaluate", "--original", s(tampered), "--quantized", s(quantized), "--output", s(fresh("t3")),
                        "--sequences", "1", "--sequence-length", "4"),
                () -> List.of(s(tampered), "model.layers.0.self_attn.q_proj.weight", "the manifest says")));

        // ---- export
        add(all, "export: output exists, no --overwrite", rejected(3, () -> work.resolve("exists.gguf"),
                () -> a("export", "--input", s(quantized), "--output", s(file("exists.gguf", new byte[] {7}))),
                () -> List.of("exists.gguf", "already exists", "--overwrite")));
        add(all, "export: output is a folder", rejected(3, () -> work.resolve("foreign"),
                () -> a("export", "--input", s(quantized), "--output", s(foreignFolder()), "--overwrite"),
                () -> List.of("foreign", "is a folder")));
        add(all, "export: --strict and a scheme with no GGUF type", rejected(3, () -> fresh("e3.gguf"),
                () -> a("export", "--input", s(quantizedG128), "--output", s(fresh("e3.gguf")), "--strict"),
                () -> List.of(s(quantizedG128), "int4 g128", "no GGUF type", "--strict")));
        add(all, "export: input is not a table", rejected(3, () -> fresh("e4.gguf"),
                () -> a("export", "--input", s(work.resolve("nope")), "--output", s(fresh("e4.gguf"))),
                () -> List.of(s(work.resolve("nope")), "not a tensor table")));
        add(all, "export: data does not match the manifest's checksum", rejected(3, () -> fresh("e5.gguf"),
                () -> a("export", "--input", s(wrongChecksum), "--output", s(fresh("e5.gguf"))),
                () -> List.of(s(wrongChecksum), "checksum", "the manifest says")));
        add(all, "export: output inside the input table", rejected(3, () -> quantized,
                () -> a("export", "--input", s(quantized), "--output", s(quantized.resolve("model.gguf"))),
                () -> List.of(s(quantized.resolve("model.gguf")), "(--input)")));
        add(all, "export: unknown --format", rejected(2, () -> fresh("e7.onnx"),
                () -> a("export", "--input", s(quantized), "--output", s(fresh("e7.onnx")), "--format", "onnx"),
                () -> List.of("--format onnx")));
        add(all, "export: credentials in --input", rejected(2, null,
                () -> a("export", "--input", CREDS + "q", "--output", s(fresh("e8.gguf"))),
                () -> List.of("--input: credentials in the URI are not accepted")));
        add(all, "export: another run writing the file", claimed(() -> fresh("e9.gguf"),
                () -> a("export", "--input", s(quantized), "--output", s(fresh("e9.gguf")))));

        // ---- synth
        add(all, "synth: output folder not empty", rejected(3, () -> work.resolve("foreign"),
                () -> a("synth", "--preset", "tiny", "--output", s(foreignFolder())),
                () -> List.of("foreign", "output folder is not empty")));
        add(all, "synth: output is a file", rejected(3, () -> work.resolve("synth-file"),
                () -> a("synth", "--preset", "tiny", "--output", s(file("synth-file", new byte[] {1}))),
                () -> List.of("synth-file", "output exists and is a file")));
        add(all, "synth: unknown preset", rejected(3, () -> fresh("y2"),
                () -> a("synth", "--preset", "huge-9000", "--output", s(fresh("y2"))),
                () -> List.of("huge-9000", "unknown synthetic preset")));
        add(all, "synth: unsupported dtype", rejected(3, () -> fresh("y3"),
                () -> a("synth", "--preset", "tiny", "--dtype", "I64", "--output", s(fresh("y3"))),
                () -> List.of("--dtype", "I64")));
        add(all, "synth: credentials in --output", rejected(2, null,
                () -> a("synth", "--preset", "tiny", "--output", CREDS + "ckpt"),
                () -> List.of("--output: credentials in the URI are not accepted")));

        // ---- GPTQ (issue 11)
        add(all, "quantize: a GPTQ recipe, statistics without Hessians", rejected(3, () -> fresh("g1"),
                () -> a("quantize", "--input", s(table), "--output", s(fresh("g1")), "--recipe", "int4-g32-gptq"),
                () -> List.of(s(table.resolve("stats")), "recipe 'int4-g32-gptq' needs the Hessians of " + table, "--hessian")));
        add(all, "calibrate: --hessian without calibration data", rejected(2, () -> fresh("g2"),
                () -> a("calibrate", "--input", s(table), "--output", s(fresh("g2")), "--hessian"),
                () -> List.of("--hessian needs calibration data (--data or --text)")));

        // ---- damaged data files; NaN never reaches statistics
        add(all, "calibrate: NaN in a weight", rejected(3, () -> nanWeightTable.resolve("stats"),
                () -> a("calibrate", "--input", s(nanWeightTable)),
                () -> List.of(s(nanWeightTable) + ": tensor 'model.layers.0.self_attn.q_proj.weight' row 1 holds a non-finite value NaN at column 6")));
        add(all, "quantize: a damaged Parquet page", rejected(3, () -> fresh("d1"),
                () -> a("quantize", "--input", s(damaged), "--output", s(fresh("d1")), "--recipe", "int4-g32"),
                () -> List.of(s(damaged) + "/tensors/part-", ".parquet: cannot read this data file (damaged")));
        add(all, "calibrate: a damaged Parquet page", rejected(3, () -> fresh("d2"),
                () -> a("calibrate", "--input", s(damaged), "--output", s(fresh("d2"))),
                () -> List.of(s(damaged) + "/tensors/part-", ".parquet: cannot read this data file (damaged")));
        add(all, "evaluate: a damaged Parquet page in the original", rejected(3, () -> fresh("d3"),
                () -> a("evaluate", "--original", s(damaged), "--quantized", s(quantized), "--output", s(fresh("d3")),
                        "--sequences", "1", "--sequence-length", "4"),
                () -> List.of(s(damaged) + "/tensors/part-", ".parquet: cannot read this data file (damaged")));
        add(all, "quantize: a data file failing its .crc checksum", rejected(3, () -> fresh("d4"),
                () -> a("quantize", "--input", s(crcMismatch), "--output", s(fresh("d4")), "--recipe", "int4-g32"),
                () -> List.of(s(crcMismatch) + "/tensors/part-", "cannot read this data file", "Checksum error")));
        add(all, "shard: reshard a table with a damaged Parquet page", rejected(3, () -> fresh("d5"),
                () -> a("shard", "--input", s(damaged), "--output", s(fresh("d5"))),
                () -> List.of(s(damaged) + "/tensors/part-", ".parquet: cannot read this data file (damaged")));
        add(all, "export: a damaged Parquet page", rejected(3, () -> fresh("d6.gguf"),
                () -> a("export", "--input", s(damagedQuantized), "--output", s(fresh("d6.gguf"))),
                () -> List.of(s(damagedQuantized) + "/tensors/part-", ".parquet: cannot read this data file (damaged")));
        add(all, "sample: a value changed in the model's data file", rejected(3, () -> fresh("d7"),
                () -> a("sample", "--model", s(tampered), "--output", s(fresh("d7")), "--sequences", "2", "--sequence-length", "8"),
                () -> List.of(s(tampered), "model.layers.0.self_attn.q_proj.weight", "the manifest says")));
        add(all, "sample: a damaged Parquet page in the model", rejected(3, () -> fresh("d8"),
                () -> a("sample", "--model", s(damaged), "--output", s(fresh("d8")), "--sequences", "2", "--sequence-length", "8"),
                () -> List.of(s(damaged) + "/tensors/part-", ".parquet: cannot read this data file (damaged")));
        return all.stream();
    }

    private static void add(List<Arguments> all, String name, Case c) {
        all.add(Arguments.of(name, c));
    }

    /** Exit 3 naming the output and the claim's owner, while another run's live claim sits beside the output. */
    private static Case claimed(Supplier<Path> output, Supplier<String[]> args) {
        return new Case(3, args, output, () -> List.of(s(output.get()), "another Nibble run is writing here",
                "claimed by ci@other-host pid 4242", "delete "), List.of(),
                () -> output.get().resolveSibling("." + output.get().getFileName() + ".nibble-claim"));
    }

    private static String[] a(String... args) {
        return args;
    }

    private static String[] cat(String[] a, String[] b) {
        return S3PipelineTestSupport.concat(a, b);
    }

    private static Path file(String name, byte[] bytes) {
        try {
            return Files.write(work.resolve(name), bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path safetensors(String name, String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        return file(name, b.array());
    }

    private static Path foreignFolder() {
        try {
            Path dir = Files.createDirectories(work.resolve("foreign"));
            Files.writeString(dir.resolve("notes.txt"), "not a table");
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- the assertions

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void badInputIsRefusedCleanly(String name, Case c) throws Exception {
        String[] args = c.args().get();
        Path output = c.output() == null ? null : c.output().get();
        Path claim = c.claim() == null ? null : c.claim().get();
        if (claim != null) {
            Files.createDirectories(claim.getParent());
            Files.writeString(claim, "{\"format\":\"nibble-claim\",\"run\":\"live\",\"host\":\"other-host\",\"pid\":4242,"
                    + "\"user\":\"ci\",\"started\":\"" + Instant.now() + "\",\"output\":\"x\"}");
        }
        Map<String, String> outputBefore = output == null ? Map.of() : state(output);
        Map<String, String> hiddenBefore = nibbleEntries();
        try {
            TestSpark.Run r = TestSpark.nibble(args);
            String command = args[0];
            assertEquals(c.code(), r.code(), name + ": " + r.err());
            List<String> errors = r.err().lines().filter(l -> l.startsWith("nibble ")).toList();
            assertEquals(1, errors.size(), "one error line: " + r.err());
            String line = errors.get(0);
            assertTrue(line.startsWith("nibble " + command + ": " + (c.code() == 3 ? "error: " : "")), line);
            for (String m : c.mentions().get()) {
                assertTrue(line.contains(m), "mentions '" + m + "': " + line);
            }
            assertFalse(r.err().lines().anyMatch(l -> l.startsWith("\tat ") || l.startsWith("Caused by") || l.contains("Exception:")),
                    "no stack trace: " + r.err());
            assertFalse((r.out() + r.err()).contains(SECRET), "the secret is never printed");
            if (c.absent().isEmpty()) {
                if (output != null) {
                    assertEquals(outputBefore, state(output), "the output is as it was");
                }
            } else {
                for (String f : c.absent()) {
                    assertFalse(Files.exists(output.resolve(f)), f + " must not exist after a failed run");
                }
            }
            assertEquals(hiddenBefore, nibbleEntries(), "no temporary folder or claim left behind, a planted claim untouched");
        } finally {
            if (claim != null) {
                Files.deleteIfExists(claim);
            }
        }
    }

    /** Every file under {@code p} (relative path → size and CRC), or {@code <absent>}. */
    private static Map<String, String> state(Path p) throws IOException {
        Map<String, String> out = new TreeMap<>();
        if (!Files.exists(p)) {
            out.put("", "<absent>");
            return out;
        }
        try (var s = Files.walk(p)) {
            for (Path f : (Iterable<Path>) s.filter(Files::isRegularFile)::iterator) {
                byte[] b = Files.readAllBytes(f);
                out.put(p.relativize(f).toString(), b.length + ":" + Tables.crc(b));
            }
        }
        return out;
    }

    /** Every {@code .nibble-tmp*} and {@code .nibble-claim} entry under the work folder, with its content for files. */
    private static Map<String, String> nibbleEntries() throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (var s = Files.walk(work)) {
            for (Path f : (Iterable<Path>) s::iterator) {
                String n = f.getFileName().toString();
                if (n.contains(".nibble-tmp") || n.contains(".nibble-claim")) {
                    out.put(work.relativize(f).toString(), Files.isRegularFile(f) ? Arrays.toString(Files.readAllBytes(f)) : "dir");
                }
            }
        }
        return out;
    }
}
