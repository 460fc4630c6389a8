package nibble.jobs;

import nibble.jobs.cli.Console;
import nibble.jobs.cli.Options;

/** One {@code nibble <command>}: its options and what it does. */
public interface Command {
    Options.Spec spec();

    /**
     * Checks the options without touching any data and says what {@link #run} would do; this is
     * {@code --dry-run}. Usage errors are {@code UsageException}s.
     */
    String plan(Options options);

    /** Runs the command; bad input is an {@code InvalidInputException}, a failed gate a {@code GateException}. */
    void run(Options options, Console console) throws Exception;
}
