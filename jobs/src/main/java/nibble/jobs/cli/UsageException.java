package nibble.jobs.cli;

/** A command line that cannot be parsed: the launcher prints the message and exits with code 2. */
public class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public UsageException(String message) {
        super(message);
    }
}
