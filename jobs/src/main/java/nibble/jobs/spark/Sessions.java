package nibble.jobs.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * The one place a SparkSession is made. Under {@code spark-submit} the master and settings come from
 * the submission; with none (the launcher, tests) Nibble runs embedded in {@code local[*]}.
 */
public final class Sessions {
    private Sessions() {
    }

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
        return b.config("spark.ui.showConsoleProgress", "false").getOrCreate();
    }
}
