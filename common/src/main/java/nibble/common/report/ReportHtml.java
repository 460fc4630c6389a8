package nibble.common.report;

import java.util.Base64;
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
 * The HTML form of a {@link ReportDoc}: one self-contained file, with inline CSS and the charts embedded as
 * PNG data URIs, so it can be mailed, attached to a CI run or opened offline. All text is escaped.
 */
final class ReportHtml {
    private static final String CSS = """
            body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: #222;
                   max-width: 1000px; margin: 24px auto; padding: 0 16px; }
            h1 { font-size: 24px; margin: 0 0 12px; }
            h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
            table { border-collapse: collapse; margin: 8px 0 16px; }
            th, td { padding: 3px 10px; border-bottom: 1px solid #e4e4e4; text-align: left; vertical-align: top; }
            th { background: #f4f4f4; font-weight: 600; }
            td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
            code { font: 12.5px/1.3 ui-monospace, "DejaVu Sans Mono", monospace; word-break: break-all; }
            .verdict { display: inline-block; font-weight: 700; font-size: 16px; padding: 3px 12px;
                       border-radius: 4px; color: #fff; margin-right: 8px; }
            .pass { background: #2e7d32; }
            .fail { background: #c62828; }
            .failures { color: #c62828; }
            figure { margin: 8px 0 20px; }
            figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
            .note { color: #666; font-style: italic; }
            """;

    private ReportHtml() {
    }

    static String html(EvalReport r) {
        StringBuilder b = new StringBuilder();
        b.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<title>Nibble evaluation report: ").append(esc(r.quantized())).append("</title>\n")
                .append("<style>\n").append(CSS).append("</style>\n</head>\n<body>\n");
        for (Block block : ReportDoc.of(r)) {
            if (block instanceof Heading h) {
                b.append("<h").append(h.level()).append('>').append(esc(h.text()))
                        .append("</h").append(h.level()).append(">\n");
            } else if (block instanceof Para p) {
                b.append("<p>").append(esc(p.text())).append("</p>\n");
            } else if (block instanceof Verdict v) {
                b.append("<p><span class=\"verdict ").append(v.passed() ? "pass\">PASS" : "fail\">FAIL")
                        .append("</span>").append(esc(v.requirements())).append("</p>\n");
                if (!v.failures().isEmpty()) {
                    b.append("<ul class=\"failures\">\n");
                    for (String f : v.failures()) {
                        b.append("<li>").append(esc(f)).append("</li>\n");
                    }
                    b.append("</ul>\n");
                }
            } else if (block instanceof Bullets l) {
                b.append("<ul>\n");
                for (String s : l.items()) {
                    b.append("<li>").append(esc(s)).append("</li>\n");
                }
                b.append("</ul>\n");
            } else if (block instanceof Table t) {
                table(b, t);
            } else if (block instanceof Chart c) {
                chart(b, c, r);
            }
        }
        return b.append("</body>\n</html>\n").toString();
    }

    private static void table(StringBuilder b, Table t) {
        b.append("<table>\n<thead><tr>");
        for (int c = 0; c < t.header().size(); c++) {
            b.append(t.numeric()[c] ? "<th class=\"num\">" : "<th>").append(esc(t.header().get(c))).append("</th>");
        }
        b.append("</tr></thead>\n<tbody>\n");
        for (List<Object> row : t.rows()) {
            b.append("<tr>");
            for (int c = 0; c < row.size(); c++) {
                b.append(t.numeric()[c] ? "<td class=\"num\">" : "<td>");
                Object cell = row.get(c);
                if (cell instanceof Code code) {
                    b.append("<code>").append(esc(code.text())).append("</code>");
                } else {
                    b.append(esc((String) cell));
                }
                b.append("</td>");
            }
            b.append("</tr>\n");
        }
        b.append("</tbody>\n</table>\n");
    }

    private static void chart(StringBuilder b, Chart c, EvalReport r) {
        byte[] png;
        String alt;
        switch (c) {
            case KLD_DISTRIBUTION -> {
                if (r.model() == null) {
                    b.append("<p class=\"note\">The KL divergence chart is omitted: there are no model-level "
                            + "metrics.</p>\n");
                    return;
                }
                png = ReportCharts.kldDistribution(r.model().kldHistogram());
                alt = "Histogram of per-token KL divergence on log-spaced bins";
            }
            case SQNR_PER_LAYER -> {
                png = ReportCharts.sqnrPerLayer(r.layers());
                alt = "Bar chart of SQNR in dB per layer";
            }
            case BITS_PER_TENSOR -> {
                png = ReportCharts.bitsPerTensor(r.tensors());
                alt = "Horizontal bar chart of bits per weight per tensor";
            }
            default -> throw new IllegalStateException(c.toString());
        }
        if (png == null) {
            b.append("<p class=\"note\">").append(esc(alt)).append(" omitted: no finite values to draw.</p>\n");
            return;
        }
        b.append("<figure><img alt=\"").append(esc(alt)).append("\" src=\"data:image/png;base64,")
                .append(Base64.getEncoder().encodeToString(png)).append("\"></figure>\n");
    }

    /** Text safe inside HTML elements and double- or single-quoted attributes. */
    static String esc(String s) {
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}
