package nibble.common.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Paint;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.LegendItem;
import org.jfree.chart.LegendItemCollection;
import org.jfree.chart.axis.AxisLocation;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.StandardXYBarPainter;
import org.jfree.chart.renderer.xy.XYBarRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYIntervalSeries;
import org.jfree.data.xy.XYIntervalSeriesCollection;

/**
 * The report's charts, drawn with JFreeChart off-screen ({@code java.awt.headless} is set unless the
 * caller chose otherwise) and returned as PNG bytes, or null when there is nothing to draw.
 */
final class ReportCharts {
    static final int WIDTH = 960;

    private static final Color BAR = new Color(0x4C78A8);
    private static final Color GRID = new Color(0xDDDDDD);
    private static final Color[] PALETTE = {BAR, new Color(0xF58518), new Color(0x54A24B), new Color(0xE45756),
        new Color(0x72B7B2), new Color(0xB279A2), new Color(0xFF9DA6), new Color(0x9D755D), new Color(0xBAB0AC),
        new Color(0xEECA3B)};
    private static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 15);
    private static final Font LABEL = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
    private static final Font TICK = new Font(Font.SANS_SERIF, Font.PLAIN, 11);

    static {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    private ReportCharts() {
    }

    /** SQNR of each layer with a finite SQNR, as vertical bars. */
    static byte[] sqnrPerLayer(List<LayerError> layers) {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        for (LayerError l : layers) {
            if (l.sqnrDb() != null) {
                data.addValue(l.sqnrDb(), "SQNR", Integer.toString(l.layer()));
            }
        }
        if (data.getColumnCount() == 0) {
            return null;
        }
        JFreeChart chart = ChartFactory.createBarChart("SQNR per layer", "layer", "SQNR (dB)", data,
                PlotOrientation.VERTICAL, false, false, false);
        CategoryPlot plot = styleCategory(chart);
        if (data.getColumnCount() > 40) {
            plot.getDomainAxis().setCategoryLabelPositions(CategoryLabelPositions.UP_90);
        }
        return png(chart, WIDTH, 380);
    }

    /** Per-token KL divergences over the histogram's log bins; exact zeros are stated in a subtitle. */
    static byte[] kldDistribution(KldHistogram h) {
        double[] edges = h.edges();
        long[] counts = h.counts();
        XYIntervalSeries s = new XYIntervalSeries("tokens");
        for (int i = 0; i + 1 < edges.length; i++) {
            double mid = Math.sqrt(edges[i] * edges[i + 1]);
            s.add(mid, edges[i], edges[i + 1], counts[i + 1], 0, counts[i + 1]);
        }
        XYIntervalSeriesCollection data = new XYIntervalSeriesCollection();
        data.addSeries(s);
        JFreeChart chart = ChartFactory.createXYBarChart("Per-token KL divergence", "KL divergence (nats)", false,
                "tokens", data, PlotOrientation.VERTICAL, false, false, false);
        style(chart);
        long total = h.total();
        chart.addSubtitle(new TextTitle(ReportDoc.f("%,d of %,d tokens (%.2f%%) have KL = 0 exactly and are not drawn",
                counts[0], total, total == 0 ? 0.0 : 100.0 * counts[0] / total), TICK));
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(GRID);
        plot.setDomainGridlinePaint(GRID);
        LogAxis x = new LogAxis("KL divergence (nats, log scale)");
        x.setSmallestValue(KldHistogram.LOWEST / 10);
        x.setRange(edges[0], edges[edges.length - 1]);
        x.setTickUnit(new NumberTickUnit(1)); // a tick per decade
        x.setLabelFont(LABEL);
        x.setTickLabelFont(TICK);
        plot.setDomainAxis(x);
        plot.getRangeAxis().setLabelFont(LABEL);
        plot.getRangeAxis().setTickLabelFont(TICK);
        XYBarRenderer r = (XYBarRenderer) plot.getRenderer();
        r.setBarPainter(new StandardXYBarPainter());
        r.setShadowVisible(false);
        r.setSeriesPaint(0, BAR);
        r.setDrawBarOutline(true);
        r.setSeriesOutlinePaint(0, Color.WHITE);
        r.setSeriesOutlineStroke(0, new BasicStroke(1f));
        return png(chart, WIDTH, 380);
    }

    /** Bits per weight of every tensor, as horizontal bars coloured by scheme. */
    static byte[] bitsPerTensor(List<TensorError> tensors) {
        if (tensors.isEmpty()) {
            return null;
        }
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        Map<String, Color> schemeColor = new LinkedHashMap<>();
        for (TensorError t : tensors) {
            data.addValue(t.bitsPerWeight(), "bits/weight", t.name());
            schemeColor.computeIfAbsent(t.scheme(), k -> PALETTE[schemeColor.size() % PALETTE.length]);
        }
        Color[] colors = new Color[data.getColumnCount()];
        for (TensorError t : tensors) {
            colors[data.getColumnIndex(t.name())] = schemeColor.get(t.scheme());
        }
        JFreeChart chart = ChartFactory.createBarChart("Bits per weight per tensor", null, "bits per weight", data,
                PlotOrientation.HORIZONTAL, true, false, false);
        CategoryPlot plot = styleCategory(chart);
        plot.setRenderer(new BarRenderer() {
            @Override
            public Paint getItemPaint(int row, int column) {
                return colors[column];
            }
        });
        styleBars((BarRenderer) plot.getRenderer());
        LegendItemCollection legend = new LegendItemCollection();
        schemeColor.forEach((scheme, color) -> legend.add(new LegendItem(scheme, color)));
        plot.setFixedLegendItems(legend);
        plot.getDomainAxis().setMaximumCategoryLabelWidthRatio(0.45f);
        plot.setRangeAxisLocation(AxisLocation.BOTTOM_OR_RIGHT); // below the bars, next to the legend
        int height = Math.max(260, 110 + 16 * data.getColumnCount());
        return png(chart, WIDTH, height);
    }

    private static void style(JFreeChart chart) {
        chart.setBackgroundPaint(Color.WHITE);
        chart.setAntiAlias(true);
        chart.setTextAntiAlias(true);
        chart.getTitle().setFont(TITLE);
        chart.setPadding(new org.jfree.chart.ui.RectangleInsets(6, 6, 6, 12));
        if (chart.getLegend() != null) {
            chart.getLegend().setItemFont(TICK);
            chart.getLegend().setFrame(org.jfree.chart.block.BlockBorder.NONE);
        }
    }

    private static CategoryPlot styleCategory(JFreeChart chart) {
        style(chart);
        CategoryPlot plot = chart.getCategoryPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(GRID);
        plot.setOutlineVisible(false);
        CategoryAxis x = plot.getDomainAxis();
        x.setLabelFont(LABEL);
        x.setTickLabelFont(TICK);
        x.setCategoryMargin(0.15);
        x.setLowerMargin(0.01);
        x.setUpperMargin(0.01);
        plot.getRangeAxis().setLabelFont(LABEL);
        plot.getRangeAxis().setTickLabelFont(TICK);
        styleBars((BarRenderer) plot.getRenderer());
        return plot;
    }

    private static void styleBars(BarRenderer r) {
        r.setBarPainter(new StandardBarPainter());
        r.setShadowVisible(false);
        r.setDrawBarOutline(false);
        r.setItemMargin(0);
        r.setSeriesPaint(0, BAR);
        r.setMaximumBarWidth(0.08);
    }

    private static byte[] png(JFreeChart chart, int width, int height) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ChartUtils.writeChartAsPNG(out, chart, width, height);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
