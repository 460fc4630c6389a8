package nibble.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code calibrate --data [--hessian]} on stories260K: activation statistics and Hessians that do not
 * depend on the number of partitions (and so neither does the quantized table), and GPTQ against the
 * importance-weighted clip search, the unweighted one and min/max, scored on sequences sampled with
 * another seed.
 */
class CalibrateActivationsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Calibration sequences' seed; evaluation samples with {@link #EVAL_SEED}, which calibration never sees. */
    private static final String CALIBRATION_SEED = "20261206";
    private static final String EVAL_SEED = "7";
    @TempDir
    static Path tmp;
    static Path table;
    static Path data;

    @BeforeAll
    static void setUp() {
        Path model = TestSpark.stories260K();
        if (model == null || !Files.exists(model)) {
            System.out.println("skipping calibrate tests: ../shared/models/stories260K.bin is absent");
            return;
        }
        table = tmp.resolve("table");
        assertEquals(0, TestSpark.nibble("shard", "--input", model.toString(), "--output", table.toString()).code());
        data = tmp.resolve("calibration");
        assertEquals(0, TestSpark.nibble("sample", "--model", table.toString(), "--output", data.toString(),
                "--sequences", "32", "--sequence-length", "128", "--seed", CALIBRATION_SEED).code());
    }

    private static Path calibrate(String name, String partitions) {
        return calibrate(name, partitions, false);
    }

    private static Path calibrate(String name, String partitions, boolean hessian) {
        Path stats = tmp.resolve(name);
        if (!Files.exists(stats.resolve("stats.json"))) {
            List<String> args = new java.util.ArrayList<>(List.of("calibrate", "--input", table.toString(), "--output", stats.toString(),
                    "--data", data.toString(), "--partitions", partitions));
            if (hessian) {
                args.add("--hessian");
            }
            TestSpark.Run r = TestSpark.nibble(args.toArray(String[]::new));
            assertEquals(0, r.code(), r.err());
        }
        return stats;
    }

    private static Path quantize(String recipe, Path stats, String name) {
        Path out = tmp.resolve(name);
        if (!Files.exists(out.resolve("manifest.json"))) {
            TestSpark.Run r = TestSpark.nibble("quantize", "--input", table.toString(), "--output", out.toString(),
                    "--recipe", recipe, "--stats", stats.toString());
            assertEquals(0, r.code(), r.err());
        }
        return out;
    }

    @Test
    void oneAndManyPartitionsGiveTheSameStatisticsAndTheSameQuantizedTable() throws Exception {
        Assumptions.assumeTrue(table != null, "stories260K is absent");
        long started = System.nanoTime();
        Path one = calibrate("stats-1", "1");
        Path many = calibrate("stats-7", "7");
        System.out.printf("calibrate 32 x 128 tokens twice: %.1f s%n", (System.nanoTime() - started) / 1e9);
        Map<String, byte[]> a = Tables.files(one);
        Map<String, byte[]> b = Tables.files(many);
        assertEquals(new TreeSet<>(a.keySet()), new TreeSet<>(b.keySet()));
        assertTrue(a.keySet().stream().anyMatch(k -> k.startsWith("activations/") && k.endsWith(".parquet")), a.keySet().toString());
        for (String k : a.keySet()) {
            assertArrayEquals(a.get(k), b.get(k), k);
        }

        JsonNode record = JSON.readTree(a.get("stats.json"));
        JsonNode cal = record.get("calibration");
        assertEquals("data", cal.get("kind").asText());
        assertEquals(Long.parseLong(CALIBRATION_SEED), cal.get("seed").asLong());
        assertEquals(32, cal.get("sequences").asLong());
        assertEquals(32 * 128, cal.get("tokens").asLong());
        assertTrue(cal.get("checksum").asText().matches("[0-9a-f]{8}"), cal.toString());
        // stories260K ties its head to the embedding: every 2-D tensor reads a measured input
        assertEquals(0, cal.get("missing").size(), cal.toString());

        // the statistics themselves: one row per 2-D tensor, count = tokens, mean x² >= (mean |x|)², max |x|² >= mean x²
        List<Row> rows = TestSpark.session().read().parquet(one.resolve("activations").toString()).collectAsList();
        assertEquals(cal.get("statistic_tensors").asInt(), rows.size());
        assertEquals(5 * 7 + 1, rows.size()); // 5 layers of q,k,v,o,gate,up,down, and the tied embedding as the head
        for (Row r : rows) {
            assertEquals(32L * 128, r.getLong(r.fieldIndex("count")));
            List<Double> sq = r.getList(r.fieldIndex("mean_sq"));
            List<Double> abs = r.getList(r.fieldIndex("mean_abs"));
            List<Float> max = r.getList(r.fieldIndex("max_abs"));
            assertEquals(r.getInt(r.fieldIndex("channels")), sq.size());
            for (int c = 0; c < sq.size(); c++) {
                assertTrue(sq.get(c) >= abs.get(c) * abs.get(c) * (1 - 1e-12), r.getString(0) + " channel " + c);
                assertTrue((double) max.get(c) * max.get(c) >= sq.get(c) * (1 - 1e-6), r.getString(0) + " channel " + c);
            }
        }

        Path q1 = quantize("int4-g32-imatrix", one, "q-imatrix-1");
        Path q7 = quantize("int4-g32-imatrix", many, "q-imatrix-7");
        Map<String, byte[]> x = Tables.files(q1);
        Map<String, byte[]> y = Tables.files(q7);
        assertEquals(new TreeSet<>(x.keySet()), new TreeSet<>(y.keySet()));
        for (String k : x.keySet()) {
            assertArrayEquals(x.get(k), y.get(k), k);
        }
        // and the weighting changed something: not the bytes of the unweighted search
        Path mse = quantize("int4-g32-mse", one, "q-mse");
        assertFalse(java.util.Arrays.equals(Tables.manifest(q1).toJson(), Tables.manifest(mse).toJson()));
    }

    @Test
    void hessiansAndTheGptqTableDoNotDependOnPartitions() throws Exception {
        Assumptions.assumeTrue(table != null, "stories260K is absent");
        long started = System.nanoTime();
        Path one = calibrate("stats-h1", "1", true);
        Path many = calibrate("stats-h8", "8", true);
        System.out.printf("calibrate --hessian 32 x 128 tokens twice: %.1f s%n", (System.nanoTime() - started) / 1e9);
        Map<String, byte[]> a = Tables.files(one);
        Map<String, byte[]> b = Tables.files(many);
        assertEquals(new TreeSet<>(a.keySet()), new TreeSet<>(b.keySet()));
        for (String k : a.keySet()) {
            assertArrayEquals(a.get(k), b.get(k), k);
        }
        // one file per linear input: 4 per layer and the head's; the activation statistics are those of a run without --hessian
        assertEquals(5 * 4 + 1, a.keySet().stream().filter(k -> k.startsWith("hessians/") && k.endsWith(".parquet")).count(),
                a.keySet().toString());
        Map<String, byte[]> plain = Tables.files(calibrate("stats-1", "1"));
        for (String k : plain.keySet()) {
            if (k.startsWith("activations/") || k.startsWith("channels/") || k.startsWith("tensors/")) {
                assertArrayEquals(plain.get(k), a.get(k), k);
            }
        }
        JsonNode h = JSON.readTree(a.get("stats.json")).get("calibration").get("hessian");
        assertEquals(32 * 128, h.get("tokens").asLong());
        assertEquals(5 * 4 + 1, h.get("inputs").size());
        JsonNode first = h.get("inputs").get(0);
        assertEquals("hessians/part-00000.parquet", first.get("file").asText());
        assertEquals("model.layers.0.self_attn.q_proj.weight", first.get("tensors").get(0).asText());
        assertEquals(3, first.get("tensors").size());
        // the matrix: symmetric, its diagonal the activation statistics' mean x²
        int n = first.get("channels").asInt();
        List<Row> rows = TestSpark.session().read().parquet(one.resolve("hessians/part-00000.parquet").toString()).collectAsList();
        assertEquals(n, rows.size());
        double[] m = new double[n * n];
        for (Row r : rows) {
            java.nio.ByteBuffer v = java.nio.ByteBuffer.wrap((byte[]) r.get(r.fieldIndex("values"))).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (int c = 0; c < n; c++) {
                m[r.getInt(r.fieldIndex("row")) * n + c] = v.getDouble();
            }
        }
        Row act = TestSpark.session().read().parquet(one.resolve("activations").toString())
                .where("tensor = 'model.layers.0.self_attn.q_proj.weight'").collectAsList().get(0);
        List<Double> meanSq = act.getList(act.fieldIndex("mean_sq"));
        for (int i = 0; i < n; i++) {
            assertEquals(meanSq.get(i), m[i * n + i], 1e-12 * meanSq.get(i), "diagonal " + i);
            for (int j = 0; j < n; j++) {
                assertEquals(m[i * n + j], m[j * n + i]);
            }
        }

        Path q1 = quantize("int4-g32-gptq", one, "q-gptq-1");
        Path q8 = quantize("int4-g32-gptq", many, "q-gptq-8");
        Map<String, byte[]> x = Tables.files(q1);
        Map<String, byte[]> y = Tables.files(q8);
        assertEquals(new TreeSet<>(x.keySet()), new TreeSet<>(y.keySet()));
        for (String k : x.keySet()) {
            assertArrayEquals(x.get(k), y.get(k), k);
        }
    }

    @Test
    void aGptqRecipeWithoutHessiansIsRefused() throws Exception {
        Assumptions.assumeTrue(table != null, "stories260K is absent");
        Path out = tmp.resolve("q-gptq-refused");
        TestSpark.Run r = TestSpark.nibble("quantize", "--input", table.toString(), "--output", out.toString(),
                "--recipe", "int4-g32-gptq", "--stats", calibrate("stats-1", "1").toString());
        assertEquals(3, r.code(), r.err());
        List<String> lines = r.err().lines().filter(l -> l.startsWith("nibble ")).toList();
        assertEquals(1, lines.size(), r.err());
        assertTrue(lines.get(0).contains("needs the Hessians of " + table), lines.get(0));
        assertFalse(Files.exists(out));
    }

    @Test
    void gptqBeatsImportanceWeightedSearchBeatsUnweightedSearchBeatsMinMax() throws Exception {
        Assumptions.assumeTrue(table != null, "stories260K is absent");
        Path stats = calibrate("stats-h1", "1", true);
        Map<String, Double> kld = new LinkedHashMap<>();
        Map<String, Double> top1 = new LinkedHashMap<>();
        for (String recipe : List.of("int4-g32", "int4-g32-mse", "int4-g32-imatrix", "int4-g32-gptq")) {
            JsonNode m = evaluated(quantize(recipe, stats, "q-" + recipe + "-eval"), recipe);
            kld.put(recipe, m.get("kld_mean").get("mean").asDouble());
            top1.put(recipe, m.get("top1_agreement").get("mean").asDouble());
        }
        kld.forEach((k, v) -> System.out.printf("stories260K %-17s mean KLD %.5f  top-1 agreement %.4f%n", k, v, top1.get(k)));
        assertTrue(kld.get("int4-g32-gptq") < kld.get("int4-g32-imatrix"), "GPTQ below importance-weighted: " + kld);
        assertTrue(kld.get("int4-g32-imatrix") < kld.get("int4-g32-mse"), "importance-weighted below unweighted: " + kld);
        assertTrue(kld.get("int4-g32-mse") < kld.get("int4-g32"), "unweighted search below min/max: " + kld);
    }

    @Test
    void nf4ImportanceWeightedSearchBeatsUnweightedSearchBeatsAbsmax() throws Exception {
        Assumptions.assumeTrue(table != null, "stories260K is absent");
        Path stats = calibrate("stats-1", "1");
        Path mseRecipe = tmp.resolve("nf4-g64-mse.json");
        Files.writeString(mseRecipe, "{\"keep_1d\": true, \"default\": {\"bits\": 4, \"symmetric\": true, \"group_size\": 64, "
                + "\"codebook\": \"nf4\", \"range\": \"mse\"}, \"overrides\": [{\"match\": \"(?i).*norm.*\", \"keep\": true}]}");
        Map<String, Double> kld = new LinkedHashMap<>();
        for (String recipe : List.of("nf4-g64", mseRecipe.toString(), "nf4-g64-imatrix")) {
            String name = Path.of(recipe).getFileName().toString().replace(".json", "");
            kld.put(name, evaluated(quantize(recipe, stats, "q-" + name + "-eval"), name).get("kld_mean").get("mean").asDouble());
        }
        kld.forEach((k, v) -> System.out.printf("stories260K %-17s mean KLD %.5f%n", k, v));
        assertTrue(kld.get("nf4-g64-imatrix") < kld.get("nf4-g64-mse"), "importance-weighted below unweighted: " + kld);
        assertTrue(kld.get("nf4-g64-mse") < kld.get("nf4-g64"), "unweighted search below absmax: " + kld);
    }

    /** The model section of a quantized table's report against the original on the evaluation seed's sequences (once per name). */
    private static JsonNode evaluated(Path quantized, String name) throws Exception {
        Path out = tmp.resolve("eval-" + name);
        if (!Files.exists(out.resolve("report.json"))) {
            TestSpark.Run r = TestSpark.nibble("evaluate", "--original", table.toString(), "--quantized", quantized.toString(),
                    "--output", out.toString(), "--sequences", "24", "--sequence-length", "64", "--seed", EVAL_SEED);
            assertEquals(0, r.code(), r.err());
        }
        return JSON.readTree(Files.readAllBytes(out.resolve("report.json"))).get("model");
    }

    @Test
    void calibratesOnTextTokenizedWithTheTablesTokenizer() throws Exception {
        Assumptions.assumeTrue(table != null, "stories260K is absent");
        Path withTokenizer = BadInputMatrixTest.withByteTokenizer(table, tmp.resolve("table-tok"));
        Path text = tmp.resolve("calibration.txt");
        Files.writeString(text, "Once upon a time there was a little dog. He liked to run in the park with his friend, a big cat. ".repeat(3));
        Path stats = tmp.resolve("stats-text");
        TestSpark.Run r = TestSpark.nibble("calibrate", "--input", withTokenizer.toString(), "--output", stats.toString(),
                "--text", text.toString(), "--ctx", "64", "--partitions", "3");
        assertEquals(0, r.code(), r.err());
        JsonNode cal = JSON.readTree(Files.readAllBytes(stats.resolve("stats.json"))).get("calibration");
        int bytes = Files.readString(text).length(); // ASCII: one byte token per character
        assertEquals("text", cal.get("kind").asText());
        assertTrue(cal.get("seed").isNull(), cal.toString());
        assertEquals(bytes / 64, cal.get("sequences").asLong());
        assertEquals(bytes / 64 * 64, cal.get("tokens").asLong());
        assertEquals(5 * 7 + 1, TestSpark.session().read().parquet(stats.resolve("activations").toString()).count());
    }

    @Test
    void aRecipeNeedingActivationStatisticsWithoutThemIsRefused() throws Exception {
        Assumptions.assumeTrue(table != null, "stories260K is absent");
        Path weightsOnly = tmp.resolve("stats-weights");
        assertEquals(0, TestSpark.nibble("calibrate", "--input", table.toString(), "--output", weightsOnly.toString()).code());
        for (String recipe : List.of("int4-g32-imatrix", "int4-g32-awq")) {
            for (Path stats : List.of(weightsOnly, tmp.resolve("no-stats"))) {
                Path out = tmp.resolve("q-refused");
                TestSpark.Run r = TestSpark.nibble("quantize", "--input", table.toString(), "--output", out.toString(),
                        "--recipe", recipe, "--stats", stats.toString());
                assertEquals(3, r.code(), r.err());
                List<String> lines = r.err().lines().filter(l -> l.startsWith("nibble ")).toList();
                assertEquals(1, lines.size(), r.err());
                assertTrue(lines.get(0).contains("recipe '" + recipe + "' needs activation statistics of " + table), lines.get(0));
                assertFalse(Files.exists(out));
            }
        }
    }

    @Test
    void awqTablesDoNotDependOnPartitionsOrFilesAndRecordWhatWasFolded() throws Exception {
        Assumptions.assumeTrue(table != null, "stories260K is absent");
        Path q1 = quantize("int4-g32-awq", calibrate("stats-1", "1"), "q-awq-1");
        Path q7 = quantize("int4-g32-awq", calibrate("stats-7", "7"), "q-awq-7");
        // the same table in many small files: the input's split differs, the tensors' checksums (and so the statistics) do not
        Path small = tmp.resolve("table-small");
        assertEquals(0, TestSpark.nibble("shard", "--input", table.toString(), "--output", small.toString(), "--target-file-mb", "0.05")
                .code());
        assertTrue(Tables.manifest(small).files().size() > 8, "files: " + Tables.manifest(small).files().size());
        Path qs = tmp.resolve("q-awq-small");
        TestSpark.Run r = TestSpark.nibble("quantize", "--input", small.toString(), "--output", qs.toString(), "--recipe", "int4-g32-awq",
                "--stats", calibrate("stats-1", "1").toString());
        assertEquals(0, r.code(), r.err());
        Map<String, byte[]> x = Tables.files(q1);
        for (Path other : List.of(q7, qs)) {
            Map<String, byte[]> y = Tables.files(other);
            assertEquals(new TreeSet<>(x.keySet()), new TreeSet<>(y.keySet()));
            for (String k : x.keySet()) {
                if (!k.endsWith("manifest.json") && !k.endsWith("manifest.json.crc")) { // the manifest names its input
                    assertArrayEquals(x.get(k), y.get(k), other + " " + k);
                }
            }
        }
        JsonNode awq = JSON.readTree(x.get("manifest.json")).get("source").get("awq");
        assertEquals(20, awq.get("grid").asInt());
        assertEquals(JSON.readTree(Files.readAllBytes(q7.resolve("manifest.json"))).get("source").get("awq"), awq);
        JsonNode groups = awq.get("groups");
        assertEquals(5 * 4, groups.size()); // attn, o, ffn, down in each of 5 layers
        int scaled = 0;
        for (JsonNode g : groups) {
            double alpha = g.get("alpha").asDouble();
            assertTrue(alpha >= 0 && alpha < 1, g.toString());
            assertTrue(g.get("error").asDouble() <= g.get("error_unscaled").asDouble(), g.toString());
            scaled += alpha > 0 ? 1 : 0;
        }
        assertTrue(scaled > 0, "no group was scaled: " + groups);
        JsonNode first = groups.get(0);
        assertEquals("attn", first.get("input").asText());
        assertEquals("model.layers.0.input_layernorm.weight", first.get("folded_into").asText());
        assertEquals("model.layers.0.self_attn.v_proj.weight", groups.get(1).get("folded_into").asText());
        assertEquals("rows", groups.get(1).get("fold").asText());
        assertEquals("model.layers.0.mlp.up_proj.weight", groups.get(3).get("folded_into").asText());
        // the stored attention norm is the original divided by the recorded scales
        byte[] sb = java.util.Base64.getDecoder().decode(first.get("scales_f32_base64").asText());
        java.nio.FloatBuffer s = java.nio.ByteBuffer.wrap(sb).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        float[] before = normRow(table);
        float[] after = normRow(q1);
        assertEquals(before.length, s.remaining());
        boolean changed = false;
        for (int c = 0; c < before.length; c++) {
            assertEquals(before[c] / s.get(c), after[c], "channel " + c);
            changed |= before[c] != after[c];
        }
        assertEquals(first.get("alpha").asDouble() > 0, changed);
    }

    private static float[] normRow(Path t) {
        Row r = TestSpark.session().read().parquet(t.resolve("tensors").toString())
                .where("tensor = 'model.layers.0.input_layernorm.weight'").collectAsList().get(0);
        java.nio.FloatBuffer b = java.nio.ByteBuffer.wrap((byte[]) r.get(r.fieldIndex("data"))).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .asFloatBuffer();
        float[] out = new float[b.remaining()];
        b.get(out);
        return out;
    }

    @Test
    void awqBeatsRoundToNearest() throws Exception {
        Assumptions.assumeTrue(table != null, "stories260K is absent");
        Path stats = calibrate("stats-h1", "1", true);
        Map<String, Double> kld = new LinkedHashMap<>();
        Map<String, Double> top1 = new LinkedHashMap<>();
        for (String recipe : List.of("int4-g32", "int4-g32-mse", "int4-g32-imatrix", "int4-g32-gptq", "int4-g32-awq")) {
            JsonNode m = evaluated(quantize(recipe, stats, "q-" + recipe + "-eval"), recipe);
            kld.put(recipe, m.get("kld_mean").get("mean").asDouble());
            top1.put(recipe, m.get("top1_agreement").get("mean").asDouble());
        }
        kld.forEach((k, v) -> System.out.printf("stories260K awq run %-17s mean KLD %.5f  top-1 agreement %.4f%n", k, v, top1.get(k)));
        assertTrue(kld.get("int4-g32-awq") < kld.get("int4-g32"), "AWQ below round-to-nearest: " + kld);
    }
}
