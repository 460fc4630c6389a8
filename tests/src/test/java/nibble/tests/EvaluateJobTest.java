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
}
