package nibble.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import org.junit.jupiter.api.Test;

class OptionsTest {
    private static final Options.Spec SPEC = Options.spec("x", "Does x.")
            .value("input", "URI", null, "in")
            .value("target-file-mb", "MB", "128", "size")
            .flag("overwrite", "replace");

    @Test
    void parsesBothFormsDefaultsAndFlags() {
        Options o = SPEC.parse(new String[] {"--input", "a b", "--target-file-mb=0.5", "--overwrite"});
        assertEquals("a b", o.require("input"));
        assertEquals(0.5, o.getDouble("target-file-mb"));
        assertTrue(o.flag("overwrite"));
        Options d = SPEC.parse(new String[] {});
        assertEquals(128, d.getLong("target-file-mb"));
        assertFalse(d.flag("overwrite"));
        assertNull(d.get("input"));
    }

    @Test
    void usageErrorsNameTheOption() {
        assertMessage(new String[] {"--nope"}, "--nope");
        assertMessage(new String[] {"--input"}, "--input needs a value");
        assertMessage(new String[] {"--overwrite=yes"}, "takes no value");
        assertMessage(new String[] {"--input", "a", "--input", "b"}, "given twice");
        assertMessage(new String[] {"stray"}, "stray");
        UsageException missing = assertThrows(UsageException.class, () -> SPEC.parse(new String[] {}).require("input"));
        assertTrue(missing.getMessage().contains("--input"));
        UsageException number = assertThrows(UsageException.class,
                () -> SPEC.parse(new String[] {"--target-file-mb", "big"}).getDouble("target-file-mb"));
        assertTrue(number.getMessage().contains("big"));
    }

    @Test
    void helpListsEveryOptionWithDefaults() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        SPEC.printHelp(new PrintStream(b, true));
        String help = b.toString();
        assertTrue(help.contains("usage: nibble x"));
        assertTrue(help.contains("--target-file-mb MB"));
        assertTrue(help.contains("(default: 128)"));
        assertTrue(help.contains("--overwrite"));
        assertTrue(SPEC.parse(new String[] {"--help"}).has("help"));
    }

    private static void assertMessage(String[] args, String fragment) {
        UsageException e = assertThrows(UsageException.class, () -> SPEC.parse(args));
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }
}
