package org.sefonnx.train.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.ToDoubleFunction;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.sefonnx.contract.AtomicFiles;

/** metrics.jsonl, metrics.csv and the PNG plots of a run: derived from the run state's rows, rewritten whole after every epoch. */
final class MetricsLog implements TrainingListener {
    private final RunDirectory run;
    private boolean plotWarningShown;

    MetricsLog(RunDirectory run) {
        this.run = run;
    }

    @Override
    public String epochStep() {
        return RunCommits.WRITE_METRICS;
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

    private void plot(List<EpochMetrics> rows) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Files.createDirectories(run.plots());
        double[] epochs = series(rows, r -> r.epoch() + 1);
        XYChart loss = new XYChartBuilder()
                .width(900)
                .height(560)
                .title("SEF loss terms per epoch")
                .xAxisTitle("epoch")
                .yAxisTitle("mean over the epoch")
                .build();
        add(loss, "train loss", epochs, series(rows, r -> r.train().loss()));
        add(loss, "train CE", epochs, series(rows, r -> r.train().crossEntropy()));
        add(loss, "train entropy E", epochs, series(rows, r -> r.train().entropy()));
        add(loss, "train distillation S", epochs, series(rows, r -> r.train().distillation()));
        add(loss, "train grouping L_group", epochs, series(rows, r -> r.train().grouping()));
        add(loss, "test CE", epochs, series(rows, r -> r.test().crossEntropy()));
        save(loss, run.plots().resolve("loss.png"));

        XYChart acc = new XYChartBuilder()
                .width(900)
                .height(560)
                .title("Test accuracy per epoch")
                .xAxisTitle("epoch")
                .yAxisTitle("accuracy")
                .build();
        add(acc, "top-1", epochs, series(rows, EpochMetrics::testTop1));
        add(acc, "mean per-class", epochs, series(rows, EpochMetrics::testMeanClassAccuracy));
        save(acc, run.plots().resolve("accuracy.png"));

        XYChart lr = new XYChartBuilder()
                .width(900)
                .height(400)
                .title("Learning rate and throughput")
                .xAxisTitle("epoch")
                .yAxisTitle("learning rate")
                .build();
        add(lr, "learning rate", epochs, series(rows, EpochMetrics::learningRate));
        save(lr, run.plots().resolve("learning-rate.png"));

        plotGroups(rows, epochs);
    }

    /** The grouping as it forms: squared cosines within and across groups, the grouping loss, each group head's top-1. */
    private void plotGroups(List<EpochMetrics> rows, double[] epochs) throws IOException {
        if (rows.stream().anyMatch(r -> r.groups().groupTop1().length == 0)) return;
        XYChart groups = new XYChartBuilder()
                .width(900)
                .height(560)
                .title("SEF groups per epoch (test split)")
                .xAxisTitle("epoch")
                .yAxisTitle("squared cosine / loss / top-1")
                .build();
        add(
                groups,
                "intra-group squared cosine",
                epochs,
                series(rows, r -> r.groups().intraSquaredCosine()));
        add(
                groups,
                "inter-group squared cosine",
                epochs,
                series(rows, r -> r.groups().interSquaredCosine()));
        add(groups, "test grouping L_group", epochs, series(rows, r -> r.test().grouping()));
        int g = rows.get(0).groups().groupTop1().length;
        for (int i = 0; i < g; i++) {
            int group = i;
            add(
                    groups,
                    "group " + i + " head top-1",
                    epochs,
                    series(
                            rows,
                            r -> r.groups().groupTop1().length > group
                                    ? r.groups().groupTop1()[group]
                                    : Double.NaN));
        }
        save(groups, run.plots().resolve(GROUPS_PLOT));
    }

    /** File name of the group-metrics plot under plots/. */
    static final String GROUPS_PLOT = "groups.png";

    private static double[] series(List<EpochMetrics> rows, ToDoubleFunction<EpochMetrics> f) {
        return rows.stream().mapToDouble(f).toArray();
    }

    private static void add(XYChart chart, String name, double[] x, double[] y) {
        chart.addSeries(name, x, y).setMarker(SeriesMarkers.CIRCLE);
    }

    private static void save(XYChart chart, Path file) throws IOException {
        AtomicFiles.write(file, BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG));
    }
}
