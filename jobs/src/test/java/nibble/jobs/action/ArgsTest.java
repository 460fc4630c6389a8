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
