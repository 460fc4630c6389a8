package nibble.jobs.spark;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageCompleted;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.SparkSession;
import nibble.jobs.cli.Console;

/**
 * Per-stage progress for the user: tasks done, rows read, rows and bytes written (Spark's
 * Parquet read metrics undercount bytes, so none are shown), at most one line
 * every two seconds per stage plus one when the stage ends. Stages are named by the job description
 * a command sets ({@code SparkContext.setJobDescription}); stages without one are not shown.
 */
public final class Progress extends SparkListener implements AutoCloseable {
    private static final long INTERVAL_NANOS = 2_000_000_000L;

    private final SparkSession spark;
    private final String command;
    private final Console console;
    private final Map<Integer, StageCounts> stages = new ConcurrentHashMap<>();

    private Progress(SparkSession spark, String command, Console console) {
        this.spark = spark;
        this.command = command;
        this.console = console;
    }

    /** Starts reporting; close to stop. */
    public static Progress attach(SparkSession spark, String command, Console console) {
        Progress p = new Progress(spark, command, console);
        spark.sparkContext().addSparkListener(p);
        return p;
    }

    @Override
    public void onStageSubmitted(SparkListenerStageSubmitted e) {
        String label = e.properties() == null ? null : e.properties().getProperty("spark.job.description");
        if (label != null) {
            stages.put(e.stageInfo().stageId(), new StageCounts(label, e.stageInfo().numTasks()));
        }
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd e) {
        StageCounts s = stages.get(e.stageId());
        if (s == null || e.taskMetrics() == null) {
            return;
        }
        synchronized (s) {
            s.tasks++;
            s.rowsRead += e.taskMetrics().inputMetrics().recordsRead();
            s.rowsWritten += e.taskMetrics().outputMetrics().recordsWritten();
            s.bytesWritten += e.taskMetrics().outputMetrics().bytesWritten();
            long now = System.nanoTime();
            if (now - s.lastPrint >= INTERVAL_NANOS) {
                s.lastPrint = now;
                console.progress(command, s.line());
            }
        }
    }

    @Override
    public void onStageCompleted(SparkListenerStageCompleted e) {
        StageCounts s = stages.remove(e.stageInfo().stageId());
        if (s != null) {
            synchronized (s) {
                console.progress(command, s.line() + (e.stageInfo().failureReason().isDefined() ? " (failed)" : " done"));
            }
        }
    }

    @Override
    public void close() {
        spark.sparkContext().removeSparkListener(this);
    }

    private static final class StageCounts {
        final String label;
        final int total;
        int tasks;
        long rowsRead;
        long rowsWritten;
        long bytesWritten;
        long lastPrint = System.nanoTime();

        StageCounts(String label, int total) {
            this.label = label;
            this.total = total;
        }

        String line() {
            StringBuilder sb = new StringBuilder(label).append(": ").append(tasks).append('/').append(total).append(" tasks");
            if (rowsRead > 0) {
                sb.append(", read ").append(Console.count(rowsRead)).append(" rows");
            }
            if (rowsWritten > 0 || bytesWritten > 0) {
                sb.append(", wrote ").append(Console.count(rowsWritten)).append(" rows / ").append(Console.bytes(bytesWritten));
            }
            return sb.toString();
        }
    }
}
