package nibble.jobs.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * The one place a SparkSession is made. Under {@code spark-submit} the master and settings come from
 * the submission; with none (the launcher, tests) Nibble runs embedded in {@code local[*]}.
 * In local mode (either way) the executor shares the driver's JVM, so Spark's reaction to an
 * {@link OutOfMemoryError} in a task, {@code System.exit(52)}, would end Nibble before it can say
 * what happened: {@value #KILL_ON_FATAL_ERROR_DEPTH} is set to 0 (unless given), which makes it a
 * failed task that the launcher reports with exit 1 and how to give more memory. S3A's retries are
 * bounded by {@link S3aRetries}.
 */
public final class Sessions {
    private Sessions() {
    }

    static final String KILL_ON_FATAL_ERROR_DEPTH = "spark.executor.killOnFatalError.depth";

    public static SparkSession getOrCreate(String appName) {
        scala.Option<SparkSession> existing = SparkSession.getDefaultSession();
        if (existing.isDefined()) {
            return existing.get();
        }
        SparkSession.Builder b = SparkSession.builder().appName(appName);
        SparkConf conf = new SparkConf();
        if (!conf.contains("spark.master")) {
            b.master("local[*]")
                    .config("spark.ui.enabled", "false")
                    .config("spark.sql.shuffle.partitions", "8");
        }
        if (conf.get("spark.master", "local[*]").startsWith("local") && !conf.contains(KILL_ON_FATAL_ERROR_DEPTH)) {
            b.config(KILL_ON_FATAL_ERROR_DEPTH, "0");
        }
        S3aRetries.applyDefaults(conf, b);
        return b.config("spark.ui.showConsoleProgress", "false").getOrCreate();
    }
}
