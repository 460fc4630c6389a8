package nibble.jobs;

import nibble.jobs.cli.Console;
import nibble.jobs.cli.Options;

/** One {@code nibble <command>}: its options and what it does. */
public interface Command {
    Options.Spec spec();

    /** Runs the command; bad input is an {@code InvalidInputException}, a failed gate a {@code GateException}. */
    void run(Options options, Console console) throws Exception;
}
