package nibble.jobs.spark;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * How long Nibble keeps trying an S3 store that does not answer. S3A's own defaults (7 retries from
 * 500 ms, doubling, each of up to 5 SDK attempts, 30 s to connect) kept a run silent for about 160 s on
 * a refused connection. Nibble's defaults, used for each key neither Spark's configuration
 * ({@code spark.hadoop.<key>}) nor a Hadoop site file sets: 4 S3A retries from 500 ms (sleeps of
 * 0.5-1.5 × 1, 2, 4, 8 s: 15 s expected, 22.5 s at most), 2 SDK attempts each, 5 s to connect, 60 s
 * of silence on an open connection. A refused connection ends within about 25 s; one that is dropped
 * adds up to 5 attempts × 2 SDK attempts × 5 s. Each retry is a line on stderr
 * (conf/log4j2.properties, the {@code Invoker} logger), and the final line says what bounded the wait.
 */
public final class S3aRetries {
    /** Nibble's default for each S3A key it bounds (docs: README, "S3"). */
    public static final Map<String, String> DEFAULTS = defaults();

    private S3aRetries() {
    }

    private static Map<String, String> defaults() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("fs.s3a.retry.limit", "4");
        m.put("fs.s3a.retry.interval", "500ms");
        m.put("fs.s3a.attempts.maximum", "2");
        m.put("fs.s3a.connection.establish.timeout", "15s"); // S3A raises anything lower to 15 s, with a warning
        m.put("fs.s3a.connection.timeout", "60s");
        return java.util.Collections.unmodifiableMap(m);
    }

    /** Adds Nibble's default for each key that {@code conf} and the Hadoop site files leave unset. */
    static void applyDefaults(SparkConf conf, SparkSession.Builder b) {
        Configuration site = new Configuration();
        DEFAULTS.forEach((key, value) -> {
            if (!conf.contains("spark.hadoop." + key) && !setBySite(site, key)) {
                b.config("spark.hadoop." + key, value);
            }
        });
    }

    private static boolean setBySite(Configuration site, String key) {
        String[] sources = site.getPropertySources(key);
        if (sources == null) {
            return false;
        }
        for (String s : sources) {
            if (!s.equals("core-default.xml")) {
                return true;
            }
        }
        return false;
    }

    /** The settings in force, e.g. "fs.s3a.retry.limit=4, ...", for the line that ends a run. */
    public static String describe(Configuration conf) {
        StringJoiner j = new StringJoiner(", ");
        for (String key : DEFAULTS.keySet()) {
            j.add(key + "=" + conf.get(key, "(S3A default)"));
        }
        return j.toString();
    }
}
