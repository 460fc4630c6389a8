package nibble.common.fuzz;

/**
 * The entry point of Jazzer's command-line fuzzer ({@code bin/fuzz <target> <seconds>}): the target is
 * the system property {@code nibble.fuzz.target}, one of {@link FuzzTargets#NAMES}.
 */
public final class FuzzMain {
    private static final String TARGET = System.getProperty("nibble.fuzz.target", "");

    private FuzzMain() {
    }

    public static void fuzzerTestOneInput(byte[] data) {
        FuzzTargets.run(TARGET, data);
    }
}
