package nibble.jobs.spark;

import java.util.function.Supplier;
import org.apache.spark.sql.SparkSession;

/**
 * Names the Spark jobs a piece of work runs ({@code SparkContext.setJobDescription}), which is what
 * {@link Progress} and the Spark UI show, and always clears the name afterwards, so a later job is
 * never shown under a stale one.
 */
public final class JobDescription {
    private JobDescription() {
    }

    /** Runs {@code work} with its Spark jobs described as {@code label}. */
    public static <T> T run(SparkSession spark, String label, Supplier<T> work) {
        spark.sparkContext().setJobDescription(label);
        try {
            return work.get();
        } finally {
            spark.sparkContext().setJobDescription(null);
        }
    }

    /** As {@link #run(SparkSession, String, Supplier)}, for work without a result. */
    public static void run(SparkSession spark, String label, Runnable work) {
        run(spark, label, () -> {
            work.run();
            return null;
        });
    }
}
