package nibble.jobs.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A command's options: declared once (name, help, default), parsed from {@code --name value},
 * {@code --name=value} or {@code --flag}, and printed as {@code --help}. One name per concept: the
 * flag names match the manifest and Parquet names where both exist.
 */
public final class Options {
    private final Spec spec;
    private final Map<String, String> values;

    private Options(Spec spec, Map<String, String> values) {
        this.spec = spec;
        this.values = values;
    }

    /** Starts the declaration of a command's options. */
    public static Spec spec(String command, String summary) {
        return new Spec(command, summary);
    }

    /** The command these options belong to. */
    public String command() {
        return spec.command;
    }

    public boolean has(String name) {
        spec.option(name);
        return values.containsKey(name);
    }

    /** The value given, the default, or null. */
    public String get(String name) {
        Opt o = spec.option(name);
        return values.getOrDefault(name, o.defaultValue);
    }

    /** The value given or the default; a usage error when there is neither. */
    public String require(String name) {
        String v = get(name);
        if (v == null) {
            throw new UsageException("missing required option --" + name);
        }
        return v;
    }

    public long getLong(String name) {
        String v = require(name);
        try {
            return Long.parseLong(v.replace("_", ""));
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " takes a whole number, not '" + v + "'");
        }
    }

    public double getDouble(String name) {
        String v = require(name);
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " takes a number, not '" + v + "'");
        }
    }

    /** A positive size given in MiB (fractions allowed), in bytes. */
    public long megabytes(String name) {
        long bytes = (long) (getDouble(name) * (1 << 20));
        if (bytes <= 0) {
            throw new UsageException("--" + name + " must be positive");
        }
        return bytes;
    }

    /** True when the flag was given. */
    public boolean flag(String name) {
        return has(name);
    }

    /** Declared options of one command. */
    public static final class Spec {
        private final String command;
        private final String summary;
        private final Map<String, Opt> options = new LinkedHashMap<>();

        private Spec(String command, String summary) {
            this.command = command;
            this.summary = summary;
        }

        /** An option taking a value; {@code defaultValue} null means required unless documented otherwise. */
        public Spec value(String name, String metavar, String defaultValue, String help) {
            options.put(name, new Opt(name, metavar, defaultValue, help));
            return this;
        }

        /** A flag without a value. */
        public Spec flag(String name, String help) {
            options.put(name, new Opt(name, null, null, help));
            return this;
        }

        public String command() {
            return command;
        }

        public String summary() {
            return summary;
        }

        /** Parses the arguments; {@code --help} yields a result with {@code has("help")}. */
        public Options parse(String[] args) {
            Map<String, String> values = new LinkedHashMap<>();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (a.equals("--help") || a.equals("-h")) {
                    values.put("help", "true");
                    continue;
                }
                if (a.equals("--dry-run")) {
                    values.put("dry-run", "true");
                    continue;
                }
                if (!a.startsWith("--") || a.length() == 2) {
                    throw new UsageException("unexpected argument '" + a + "'");
                }
                String name = a.substring(2);
                String value = null;
                int eq = name.indexOf('=');
                if (eq >= 0) {
                    value = name.substring(eq + 1);
                    name = name.substring(0, eq);
                }
                Opt o = options.get(name);
                if (o == null) {
                    throw new UsageException("unknown option --" + name);
                }
                if (o.metavar == null) {
                    if (value != null) {
                        throw new UsageException("--" + name + " takes no value");
                    }
                    value = "true";
                } else if (value == null) {
                    if (i + 1 >= args.length) {
                        throw new UsageException("--" + name + " needs a value (" + o.metavar + ")");
                    }
                    value = args[++i];
                }
                if (values.containsKey(name)) {
                    throw new UsageException("--" + name + " given twice");
                }
                values.put(name, value);
            }
            return new Options(this, values);
        }

        /** Prints {@code --help}. */
        public void printHelp(PrintStream out) {
            out.println("usage: nibble " + command + " [options]");
            out.println();
            out.println(summary);
            out.println();
            out.println("options:");
            List<String[]> rows = new ArrayList<>();
            int width = 0;
            for (Opt o : options.values()) {
                String left = "--" + o.name + (o.metavar == null ? "" : " " + o.metavar);
                rows.add(new String[] {left, o.help + (o.defaultValue == null ? "" : " (default: " + o.defaultValue + ")")});
                width = Math.max(width, left.length());
            }
            rows.add(new String[] {"--dry-run", "check the options and print the plan; touch no data"});
            rows.add(new String[] {"--help", "print this help"});
            for (String[] r : rows) {
                out.printf("  %-" + width + "s  %s%n", r[0], r[1]);
            }
        }

        Opt option(String name) {
            if (name.equals("help") || name.equals("dry-run")) {
                return new Opt(name, null, null, "");
            }
            Opt o = options.get(name);
            if (o == null) {
                throw new IllegalArgumentException("option --" + name + " is not declared for " + command);
            }
            return o;
        }
    }

    private record Opt(String name, String metavar, String defaultValue, String help) {
    }
}
