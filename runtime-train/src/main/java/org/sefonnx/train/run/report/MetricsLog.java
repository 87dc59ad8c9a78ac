package org.sefonnx.train.run.report;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.function.ToDoubleFunction;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.sefonnx.contract.AtomicFiles;
import org.sefonnx.train.run.listener.TrainingListener;
import org.sefonnx.train.run.metrics.EpochMetrics;
import org.sefonnx.train.run.state.CommitStep;
import org.sefonnx.train.run.state.RunDirectory;
import org.sefonnx.train.run.state.RunState;

/** metrics.jsonl, metrics.csv and the PNG plots of a run: derived from the run state's rows, rewritten whole after every epoch. */
public final class MetricsLog implements TrainingListener {
    private final RunDirectory run;
    private boolean plotWarningShown;

    public MetricsLog(RunDirectory run) {
        this.run = run;
    }

    @Override
    public CommitStep epochStep() {
        return CommitStep.WRITE_METRICS;
    }

    @Override
    public void runStarting(RunState committed) throws IOException {
        write(committed.metrics());
    }

    @Override
    public void epochCommitted(EpochEnd end) throws IOException {
        write(end.state().metrics());
    }

    void write(List<EpochMetrics> rows) throws IOException {
        if (rows.isEmpty()) return;
        StringBuilder jsonl = new StringBuilder(),
                csv = new StringBuilder(rows.get(0).csvHeader()).append('\n');
        for (EpochMetrics r : rows) {
            jsonl.append(r.toJson()).append('\n');
            csv.append(r.toCsv()).append('\n');
        }
        AtomicFiles.writeString(run.metricsJsonl(), jsonl.toString());
        AtomicFiles.writeString(run.metricsCsv(), csv.toString());
        try {
            plot(rows);
        } catch (RuntimeException | Error e) {
            // a host without fonts (a bare CUDA container) cannot render chart text: the run and the metrics matter
            // more
            if (!plotWarningShown)
                System.err.println(
                        "warning: plots not written (" + e + "); metrics.csv and metrics.jsonl are complete");
            plotWarningShown = true;
        }
    }

    /**
     * Each {@link EpochMetrics.Chart} with the series its columns name; the group chart only when every row has group
     * metrics (a run resumed from an older one has rows without).
     */
    private void plot(List<EpochMetrics> rows) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Files.createDirectories(run.plots());
        double[] epochs = series(rows, r -> r.epoch() + 1);
        boolean groups = rows.stream().allMatch(r -> r.groups().groupTop1().length > 0);
        List<EpochMetrics.Column> columns = rows.get(0).columns();
        for (EpochMetrics.Chart chart : EpochMetrics.Chart.values()) {
            if (chart == EpochMetrics.Chart.GROUPS && !groups) continue;
            XYChart plot = new XYChartBuilder()
                    .width(900)
                    .height(chart.heightPx)
                    .title(chart.title)
                    .xAxisTitle("epoch")
                    .yAxisTitle(chart.yAxis)
                    .build();
            for (EpochMetrics.Column c : columns) {
                if (c.chart() != chart) continue;
                plot.addSeries(c.series(), epochs, series(rows, c::number)).setMarker(SeriesMarkers.CIRCLE);
            }
            AtomicFiles.write(
                    run.plots().resolve(chart.file),
                    BitmapEncoder.getBitmapBytes(plot, BitmapEncoder.BitmapFormat.PNG));
        }
    }

    private static double[] series(List<EpochMetrics> rows, ToDoubleFunction<EpochMetrics> f) {
        return rows.stream().mapToDouble(f).toArray();
    }
}
