package nibble.jobs.spark;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * How long Nibble keeps trying an S3 store that does not answer. S3A's own defaults (7 retries from
 * 500 ms, doubling, each of up to 5 SDK attempts, 30 s to connect) kept a run silent for about 160 s on
 * a refused connection. Nibble's defaults, used for each key neither Spark's configuration
 * ({@code spark.hadoop.<key>}) nor a Hadoop site file sets: 4 S3A retries from 500 ms (sleeps of
 * 0.5-1.5 × 1, 2, 4, 8 s: 15 s expected, 22.5 s at most), {@code fs.s3a.attempts.maximum=1} (S3A's SDK
 * client retries that many times: 2 SDK attempts per S3A attempt), 15 s to connect (S3A's minimum) and
 * 30 s of silence on an open connection (S3A raises either timeout below 15 s to 15 s). A refused
 * connection ends within about 25 s. A store that accepts and never answers, or drops packets,
 * costs each SDK attempt its timeout: the bound is {@link #boundMillis} = (retry.limit + 1) ×
 * (attempts.maximum + 1) × max(connect, read timeout) + the sleeps, 5 × 2 × 30 s + 22.5 s ≈ 323 s with
 * the defaults. Each S3A retry is a line on stderr (conf/log4j2.properties, the {@code Invoker} logger),
 * and the final line says what bounded the wait and what the bound was.
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
        m.put("fs.s3a.attempts.maximum", "1"); // SDK retries: 2 SDK attempts per S3A attempt
        m.put("fs.s3a.connection.establish.timeout", "15s"); // S3A raises anything lower to 15 s, with a warning
        m.put("fs.s3a.connection.timeout", "30s");
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

    /** The least connect and read timeout S3A accepts: it raises lower settings to this, with a warning. */
    public static final long S3A_MINIMUM_TIMEOUT_MILLIS = 15_000;

    /**
     * The settings in force, e.g. "fs.s3a.retry.limit=4, ..., fs.s3a.connection.timeout=30s; at most
     * about 323 s", for the line that ends a run. A timeout below S3A's minimum is shown with the value
     * S3A uses.
     */
    public static String describe(Configuration conf) {
        StringJoiner j = new StringJoiner(", ");
        for (String key : DEFAULTS.keySet()) {
            String value = conf.get(key);
            if (value == null) {
                j.add(key + "=(S3A default)");
            } else if (key.endsWith("timeout") && timeout(conf, key) > conf.getTimeDuration(key, 0, TimeUnit.MILLISECONDS)) {
                j.add(key + "=" + value + " (S3A uses 15s)");
            } else {
                j.add(key + "=" + value);
            }
        }
        return j + "; at most about " + Math.round(boundMillis(conf) / 1000.0) + " s";
    }

    /**
     * How long S3A keeps trying one operation on a store that never answers, by these settings:
     * (retry.limit + 1) S3A attempts of (attempts.maximum + 1) SDK attempts, each ending at the connect
     * timeout (packets dropped) or the read timeout (connected, no answer), whichever is longer, plus
     * the longest sleeps between S3A attempts (1.5 × interval × 2^(k+1)). Unset keys count with S3A's defaults.
     */
    public static long boundMillis(Configuration conf) {
        int retries = Math.max(0, conf.getInt("fs.s3a.retry.limit", 7));
        int sdkAttempts = Math.max(0, conf.getInt("fs.s3a.attempts.maximum", 5)) + 1;
        long perAttempt = Math.max(timeout(conf, "fs.s3a.connection.establish.timeout"), timeout(conf, "fs.s3a.connection.timeout"));
        long interval = conf.getTimeDuration("fs.s3a.retry.interval", 500, TimeUnit.MILLISECONDS);
        long sleeps = 0;
        for (int k = 0; k < retries; k++) {
            sleeps += Math.round(1.5 * interval * Math.pow(2, k + 1)); // S3A sleeps 0.5-1.5 x interval x 2^(k+1)
        }
        return (retries + 1L) * sdkAttempts * perAttempt + sleeps;
    }

    private static long timeout(Configuration conf, String key) {
        long defaultMillis = key.endsWith("establish.timeout") ? 30_000 : 200_000;
        return Math.max(S3A_MINIMUM_TIMEOUT_MILLIS, conf.getTimeDuration(key, defaultMillis, TimeUnit.MILLISECONDS));
    }
}
