package nibble.jobs;

/** An evaluation gate was exceeded: the report is written and the launcher exits with code 4. */
public class GateException extends RuntimeException {
    public static final int EXIT_CODE = 4;
    private static final long serialVersionUID = 1L;

    public GateException(String message) {
        super(message);
    }
}
