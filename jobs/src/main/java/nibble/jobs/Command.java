package nibble.jobs;

import org.apache.spark.sql.SparkSession;
import nibble.jobs.cli.Console;
import nibble.jobs.cli.Options;
import nibble.jobs.spark.Progress;
import nibble.jobs.spark.Sessions;

/**
 * One {@code nibble <command>}: its options, how they become the action's typed arguments, and how
 * the action's result is shown. The work itself is an action's ({@code nibble.jobs.action}).
 *
 * @param <A> the validated arguments
 */
public interface Command<A> {
    Options.Spec spec();

    /** The arguments the options give, validated; bad options are {@code UsageException}s. */
    A args(Options options);

    /** What {@link #run} would do, touching no data: {@code --dry-run}. */
    String plan(A args);

    /**
     * Runs the action and prints its result; bad input is an {@code InvalidInputException}, a failed
     * gate a {@link GateException}.
     */
    void run(A args, Console console) throws Exception;

    /** Runs Spark work on the application's session, with per-stage progress on the console. */
    static <R> R onSpark(String command, Console console, SparkWork<R> work) throws Exception {
        SparkSession spark = Sessions.getOrCreate("nibble " + command);
        try (Progress p = Progress.attach(spark, command, console)) {
            return work.run(spark);
        }
    }

    /** Work given a SparkSession. */
    @FunctionalInterface
    interface SparkWork<R> {
        R run(SparkSession spark) throws Exception;
    }
}
