package nibble.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import nibble.common.DType;
import nibble.common.quant.Quantizer;
import nibble.common.Floats;
import nibble.common.quant.Scheme;
import nibble.common.stats.ChannelStats;
import nibble.common.table.Manifest;
import nibble.common.table.TensorEntry;

class QuantizeJobTest {
    @TempDir
    static Path tmp;
    static Path stories;

    @BeforeAll
    static void shardStories() {
        Path model = TestSpark.stories260K();
        if (model == null || !Files.exists(model)) {
            System.out.println("skipping stories260K quantize tests: ../shared/models/stories260K.bin is absent");
            return;
        }
        stories = tmp.resolve("stories");
        assertEquals(0, TestSpark.nibble("shard", "--input", model.toString(), "--output", stories.toString()).code());
    }

    private static Path quantize(Path table, String recipe, String... extra) {
        Path out = tmp.resolve("q-" + table.getFileName() + "-" + Path.of(recipe).getFileName());
        String[] args = {"quantize", "--input", table.toString(), "--output", out.toString(), "--recipe", recipe, "--overwrite"};
        String[] all = java.util.stream.Stream.concat(java.util.Arrays.stream(args), java.util.Arrays.stream(extra)).toArray(String[]::new);
        TestSpark.Run r = TestSpark.nibble(all);
        assertEquals(0, r.code(), r.err());
        return out;
    }

    /** Dequantizing what the table stores gives exactly the kernel's dequantized values of the source rows. */
    @Test
    void stories260KQuantizedTableRoundTripsThroughTheReader() throws Exception {
        Assumptions.assumeTrue(stories != null, "stories260K is absent");
        for (String recipe : List.of("int4-g32-mse", "nf4-g64", "int8-channel")) {
            Path q = quantize(stories, recipe);
            Manifest m = Tables.manifest(q);
            assertEquals(Manifest.Kind.QUANTIZED, m.kind());
            Map<String, List<Row>> source = rowsByTensor(stories);
            Map<String, List<Row>> quant = rowsByTensor(q);
            int quantized = 0;
            for (TensorEntry e : m.tensors()) {
                String name = e.info().name();
                Scheme scheme = e.quant().scheme();
                List<Row> src = source.get(name);
                List<Row> out = quant.get(name);
                assertEquals(src.size(), out.size(), name);
                ByteArrayOutputStream payload = new ByteArrayOutputStream();
                for (int i = 0; i < src.size(); i++) {
                    byte[] data = (byte[]) src.get(i).get(3);
                    Row o = out.get(i);
                    if (scheme == null) {
                        assertArrayEquals(data, (byte[]) o.get(3), name + " kept unchanged");
                        payload.writeBytes((byte[]) o.get(3));
                        continue;
                    }
                    assertTrue(o.isNullAt(3), "no dense data for a quantized row");
                    float[] values = Floats.decode(data, DType.F32);
                    float[] expected = Quantizer.dequantize(Quantizer.quantize(name, i, values, scheme), scheme, values.length);
                    byte[] zeros = o.isNullAt(6) ? null : (byte[]) o.get(6);
                    float[] actual = Quantizer.dequantize((byte[]) o.get(4), (byte[]) o.get(5), zeros, scheme, values.length);
                    assertArrayEquals(expected, actual, name + " row " + i);
                    payload.writeBytes((byte[]) o.get(4));
                    payload.writeBytes((byte[]) o.get(5));
                    if (zeros != null) {
                        payload.writeBytes(zeros);
                    }
                }
                assertEquals(Tables.crc(payload.toByteArray()), e.checksum(), name + " checksum");
                assertEquals(Tables.manifest(stories).tensors().stream().filter(t -> t.info().name().equals(name))
                        .findFirst().orElseThrow().checksum(), e.quant().sourceChecksum());
                quantized += scheme == null ? 0 : 1;
            }
            assertEquals(36, quantized, recipe + ": every 2-D tensor quantized, norms kept");
        }
    }

    @Test
    void errorMinimisingSearchBeatsMinMaxOnStories260K() {
        Assumptions.assumeTrue(stories != null, "stories260K is absent");
        double rtn = totalSquaredError(Tables.manifestUnchecked(quantize(stories, "int4-g32")));
        double mse = totalSquaredError(Tables.manifestUnchecked(quantize(stories, "int4-g32-mse")));
        System.out.printf("stories260K total squared error: int4-g32 %.6g, int4-g32-mse %.6g%n", rtn, mse);
        assertTrue(mse < rtn, "mse search " + mse + " vs min/max " + rtn);
    }

    @Test
    void outputDoesNotDependOnInputPartitioning() throws Exception {
        Path ckpt = ShardRoundTripTest.tinyCheckpoint(tmp.resolve("ckpt"), DType.BF16, 0);
        Path one = tmp.resolve("one");
        Path many = tmp.resolve("many");
        assertEquals(0, TestSpark.nibble("shard", "--input", ckpt.toString(), "--output", one.toString()).code());
        assertEquals(0, TestSpark.nibble("shard", "--input", one.toString(), "--output", many.toString(),
                "--target-file-mb", "0.01").code());
        assertEquals(1, Tables.manifest(one).files().size());
        assertTrue(Tables.manifest(many).files().size() >= 16, "16 or more input files");
        Path q1 = quantize(one, "int4-g32-mse");
        Path q16 = quantize(many, "int4-g32-mse");
        Map<String, byte[]> f1 = Tables.files(q1.resolve("tensors"));
        Map<String, byte[]> f16 = Tables.files(q16.resolve("tensors"));
        assertEquals(f1.keySet(), f16.keySet());
        f1.forEach((k, v) -> assertArrayEquals(v, f16.get(k), k));
        assertEquals(Tables.manifest(q1).tensors(), Tables.manifest(q16).tensors());
    }

    @Test
    void calibrateWritesQueryableChannelStatisticsAndPercentileRecipesUseThem() throws Exception {
        Path ckpt = ShardRoundTripTest.tinyCheckpoint(tmp.resolve("ckpt-cal"), DType.F32, 0);
        Path table = tmp.resolve("cal");
        assertEquals(0, TestSpark.nibble("shard", "--input", ckpt.toString(), "--output", table.toString()).code());
        Path recipe = tmp.resolve("p999.json");
        Files.writeString(recipe, "{\"default\": {\"bits\": 4, \"group_size\": 64, \"range\": \"percentile\", \"percentile\": 99.9},\n"
                + " \"overrides\": [{\"match\": \".*embed.*\", \"bits\": 8, \"granularity\": \"tensor\"}]}\n");
        TestSpark.Run missing = TestSpark.nibble("quantize", "--input", table.toString(), "--output",
                tmp.resolve("qp").toString(), "--recipe", recipe.toString());
        assertEquals(3, missing.code());
        assertTrue(missing.err().contains("calibrate"), missing.err());
        assertFalse(Files.exists(tmp.resolve("qp")));

        assertEquals(0, TestSpark.nibble("calibrate", "--input", table.toString()).code());
        Path stats = table.resolve("stats");
        assertTrue(Files.exists(stats.resolve("stats.json")));
        String tensor = "model.layers.0.mlp.down_proj.weight";
        Row r = TestSpark.session().read().parquet(stats.resolve("channels").toString())
                .where("tensor = '" + tensor + "' AND row = 5").collectAsList().get(0);
        byte[] data = (byte[]) TestSpark.session().read().parquet(table.resolve("tensors").toString())
                .where("tensor = '" + tensor + "' AND row = 5").collectAsList().get(0).get(3);
        ChannelStats expected = ChannelStats.of(Floats.decode(data, DType.F32));
        assertEquals(expected.absMax(), r.getFloat(r.fieldIndex("abs_max")));
        assertEquals(expected.p999Abs(), r.getFloat(r.fieldIndex("p999_abs")));
        assertEquals(expected.kurtosis(), r.getDouble(r.fieldIndex("kurtosis")), 1e-12);
        long tensors = TestSpark.session().read().parquet(stats.resolve("tensors").toString()).count();
        assertEquals(Tables.manifest(table).tensors().size(), tensors);

        Path q = quantize(table, recipe.toString());
        for (TensorEntry e : Tables.manifest(q).tensors()) {
            if (e.quant().scheme() != null) {
                assertNotNull(e.quant().sqnrDb(), e.info().name());
                assertTrue(e.quant().sqnrDb() > 10, e.info().name() + " SQNR " + e.quant().sqnrDb());
            }
        }
    }

    @Test
    void badRecipesAreRejectedNamingTheLine() throws Exception {
        Path ckpt = ShardRoundTripTest.tinyCheckpoint(tmp.resolve("ckpt-bad"), DType.F32, 0);
        Path table = tmp.resolve("bad");
        assertEquals(0, TestSpark.nibble("shard", "--input", ckpt.toString(), "--output", table.toString()).code());
        Map<String, String> bad = new HashMap<>();
        bad.put("bits3", "{\n \"default\": {\"bits\": 3}\n}");
        bad.put("group0", "{\n \"default\":\n  {\"bits\": 4, \"group_size\": 0}\n}");
        bad.put("unknown", "{\n \"default\": {\"bits\": 4},\n \"colour\": \"red\"\n}");
        bad.put("regex", "{\n \"default\": {\"bits\": 4},\n \"overrides\": [\n  {\"match\": \"(unclosed\", \"keep\": true}]\n}");
        for (Map.Entry<String, String> b : bad.entrySet()) {
            Path recipe = tmp.resolve(b.getKey() + ".json");
            Files.writeString(recipe, b.getValue());
            Path out = tmp.resolve("out-" + b.getKey());
            TestSpark.Run r = TestSpark.nibble("quantize", "--input", table.toString(), "--output", out.toString(),
                    "--recipe", recipe.toString());
            assertEquals(3, r.code(), b.getKey());
            assertTrue(r.err().contains(recipe.toString()) && r.err().contains("line"), b.getKey() + ": " + r.err());
            assertFalse(Files.exists(out));
        }
    }

    private static double totalSquaredError(Manifest m) {
        double total = 0;
        for (TensorEntry e : m.tensors()) {
            if (e.quant().error() != null) {
                total += e.quant().error().mse() * e.info().elementCount();
            }
        }
        return total;
    }

    private static Map<String, List<Row>> rowsByTensor(Path table) {
        Map<String, List<Row>> out = new HashMap<>();
        for (Row r : TestSpark.session().read().parquet(table.resolve("tensors").toString()).orderBy("tensor", "row").collectAsList()) {
            out.computeIfAbsent(r.getString(0), k -> new java.util.ArrayList<>()).add(r);
        }
        return out;
    }
}
