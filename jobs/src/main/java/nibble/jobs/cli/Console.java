package nibble.jobs.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Where a command talks to its user: results and summary tables on {@code out}, progress and errors
 * on {@code err} (so {@code out} stays clean for scripts).
 */
public record Console(PrintStream out, PrintStream err) {

    /** A progress line on {@code err}, prefixed with the command name. */
    public void progress(String command, String message) {
        err.println("[" + command + "] " + message);
    }

    /** Prints a table with a header row; numeric-looking cells are right-aligned. */
    public void table(List<String> header, List<List<String>> rows) {
        List<List<String>> all = new ArrayList<>();
        all.add(header);
        all.addAll(rows);
        int[] width = new int[header.size()];
        for (List<String> r : all) {
            for (int i = 0; i < r.size(); i++) {
                width[i] = Math.max(width[i], r.get(i).length());
            }
        }
        for (int k = 0; k < all.size(); k++) {
            List<String> r = all.get(k);
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < r.size(); i++) {
                String cell = r.get(i);
                boolean right = k > 0 && !cell.isEmpty() && (Character.isDigit(cell.charAt(0)) || cell.charAt(0) == '-');
                String pad = " ".repeat(width[i] - cell.length());
                sb.append(i == 0 ? "" : "  ").append(right ? pad + cell : cell + pad);
            }
            out.println(sb.toString().stripTrailing());
            if (k == 0) {
                StringBuilder rule = new StringBuilder();
                for (int i = 0; i < width.length; i++) {
                    rule.append(i == 0 ? "" : "  ").append("-".repeat(width[i]));
                }
                out.println(rule);
            }
        }
    }

    /** 1536 → "1.5 KiB". */
    public static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    /** 1234567 → "1,234,567". */
    public static String count(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }
}
