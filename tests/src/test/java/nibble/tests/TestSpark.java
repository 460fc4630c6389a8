package nibble.tests;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;
import nibble.jobs.Nibble;

/** The one local SparkSession the end-to-end tests share, and a way to run a command in-process. */
final class TestSpark {
    private static SparkSession session;

    private TestSpark() {
    }

    static synchronized SparkSession session() {
        if (session == null) {
            session = SparkSession.builder().master("local[2]").appName("nibble-tests")
                    .config("spark.ui.enabled", "false")
                    .config("spark.ui.showConsoleProgress", "false")
                    .config("spark.sql.shuffle.partitions", "4")
                    .getOrCreate();
            Runtime.getRuntime().addShutdownHook(new Thread(session::stop));
        }
        return session;
    }

    /** The result of a command run through the launcher's entry point. */
    record Run(int code, String out, String err) {
    }

    static Run nibble(String... args) {
        session();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Nibble.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        Run r = new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        System.out.print(r.out());
        System.out.print(r.err());
        return r;
    }

    /** ../shared beside the project, or null. */
    static Path shared() {
        Path p = Path.of(System.getProperty("nibble.shared.dir", "../../shared"));
        return Files.isDirectory(p) ? p : null;
    }

    static Path stories260K() {
        Path s = shared();
        return s == null ? null : s.resolve("models/stories260K.bin");
    }
}
