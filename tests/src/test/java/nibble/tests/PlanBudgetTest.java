package nibble.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code nibble plan} on stories260K: a budget in mean KLD, measured per tensor on calibration
 * sequences, becomes a recipe whose model meets the budget on held-out sequences (another seed) and
 * is smaller than the all-int8 model; the recipe does not depend on the partition count.
 */
class PlanBudgetTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TARGET = "0.2";
    private static final String PPL_TARGET = "0.1";
    @TempDir
    static Path tmp;
    static Path table;
    static Path data;
    /** More calibration sequences for the perplexity budget: NLL increases are noisier than KLDs. */
    static Path wideData;

    @BeforeAll
    static void setUp() {
        Path model = TestSpark.stories260K();
        if (model == null || !Files.exists(model)) {
            System.out.println("skipping plan tests: ../shared/models/stories260K.bin is absent");
            return;
        }
        table = tmp.resolve("table");
        assertEquals(0, TestSpark.nibble("shard", "--input", model.toString(), "--output", table.toString()).code());
        wideData = tmp.resolve("calibration-32");
        assertEquals(0, TestSpark.nibble("sample", "--model", table.toString(), "--output", wideData.toString(),
                "--sequences", "32", "--sequence-length", "64", "--seed", "20261208").code());
        data = tmp.resolve("calibration");
        assertEquals(0, TestSpark.nibble("sample", "--model", table.toString(), "--output", data.toString(),
                "--sequences", "8", "--sequence-length", "64", "--seed", "20261207").code());
    }

    private static Path plan(String name, String partitions) {
        return plan(name, partitions, "--target-kld", TARGET);
    }

    private static Path plan(String name, String partitions, String flag, String target) {
        Path recipe = tmp.resolve(name + ".json");
        Path calibration = flag.equals("--target-kld") ? data : wideData;
        TestSpark.Run r = TestSpark.nibble("plan", "--input", table.toString(), "--output", recipe.toString(), "--data", calibration.toString(),
                flag, target, "--partitions", partitions);
        assertEquals(0, r.code(), r.err());
        System.out.println(r.out());
        return recipe;
    }

    private static JsonNode quantizeAndEvaluate(String recipe, String name) throws Exception {
        return quantizeAndEvaluate(recipe, name, "--max-kld", TARGET);
    }

    private static JsonNode quantizeAndEvaluate(String recipe, String name, String gate, String target) throws Exception {
        Path q = tmp.resolve("q-" + name);
        TestSpark.Run r = TestSpark.nibble("quantize", "--input", table.toString(), "--output", q.toString(), "--recipe", recipe);
        assertEquals(0, r.code(), r.err());
        Path eval = tmp.resolve("eval-" + name);
        r = TestSpark.nibble("evaluate", "--original", table.toString(), "--quantized", q.toString(), "--output", eval.toString(),
                "--sequences", "24", "--sequence-length", "64", "--seed", "7", gate, target);
        JsonNode model = JSON.readTree(eval.resolve("report.json").toFile()).get("model");
        double pplIncrease = model.get("perplexity_ratio").asDouble() - 1;
        System.out.printf("stories260K %s: %d bytes, mean KLD %.5f, perplexity increase %.4f (exit %d)%n", name,
                Tables.manifest(q).storedBytes(), model.get("kld_mean").get("mean").asDouble(), pplIncrease, r.code());
        return JSON.createObjectNode().put("bytes", Tables.manifest(q).storedBytes()).put("code", r.code())
                .put("kld", model.get("kld_mean").get("mean").asDouble()).put("ppl_increase", pplIncrease);
    }

    @Test
    void thePlanMeetsItsBudgetOnHeldOutSequencesAndIsSmallerThanInt8() throws Exception {
        Assumptions.assumeTrue(table != null, "stories260K is absent");
        Path one = plan("plan-1", "1");
        Path many = plan("plan-5", "5");
        assertArrayEquals(Files.readAllBytes(one), Files.readAllBytes(many));

        JsonNode planned = quantizeAndEvaluate(one.toString(), "plan");
        JsonNode all8 = quantizeAndEvaluate(int8Recipe().toString(), "int8-g32");
        JsonNode all4 = quantizeAndEvaluate("int4-g32-mse", "int4-g32-mse");
        assertEquals(0, planned.get("code").asInt(), "the gate at the budget passes");
        assertTrue(planned.get("kld").asDouble() <= Double.parseDouble(TARGET), planned.toString());
        assertTrue(planned.get("bytes").asLong() < all8.get("bytes").asLong(), planned + " vs " + all8);
        assertTrue(all4.get("kld").asDouble() > Double.parseDouble(TARGET), "the budget is not met without a plan: " + all4);
        String recipe = Files.readString(one);
        assertTrue(recipe.contains("\"bits\" : 4") && recipe.contains("\"bits\" : 8"), recipe);
    }

    @Test
    void aPerplexityBudgetIsMetOnHeldOutSequences() throws Exception {
        Assumptions.assumeTrue(table != null, "stories260K is absent");
        Path recipe = plan("plan-ppl", "2", "--target-ppl-increase", PPL_TARGET);
        JsonNode planned = quantizeAndEvaluate(recipe.toString(), "plan-ppl", "--max-ppl-increase", PPL_TARGET);
        JsonNode all4 = quantizeAndEvaluate("int4-g32-mse", "int4-g32-mse-ppl", "--max-ppl-increase", PPL_TARGET);
        JsonNode all8 = quantizeAndEvaluate(int8Recipe().toString(), "int8-g32-ppl", "--max-ppl-increase", PPL_TARGET);
        assertEquals(0, planned.get("code").asInt(), "the gate at the budget passes: " + planned);
        assertTrue(planned.get("ppl_increase").asDouble() <= Double.parseDouble(PPL_TARGET), planned.toString());
        assertTrue(planned.get("bytes").asLong() < all8.get("bytes").asLong(), planned + " vs " + all8);
        assertTrue(all4.get("ppl_increase").asDouble() > Double.parseDouble(PPL_TARGET), "the budget is not met without a plan: " + all4);
        assertTrue(Files.readString(recipe).contains("target perplexity increase " + PPL_TARGET), Files.readString(recipe));
    }

    private static Path int8Recipe() throws Exception {
        Path int8 = tmp.resolve("int8-g32.json");
        Files.writeString(int8, "{\"default\": {\"bits\": 8, \"group_size\": 32}, \"overrides\": [{\"match\": \"(?i).*norm.*\", \"keep\": true}]}");
        return int8;
    }

    @Test
    void aPlanWithBothOrNoTargetIsRefused() {
        Assumptions.assumeTrue(table != null, "stories260K is absent");
        for (String[] targets : new String[][] {{"--target-kld", TARGET, "--target-ppl-increase", PPL_TARGET}, {}}) {
            java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("plan", "--input", table.toString(), "--output",
                    tmp.resolve("y.json").toString(), "--data", data.toString()));
            args.addAll(java.util.List.of(targets));
            TestSpark.Run r = TestSpark.nibble(args.toArray(String[]::new));
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains("exactly one of --target-kld and --target-ppl-increase"), r.err());
            assertFalse(Files.exists(tmp.resolve("y.json")));
        }
    }

    @Test
    void aPlanWithoutCalibrationDataIsRefused() {
        Assumptions.assumeTrue(table != null, "stories260K is absent");
        TestSpark.Run r = TestSpark.nibble("plan", "--input", table.toString(), "--output", tmp.resolve("x.json").toString(),
                "--target-kld", TARGET);
        assertEquals(2, r.code(), r.err());
        assertFalse(Files.exists(tmp.resolve("x.json")));
    }
}
