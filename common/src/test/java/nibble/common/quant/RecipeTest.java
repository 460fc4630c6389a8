package nibble.common.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import nibble.common.InvalidInputException;

class RecipeTest {

    private static final long[] MATRIX = {4096, 4096};

    @Test
    void everyShippedRecipeParsesFromConfAndClasspath() throws IOException {
        Path dir = Path.of("../conf/recipes");
        Set<String> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.map(p -> p.getFileName().toString().replace(".json", "")).collect(Collectors.toCollection(TreeSet::new));
        }
        assertEquals(new TreeSet<>(Recipe.BUILT_IN), files);
        for (String name : Recipe.BUILT_IN) {
            Recipe fromFile = Recipe.load(dir.resolve(name + ".json").toString());
            Recipe builtIn = Recipe.load(name);
            assertEquals(fromFile.defaultScheme(), builtIn.defaultScheme(), name);
            assertTrue(fromFile.keep1d(), name);
            assertSame(Treatment.KEEP, builtIn.schemeFor("model.layers.0.input_layernorm.weight", MATRIX), name);
            assertSame(Treatment.KEEP, builtIn.schemeFor("model.layers.0.mlp.up_proj.bias", new long[] {4096}), name);
            assertFalse(builtIn.schemeFor("model.layers.0.mlp.up_proj.weight", MATRIX).isKeep(), name);
        }
        assertEquals(Scheme.group(4, true, 32), Recipe.load("int4-g32").defaultScheme());
        assertEquals(Scheme.group(4, true, 128), Recipe.load("int4-g128.json").defaultScheme());
        assertEquals(Scheme.group(4, true, 32).withRange(RangeMethod.MSE), Recipe.load("int4-g32-mse").defaultScheme());
        assertEquals(Scheme.group(4, true, 64).withCodebook(Codebook.NF4), Recipe.load("nf4-g64").defaultScheme());
        assertEquals(Scheme.channel(8, true), Recipe.load("int8-channel").defaultScheme());
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Recipe.load("int3-g7"));
        assertTrue(e.getMessage().contains("int3-g7") && e.getMessage().contains("int4-g128"), e.getMessage());
    }

    @Test
    void firstMatchingOverrideWinsAndMatchesWholeName() {
        Recipe r = Recipe.parse("""
                {
                  "default": {"bits": 4, "group_size": 128},
                  "overrides": [
                    {"match": "lm_head\\\\.weight", "bits": 8, "granularity": "channel"},
                    {"match": ".*\\\\.mlp\\\\..*", "keep": true},
                    {"match": ".*down_proj.*", "bits": 8, "symmetric": false, "group_size": 32, "range": "mse", "scale_dtype": "F32"},
                    {"match": "proj", "keep": true}
                  ]
                }""", "test.json");
        assertEquals(Scheme.channel(8, true), r.schemeFor("lm_head.weight", MATRIX));
        assertSame(Treatment.KEEP, r.schemeFor("model.layers.1.mlp.down_proj.weight", MATRIX)); // rule 2 before rule 3
        assertEquals(Scheme.group(8, false, 32).withRange(RangeMethod.MSE).withScaleFormat(ScaleFormat.F32),
                r.schemeFor("model.layers.1.attn.down_proj.weight", MATRIX));
        assertEquals(Scheme.group(4, true, 128), r.schemeFor("model.layers.1.self_attn.q_proj.weight", MATRIX)); // "proj" must match whole
        assertSame(Treatment.KEEP, r.schemeFor("anything", new long[] {7}));
        Recipe noKeep = Recipe.parse("{\"keep_1d\": false, \"default\": {\"bits\": 8}}", "k.json");
        assertEquals(Scheme.channel(8, true), noKeep.schemeFor("bias", new long[] {7}));
        Recipe pct = Recipe.parse("{\"default\": {\"bits\": 8, \"range\": \"percentile\"}}", "p.json");
        assertEquals(99.9, ((Scheme) pct.defaultScheme()).percentile());
    }

    private static void assertFailsAtLine(String json, int line, String mention) {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Recipe.parse(json, "bad.json"));
        assertTrue(e.getMessage().startsWith("recipe bad.json line " + line + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(mention), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void badRecipesNameFileAndLine() {
        assertFailsAtLine("{\n  \"default\": {\n    \"bits\": 4,\n    \"bitz\": 4\n  }\n}", 4, "unknown key 'bitz'");
        assertFailsAtLine("{\n  \"default\": {\"bits\": 4},\n  \"overides\": []\n}", 3, "unknown key 'overides'");
        assertFailsAtLine("{\n  \"default\": {\"bits\": 4},\n  \"overrides\": [\n    {\"match\": \"a(b\", \"keep\": true}\n  ]\n}", 4, "bad regex");
        assertFailsAtLine("{\n  \"default\": {\n    \"bits\": 4,\n    \"group_size\": 0\n  }\n}", 4, "group_size must be positive");
        assertFailsAtLine("{\n  \"default\": {\"bits\": 4, \"group_size\": -32}\n}", 2, "group_size must be positive");
        assertFailsAtLine("{\n\n  \"default\": {\n    \"bits\": 3}\n}", 4, "bits must be 4 or 8");
        assertFailsAtLine("{\n  \"default\": {\"bits\": 4,\n    \"codebook\": \"fp4\"}\n}", 3, "unknown codebook 'fp4'");
        assertFailsAtLine("{\n  \"default\": {\"bits\": 8,\n  \"codebook\": \"nf4\"}\n}", 2, "needs bits 4");
        assertFailsAtLine("{\n  \"default\": {\"bits\": 4},\n  \"overrides\": [\n    {\"match\": \"x\", \"keep\": true, \"bits\": 4}\n  ]\n}", 4, "takes no scheme keys");
        assertFailsAtLine("{\n  \"default\": {\"bits\": \"four\"}\n}", 2, "bits must be an integer");
        assertFailsAtLine("{\n  \"default\": {\"bits\": 4,,}\n}", 2, "bad JSON");
        assertFailsAtLine("{\n  \"overrides\": []\n}", 1, "missing \"default\"");
    }
}
