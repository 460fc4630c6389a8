package nibble.jobs;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import nibble.common.InvalidInputException;
import nibble.jobs.cli.Console;
import nibble.jobs.cli.Options;
import nibble.jobs.cli.UsageException;

/**
 * The launcher: {@code nibble <command> [options]}. Exit codes: 0 success, 1 failure, 2 usage,
 * 3 invalid input, 4 evaluation gate failed. Each job class also has a {@code main} for
 * {@code spark-submit --class}, which comes here.
 */
public final class Nibble {
    public static final int OK = 0;
    public static final int FAILED = 1;
    public static final int USAGE = 2;
    public static final int INVALID_INPUT = 3;

    private static final Map<String, Command<?>> COMMANDS = new LinkedHashMap<>();

    static {
        COMMANDS.put("shard", new ShardJob());
        COMMANDS.put("calibrate", new CalibrateJob());
        COMMANDS.put("quantize", new QuantizeJob());
        COMMANDS.put("evaluate", new EvaluateJob());
        COMMANDS.put("sample", new SampleJob());
        COMMANDS.put("export", new ExportJob());
        COMMANDS.put("plan", new PlanJob());
        COMMANDS.put("pipeline", new PipelineJob());
        COMMANDS.put("synth", new SynthJob());
        COMMANDS.put("demo", new DemoJob());
    }

    private Nibble() {
    }

    public static void main(String[] args) {
        int code = run(args, System.out, System.err);
        SparkSession.getDefaultSession().foreach(s -> {
            s.stop();
            return null;
        });
        System.exit(code);
    }

    /** Runs a command in this JVM and returns its exit code; never calls {@code System.exit}. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        Console console = new Console(out, err);
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
            printCommands(args.length == 0 ? err : out);
            return args.length == 0 ? USAGE : OK;
        }
        Command<?> command = COMMANDS.get(args[0]);
        if (command == null) {
            err.println("nibble: unknown command '" + args[0] + "'");
            printCommands(err);
            return USAGE;
        }
        String name = args[0];
        try {
            Options options = command.spec().parse(Arrays.copyOfRange(args, 1, args.length));
            if (options.has("help")) {
                command.spec().printHelp(out);
                return OK;
            }
            run(command, options, console);
            return OK;
        } catch (UsageException e) {
            err.println("nibble " + name + ": " + e.getMessage() + " (see nibble " + name + " --help)");
            return USAGE;
        } catch (Exception | Error e) {
            InvalidInputException invalid = find(e, InvalidInputException.class);
            if (invalid != null) {
                err.println("nibble " + name + ": error: " + invalid.getMessage());
                return INVALID_INPUT;
            }
            GateException gate = find(e, GateException.class);
            if (gate != null) {
                err.println("nibble " + name + ": gate failed: " + gate.getMessage());
                return GateException.EXIT_CODE;
            }
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            String line = String.valueOf(e).lines().findFirst().orElse("");
            err.println("nibble " + name + ": failed: " + line
                    + (root != e ? "; cause: " + String.valueOf(root).lines().findFirst().orElse("") : ""));
            if (System.getenv("NIBBLE_DEBUG") != null) {
                e.printStackTrace(err);
            }
            return FAILED;
        }
    }

    /** Parses the options into the command's arguments, then prints the plan ({@code --dry-run}) or runs it. */
    private static <A> void run(Command<A> command, Options options, Console console) throws Exception {
        A args = command.args(options);
        if (options.has("dry-run")) {
            console.out().println("dry run: nibble " + options.command() + ": " + command.plan(args));
            return;
        }
        command.run(args, console);
    }

    /** Runs one command as a {@code spark-submit} main class and exits with its code. */
    static void submit(String command, String[] args) {
        String[] all = new String[args.length + 1];
        all[0] = command;
        System.arraycopy(args, 0, all, 1, args.length);
        main(all);
    }

    private static <T extends Throwable> T find(Throwable e, Class<T> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }

    private static void printCommands(PrintStream s) {
        s.println("usage: nibble <command> [options]   (nibble <command> --help for its options)");
        s.println();
        for (Map.Entry<String, Command<?>> c : COMMANDS.entrySet()) {
            s.printf("  %-10s %s%n", c.getKey(), c.getValue().spec().summary().lines().findFirst().orElse(""));
        }
    }
}
