package nibble.jobs.action;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import nibble.common.json.Json;
import nibble.common.quant.Recipe;
import nibble.common.report.Gate;
import nibble.jobs.Command;
import nibble.jobs.EvaluateJob;
import nibble.jobs.ShardJob;
import nibble.jobs.cli.UsageException;
import org.junit.jupiter.api.Test;

/** Arguments are validated once, where they are made, whoever makes them; no SparkSession needed. */
class ArgsTest {
    private static final Gate.Thresholds NO_GATE = new Gate.Thresholds(null, null, null);

    @Test
    void argsRejectBadValuesWithTheFlagName() {
        assertEquals("--compression must be one of", message(() -> new ShardArgs("a", "b", 1, "brotli", false)).substring(0, 28));
        assertTrue(message(() -> new ShardArgs("a", "b", 0, "zstd", false)).contains("--target-file-mb"));
        assertTrue(message(() -> new CalibrateArgs("t", null, 1.0, false)).contains("--outlier-factor"));
        assertTrue(message(() -> EvaluateArgs.sampled("o", "q", "e", 0, 16, 1, NO_GATE, false)).contains("--sequences"));
        assertTrue(message(() -> new SampleArgs("m", "o", 2, 16, 1, -1f, false)).contains("--temperature"));
        assertEquals("zstd", new ShardArgs("a", "b", 1, "ZSTD", false).compression());
    }

    @Test
    void everyUriArgumentRefusesCredentialsWithoutEchoingThem() {
        String bad = "s3a://AKIAKEY:TOPSECRET@bucket/x";
        Recipe r = Recipe.load("int4-g128");
        RegistryLayout good = new RegistryLayout("/o");
        Map<String, Runnable> cases = new java.util.LinkedHashMap<>();
        cases.put("--input", () -> new ShardArgs(bad, "o", 1, "zstd", false));
        cases.put("--output", () -> ShardArgs.of("i", bad, false));
        cases.put("--input ", () -> new CalibrateArgs(bad, null, 5, false));
        cases.put("--output ", () -> new CalibrateArgs("t", bad, 5, false));
        cases.put("--stats", () -> new QuantizeArgs("t", "q", "int4-g128", r, bad, 1, false));
        cases.put("--recipe", () -> QuantizeArgs.of("t", "q", bad, false));
        cases.put("--original", () -> EvaluateArgs.sampled(bad, "q", "e", 4, 16, 1, NO_GATE, false));
        cases.put("--quantized", () -> EvaluateArgs.sampled("o", bad, "e", 4, 16, 1, NO_GATE, false));
        cases.put("--data", () -> new EvaluateArgs("o", "q", "e", bad, 4, 16, 1, 1f, nibble.common.model.ActivationQuant.NONE, NO_GATE, 0, false));
        cases.put("--model", () -> new SampleArgs(bad, "o", 2, 16, 1, 1f, false));
        cases.put("--input  ", () -> new PipelineArgs(bad, good, "int4-g128", r, 4, 16, 7, NO_GATE, false));
        cases.put("--output  ", () -> new PipelineArgs("/i", new RegistryLayout(bad), "int4-g128", r, 4, 16, 7, NO_GATE, false));
        cases.forEach((option, make) -> {
            String m = message(make);
            assertTrue(m.startsWith(option.strip() + ": credentials in the URI are not accepted"), option + ": " + m);
            assertTrue(!m.contains("TOPSECRET") && !m.contains("AKIAKEY"), m);
        });
        // through the command line too, before the recipe is even looked up
        assertTrue(message(() -> parse(new nibble.jobs.QuantizeJob(), "--input", "t", "--output", "q", "--recipe", bad)).startsWith("--recipe:"));
        assertTrue(message(() -> parse(new nibble.jobs.PipelineJob(), "--input", bad, "--output", "o")).startsWith("--input:"));
        assertTrue(message(() -> parse(new nibble.jobs.SynthJob(), "--output", bad)).startsWith("--output:"));
        assertTrue(message(() -> parse(new nibble.jobs.SynthJob(), "--output", "s3a://bucket/x")).contains("local folder"));
    }

    @Test
    void badGateThresholdsAreUsageErrorsNamingTheFlag() {
        assertTrue(message(() -> parse(new EvaluateJob(), "--original", "o", "--quantized", "q", "--output", "e", "--max-kld", "-1"))
                .startsWith("--max-kld must be a non-negative number"));
        assertTrue(message(() -> parse(new EvaluateJob(), "--original", "o", "--quantized", "q", "--output", "e", "--min-top1", "2"))
                .startsWith("--min-top1 must be between 0 and 1"));
    }

    @Test
    void defaultsFollowTheTable() {
        assertEquals("s3a://r/m/v/table/stats", new CalibrateArgs("s3a://r/m/v/table", null, 5, false).output());
        assertEquals("/t/stats", QuantizeArgs.of("/t", "/q", "int4-g128", false).stats());
    }

    @Test
    void pipelineStagesUseTheRegistryLayout() {
        RegistryLayout layout = new RegistryLayout("s3a://registry/m/v1-int4-g128/");
        assertEquals("s3a://registry/m/v1-int4-g128/table", layout.table());
        assertEquals("s3a://registry/m/v1-int4-g128/table/stats", layout.stats());
        assertEquals("s3a://registry/m/v1-int4-g128/_SUCCESS", layout.success());
        PipelineArgs p = new PipelineArgs("s3a://registry/m/v1/", layout, "int4-g128", Recipe.load("int4-g128"), 4, 16, 7, NO_GATE, false);
        assertEquals(layout.table(), p.shard().output());
        assertEquals(layout.stats(), p.calibrate().output());
        assertEquals(layout.stats(), p.quantize().stats());
        assertEquals(layout.quantized(), p.quantize().output());
        assertEquals(layout.eval(), p.evaluate().output());
        assertEquals(7, p.evaluate().seed());
        assertTrue(p.shard().overwrite() && p.calibrate().overwrite() && p.quantize().overwrite() && p.evaluate().overwrite());
    }

    @Test
    void successMarkerIsValidJsonWhateverThePath() {
        String input = "/tmp/a \"quoted\" \\ back\\slash/v1";
        PipelineArgs p = new PipelineArgs(input, new RegistryLayout("/tmp/out"), "int8-channel", Recipe.load("int8-channel"), 4, 16, 7,
                NO_GATE, false);
        Map<String, Object> m = Json.parseObjectToMap(PipelineAction.marker(p), "_SUCCESS");
        assertEquals(input, m.get("input"));
        assertEquals("int8-channel", m.get("recipe"));
        assertTrue(new String(PipelineAction.marker(p), StandardCharsets.UTF_8).endsWith("}\n"));
    }

    @Test
    void commandsParseFlagsIntoTheSameArgs() {
        ShardArgs s = parse(new ShardJob(), "--input", "in", "--output", "out", "--target-file-mb", "0.5", "--compression", "zstd");
        assertEquals(new ShardArgs("in", "out", 1 << 19, "zstd", false), s);
        EvaluateArgs e = parse(new EvaluateJob(), "--original", "o", "--quantized", "q", "--output", "e", "--max-kld", "0.05");
        assertEquals(EvaluateArgs.sampled("o", "q", "e", 64, 128, 1234, new Gate.Thresholds(0.05, null, null), false), e);
    }

    private static <A> A parse(Command<A> command, String... flags) {
        return command.args(command.spec().parse(flags));
    }

    private static String message(Runnable r) {
        return assertThrows(UsageException.class, r::run).getMessage();
    }
}
