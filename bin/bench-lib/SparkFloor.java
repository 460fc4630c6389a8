import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Baseline for bin/bench-shard and bin/bench-quantize, the Spark floor: a plain Spark job that reads
 * every row of a table's Parquet files (every data page) and sums the payload lengths, on the given
 * master. Prints "seconds rows bytes" (the job only; session start excluded).
 * Usage: SparkFloor <table> <master>.
 */
public final class SparkFloor {
    public static void main(String[] args) {
        SparkSession spark = SparkSession.builder().master(args[1]).appName("spark-floor")
                .config("spark.ui.enabled", "false").getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        long t0 = System.nanoTime();
        Row r = spark.read().parquet(args[0] + "/tensors").selectExpr("count(*)", "sum(length(data))").first();
        double secs = (System.nanoTime() - t0) / 1e9;
        System.out.printf("%.3f %d %d%n", secs, r.getLong(0), r.getLong(1));
        spark.stop();
    }
}
