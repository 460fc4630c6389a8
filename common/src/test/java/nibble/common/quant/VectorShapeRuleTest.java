package nibble.common.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Guards "one vector shape per JVM" (DESIGN-NOTES): every Vector API species named in the main
 * sources, per element type, is of one width. Two float shapes in one JVM made C2 lose the Vector
 * API's intrinsics at random (the matmul 20-30 times slower, {@code bin/bench-lib/VectorShapes.java}),
 * and no unit test can see that except by timing. The only exceptions are the ones measured harmless
 * or opt-in, listed here with the reason.
 */
class VectorShapeRuleTest {
    private static final Pattern SPECIES = Pattern.compile("\\b(Byte|Short|Int|Long|Float|Double)Vector\\.SPECIES_(\\w+)");
    /** The width every kernel uses. */
    private static final String WIDTH = "256";
    /** Element type and width allowed beside 256 bits, with the file that may name it. */
    private static final Map<String, String> EXCEPTIONS = Map.of(
            // the 8-bit encoder's eight codes: ByteVector 64 beside 256 ran at full speed, no boxing (BENCHMARKS, eighth session)
            "Byte 64", "UniformVector.java",
            // -Dnibble.matmul.bits=512, an explicit opt-in
            "Float 512", "MatMulVector.java",
            // only asked for its width, to decide whether the vector paths run at all
            "Float PREFERRED", "UniformVector.java");

    @Test
    void everyKernelUsesOneShapePerElementType() throws IOException {
        Map<String, Set<String>> found = new TreeMap<>();
        try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                Matcher m = SPECIES.matcher(Files.readString(f));
                while (m.find()) {
                    found.computeIfAbsent(m.group(1) + " " + m.group(2), k -> new TreeSet<>()).add(f.getFileName().toString());
                }
            }
        }
        assertFalse(found.isEmpty(), "no species found under src/main/java: is the working directory the module's?");
        for (Map.Entry<String, Set<String>> e : found.entrySet()) {
            if (e.getKey().endsWith(" " + WIDTH)) {
                continue;
            }
            assertEquals(Set.of(EXCEPTIONS.getOrDefault(e.getKey(), "(none)")), e.getValue(),
                    e.getKey() + "-bit species in " + e.getValue() + ": every kernel's vectors are " + WIDTH
                            + " bits (DESIGN-NOTES, \"One vector shape per JVM\")");
        }
    }
}
