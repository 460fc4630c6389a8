package nibble.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The evaluate job on stories260K: exactness against itself, the orderings between recipes, the gate. */
class EvaluateJobTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path tmp;
    static Path table;

    @BeforeAll
    static void shard() {
        Path model = TestSpark.stories260K();
        if (model == null || !Files.exists(model)) {
            System.out.println("skipping evaluate tests: ../shared/models/stories260K.bin is absent");
            return;
        }
        table = tmp.resolve("table");
        assertEquals(0, TestSpark.nibble("shard", "--input", model.toString(), "--output", table.toString()).code());
    }

    private static Path quantize(String recipe) {
        Path out = tmp.resolve("q-" + Path.of(recipe).getFileName());
        if (!Files.exists(out.resolve("manifest.json"))) {
            assertEquals(0, TestSpark.nibble("quantize", "--input", table.toString(), "--output", out.toString(),
                    "--recipe", recipe).code());
        }
        return out;
    }

    private static TestSpark.Run evaluate(Path quantized, Path out, String... extra) {
        List<String> args = new java.util.ArrayList<>(List.of("evaluate", "--original", table.toString(), "--quantized",
                quantized.toString(), "--output", out.toString(), "--sequences", "24", "--sequence-length", "64", "--seed", "7",
                "--overwrite"));
        args.addAll(List.of(extra));
        return TestSpark.nibble(args.toArray(new String[0]));
    }

    private static JsonNode report(Path out) throws Exception {
        return JSON.readTree(Files.readAllBytes(out.resolve("report.json")));
    }

    @Test
    void modelAgainstItselfHasZeroDivergence() throws Exception {
        Assumptions.assumeTrue(table != null, "stories260K is absent");
        Path keepAll = tmp.resolve("keep-all.json");
        Files.writeString(keepAll, "{\"default\": {\"bits\": 8}, \"overrides\": [{\"match\": \".*\", \"keep\": true}]}");
        Path out = tmp.resolve("eval-self");
        TestSpark.Run r = evaluate(quantize(keepAll.toString()), out);
        assertEquals(0, r.code(), r.err());
        JsonNode m = report(out).get("model");
        assertEquals(0.0, m.get("kld_mean").get("mean").asDouble());
        assertEquals(1.0, m.get("top1_agreement").get("mean").asDouble());
        assertEquals(m.get("perplexity_original").get("mean").asDouble(), m.get("perplexity_quantized").get("mean").asDouble());
        assertEquals(24 * 63, m.get("tokens").asLong());
        for (JsonNode t : report(out).get("tensors")) {
            assertEquals(0.0, t.get("mse").asDouble(), t.get("name").asText());
        }
    }

    @Test
    void int8BeatsEvery4BitRecipeAndTheMseSearchBeatsMinMax() throws Exception {
        Assumptions.assumeTrue(table != null, "stories260K is absent");
        Map<String, double[]> results = new LinkedHashMap<>();
        for (String recipe : List.of("int8-channel", "int4-g32", "int4-g128", "int4-g32-mse", "nf4-g64")) {
            Path out = tmp.resolve("eval-" + recipe);
            TestSpark.Run r = evaluate(quantize(recipe), out);
            assertEquals(0, r.code(), r.err());
            JsonNode m = report(out).get("model");
            results.put(recipe, new double[] {m.get("kld_mean").get("mean").asDouble(), m.get("top1_agreement").get("mean").asDouble()});
        }
        results.forEach((k, v) -> System.out.printf("stories260K %-13s mean KLD %.5f  top-1 agreement %.4f%n", k, v[0], v[1]));
        double[] int8 = results.get("int8-channel");
        for (String four : List.of("int4-g32", "int4-g128", "int4-g32-mse", "nf4-g64")) {
            assertTrue(int8[0] < results.get(four)[0], "int8 KLD below " + four);
            assertTrue(int8[1] > results.get(four)[1], "int8 top-1 above " + four);
        }
        assertTrue(results.get("int4-g32-mse")[0] < results.get("int4-g32")[0], "mse search KLD below min/max");
    }

    @Test
    void gateFailureWritesTheReportAndExitsFour() throws Exception {
        Assumptions.assumeTrue(table != null, "stories260K is absent");
        Path out = tmp.resolve("eval-gate");
        TestSpark.Run r = evaluate(quantize("int4-g128"), out, "--max-kld", "0.000001", "--min-top1", "0.1");
        assertEquals(4, r.code(), r.err());
        assertTrue(r.err().contains("gate failed"), r.err());
        JsonNode gate = report(out).get("gate");
        assertEquals(false, gate.get("passed").asBoolean());
        assertEquals(1, gate.get("failures").size(), gate.toString());
        String html = Files.readString(out.resolve("report.html"));
        assertTrue(html.contains("data:image/png;base64,"));
        assertTrue(Files.readString(out.resolve("report.md")).contains("FAIL"));
        assertTrue(Files.isDirectory(out.resolve("channels")));
    }

    @Test
    void evaluatesSampledSequencesGivenAsData() throws Exception {
        Assumptions.assumeTrue(table != null, "stories260K is absent");
        Path data = tmp.resolve("sequences");
        assertEquals(0, TestSpark.nibble("sample", "--model", table.toString(), "--output", data.toString(),
                "--sequences", "6", "--sequence-length", "32", "--seed", "99").code());
        Path out = tmp.resolve("eval-data");
        TestSpark.Run r = TestSpark.nibble("evaluate", "--original", table.toString(), "--quantized",
                quantize("int8-channel").toString(), "--output", out.toString(), "--data", data.toString(),
                "--activations", "int8-dynamic");
        assertEquals(0, r.code(), r.err());
        JsonNode rep = report(out);
        assertEquals(6, rep.get("model").get("sequences").asInt());
        assertEquals(6 * 31, rep.get("model").get("tokens").asLong());
        assertEquals("int8-dynamic", rep.get("activations").asText());
    }

    @Test
    void distributedResultEqualsSinglePartitionResult() throws Exception {
        Assumptions.assumeTrue(table != null, "stories260K is absent");
        Path one = tmp.resolve("eval-one");
        Path many = tmp.resolve("eval-many");
        assertEquals(0, evaluate(quantize("int8-channel"), one, "--partitions", "1").code());
        assertEquals(0, evaluate(quantize("int8-channel"), many, "--partitions", "7").code());
        JsonNode a = report(one);
        JsonNode b = report(many);
        assertEquals(a.get("model"), b.get("model"));
        assertEquals(a.get("tensors"), b.get("tensors"));
        assertEquals(Files.readString(one.resolve("report.md")).replace(one.toString(), "X"),
                Files.readString(many.resolve("report.md")).replace(many.toString(), "X"));
    }

    @Test
    void badInputsAreRejectedWithoutAReport() throws Exception {
        Assumptions.assumeTrue(table != null, "stories260K is absent");
        // tokens outside the vocabulary
        Path data = tmp.resolve("bad-tokens");
        TestSpark.session().createDataFrame(List.of(org.apache.spark.sql.RowFactory.create(
                        scala.jdk.javaapi.CollectionConverters.asScala(List.of(1, 5, 9999, 3)).toSeq())),
                new org.apache.spark.sql.types.StructType().add("tokens",
                        org.apache.spark.sql.types.DataTypes.createArrayType(org.apache.spark.sql.types.DataTypes.IntegerType)))
                .write().parquet(data.toString());
        assertRejected(TestSpark.nibble("evaluate", "--original", table.toString(), "--quantized",
                quantize("int8-channel").toString(), "--output", tmp.resolve("e1").toString(), "--data", data.toString()),
                tmp.resolve("e1"), "9999");
        // a quantized table made from another model
        Path other = ShardRoundTripTest.tinyCheckpoint(tmp.resolve("other-ckpt"), nibble.common.DType.F32, 0);
        Path otherTable = tmp.resolve("other-table");
        assertEquals(0, TestSpark.nibble("shard", "--input", other.toString(), "--output", otherTable.toString()).code());
        Path otherQ = tmp.resolve("other-q");
        assertEquals(0, TestSpark.nibble("quantize", "--input", otherTable.toString(), "--output", otherQ.toString()).code());
        assertRejected(evaluate(otherQ, tmp.resolve("e2")), tmp.resolve("e2"), "was not quantized from");
        // a quantized table with a row missing (its manifest still lists it)
        Path q = quantize("int8-channel");
        Path holed = tmp.resolve("q-holed");
        TestSpark.session().read().parquet(q.resolve("tensors").toString())
                .where("NOT (tensor = 'model.layers.2.mlp.up_proj.weight' AND row = 17)")
                .coalesce(1).write().parquet(holed.resolve("tensors").toString());
        Files.copy(q.resolve("manifest.json"), holed.resolve("manifest.json"));
        java.util.List<String> parts;
        try (var files = Files.list(holed.resolve("tensors"))) {
            parts = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".parquet")).toList();
        }
        // point the manifest's file list at what is there
        String manifest = Files.readString(holed.resolve("manifest.json"));
        manifest = manifest.replaceAll("\"path\" : \"tensors/part-00000.parquet\"", "\"path\" : \"tensors/" + parts.get(0) + "\"");
        Files.writeString(holed.resolve("manifest.json"), manifest);
        assertRejected(evaluate(holed, tmp.resolve("e3")), tmp.resolve("e3"), "row 17");
    }

    private static void assertRejected(TestSpark.Run r, Path out, String fragment) {
        assertEquals(3, r.code(), r.err());
        assertTrue(r.err().contains(fragment), r.err());
        assertTrue(!Files.exists(out.resolve("report.json")), "no report claiming success");
    }
}
