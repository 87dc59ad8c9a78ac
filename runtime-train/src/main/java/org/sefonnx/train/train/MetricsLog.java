package org.sefonnx.train.train;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.sefonnx.generator.artifacts.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

/** metrics.jsonl, metrics.csv and the PNG plots of a run, rewritten whole after every epoch. */
final class MetricsLog {
    private final RunDirectory run;
    private final List<EpochMetrics> rows = new ArrayList<>();

    MetricsLog(RunDirectory run) {
        this.run = run;
    }

    /** Keeps the rows of epochs a resumed checkpoint already covers (later ones belong to a killed epoch). */
    void restore(List<EpochMetrics> previous, int lastCompletedEpoch) {
        for (EpochMetrics m : previous) if (m.epoch() <= lastCompletedEpoch) rows.add(m);
    }

    List<EpochMetrics> rows() {
        return List.copyOf(rows);
    }

    void append(EpochMetrics m) throws IOException {
        rows.add(m);
        StringBuilder jsonl = new StringBuilder(), csv = new StringBuilder(m.csvHeader()).append('\n');
        for (EpochMetrics r : rows) {
            jsonl.append(r.toJson()).append('\n');
            csv.append(r.toCsv()).append('\n');
        }
        AtomicFiles.writeString(run.metricsJsonl(), jsonl.toString());
        AtomicFiles.writeString(run.metricsCsv(), csv.toString());
        try {
            plot();
        } catch (RuntimeException | Error e) {
            // a host without fonts (a bare CUDA container) cannot render chart text: the run and the metrics matter more
            if (!plotWarningShown) System.err.println("warning: plots not written (" + e + "); metrics.csv and metrics.jsonl are complete");
            plotWarningShown = true;
        }
    }

    private boolean plotWarningShown;

    private void plot() throws IOException {
        System.setProperty("java.awt.headless", "true");
        Files.createDirectories(run.plots());
        double[] epochs = series(r -> r.epoch() + 1);
        XYChart loss = new XYChartBuilder().width(900).height(560).title("SEF loss terms per epoch").xAxisTitle("epoch").yAxisTitle("mean over the epoch").build();
        add(loss, "train loss", epochs, series(r -> r.train().loss()));
        add(loss, "train CE", epochs, series(r -> r.train().crossEntropy()));
        add(loss, "train entropy E", epochs, series(r -> r.train().entropy()));
        add(loss, "train distillation S", epochs, series(r -> r.train().distillation()));
        add(loss, "train grouping L_group", epochs, series(r -> r.train().grouping()));
        add(loss, "test CE", epochs, series(r -> r.test().crossEntropy()));
        save(loss, run.plots().resolve("loss.png"));

        XYChart acc = new XYChartBuilder().width(900).height(560).title("Test accuracy per epoch").xAxisTitle("epoch").yAxisTitle("accuracy").build();
        add(acc, "top-1", epochs, series(EpochMetrics::testTop1));
        add(acc, "mean per-class", epochs, series(EpochMetrics::testMeanClassAccuracy));
        save(acc, run.plots().resolve("accuracy.png"));

        XYChart lr = new XYChartBuilder().width(900).height(400).title("Learning rate and throughput").xAxisTitle("epoch").yAxisTitle("learning rate").build();
        add(lr, "learning rate", epochs, series(EpochMetrics::learningRate));
        save(lr, run.plots().resolve("learning-rate.png"));
    }

    private double[] series(ToDoubleFunction<EpochMetrics> f) {
        return rows.stream().mapToDouble(f).toArray();
    }

    private static void add(XYChart chart, String name, double[] x, double[] y) {
        chart.addSeries(name, x, y).setMarker(SeriesMarkers.CIRCLE);
    }

    private static void save(XYChart chart, Path file) throws IOException {
        Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp.png");
        BitmapEncoder.saveBitmap(chart, tmp.toString(), BitmapEncoder.BitmapFormat.PNG);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    /** Reads metrics.jsonl back (for --resume). */
    static List<EpochMetrics> read(Path jsonl) throws IOException {
        List<EpochMetrics> r = new ArrayList<>();
        if (!Files.exists(jsonl)) return r;
        for (String line : Files.readAllLines(jsonl)) {
            if (line.isBlank()) continue;
            java.util.Map<String, Double> v = new java.util.HashMap<>();
            for (String part : line.replaceAll("[{}\"]", "").split(",")) {
                String[] kv = part.split(":");
                v.put(kv[0].strip(), kv[1].strip().equals("null") ? Double.NaN : Double.parseDouble(kv[1].strip()));
            }
            r.add(new EpochMetrics(v.get("epoch").intValue(), v.get("lr"),
                    new EpochMetrics.LossTerms(v.get("train_loss"), v.get("train_cross_entropy"), v.get("train_entropy"), v.get("train_distillation"), v.get("train_grouping")),
                    new EpochMetrics.LossTerms(v.get("test_loss"), v.get("test_cross_entropy"), v.get("test_entropy"), v.get("test_distillation"), v.get("test_grouping")),
                    v.get("test_top1"), v.get("test_mean_class_accuracy"), v.get("train_images_per_second"), v.get("epoch_seconds"),
                    v.get("best_top1"), v.get("best_epoch").intValue(), v.get("global_step").longValue()));
        }
        return r;
    }
}
