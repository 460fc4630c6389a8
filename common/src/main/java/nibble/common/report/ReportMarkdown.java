package nibble.common.report;

import java.util.List;
import nibble.common.report.ReportDoc.Block;
import nibble.common.report.ReportDoc.Bullets;
import nibble.common.report.ReportDoc.Chart;
import nibble.common.report.ReportDoc.Code;
import nibble.common.report.ReportDoc.Heading;
import nibble.common.report.ReportDoc.Para;
import nibble.common.report.ReportDoc.Table;
import nibble.common.report.ReportDoc.Verdict;

/**
 * The Markdown form of a {@link ReportDoc} (GitHub-flavoured tables). Names are code spans; other text
 * has Markdown's special characters backslash-escaped so nothing in a name or URI becomes markup or HTML.
 */
final class ReportMarkdown {
    private ReportMarkdown() {
    }

    static String markdown(EvalReport r) {
        StringBuilder b = new StringBuilder();
        for (Block block : ReportDoc.of(r)) {
            if (block instanceof Heading h) {
                b.append("#".repeat(h.level())).append(' ').append(text(h.text())).append("\n\n");
            } else if (block instanceof Para p) {
                b.append(text(p.text())).append("\n\n");
            } else if (block instanceof Verdict v) {
                b.append(v.passed() ? "**PASS**" : "**FAIL**").append(" — ")
                        .append(text(v.requirements())).append("\n\n");
                if (!v.failures().isEmpty()) {
                    bullets(b, v.failures());
                }
            } else if (block instanceof Bullets l) {
                bullets(b, l.items());
            } else if (block instanceof Table t) {
                table(b, t);
            } else if (!(block instanceof Chart)) {
                throw new IllegalStateException("unrendered block " + block);
            }
        }
        return b.toString().stripTrailing() + "\n";
    }

    private static void bullets(StringBuilder b, List<String> items) {
        for (String s : items) {
            b.append("- ").append(text(s)).append('\n');
        }
        b.append('\n');
    }

    private static void table(StringBuilder b, Table t) {
        b.append('|');
        for (String h : t.header()) {
            b.append(' ').append(text(h)).append(" |");
        }
        b.append("\n|");
        for (boolean n : t.numeric()) {
            b.append(n ? " ---: |" : " --- |");
        }
        b.append('\n');
        for (List<Object> row : t.rows()) {
            b.append('|');
            for (Object cell : row) {
                b.append(' ').append(cell(cell)).append(" |");
            }
            b.append('\n');
        }
        b.append('\n');
    }

    private static String cell(Object cell) {
        if (cell instanceof Code c) {
            // A code span shows its text verbatim; only the table's pipe needs escaping inside one.
            String s = c.text().replace("\n", " ").replace("|", "\\|");
            String fence = s.contains("`") ? "``" : "`";
            return fence + (fence.length() == 2 ? " " + s + " " : s) + fence;
        }
        return text((String) cell);
    }

    /** Plain text with Markdown and HTML specials escaped. */
    static String text(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\\', '`', '*', '|' -> b.append('\\').append(c);
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '\n' -> b.append(' ');
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}
