package org.sefonnx.bench.gpu;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The one table a bench run prints: throughputs with their share of the card's dense peak, and the checks. */
final class Table {
    private record Line(String section, String configuration, String imagesPerSecond, String peakShare, String note) {}

    private final String card;
    private final double flopPerImage;
    private final boolean dryRun;
    private final CardPeaks peaks;
    private final List<Line> lines = new ArrayList<>();

    Table(String card, double flopPerImage, boolean dryRun) {
        this.card = card;
        this.flopPerImage = flopPerImage;
        this.dryRun = dryRun;
        this.peaks = CardPeaks.forCard(card);
    }

    /** A measured throughput; {@code arithmetic} (fp32, tf32, fp16) selects the peak it is a share of. */
    void row(String section, String configuration, GpuBench.Throughput t, String arithmetic) {
        lines.add(new Line(
                section,
                configuration,
                String.format(Locale.ROOT, "%.1f", t.imagesPerSecond()),
                share(t.imagesPerSecond(), arithmetic),
                t.note()));
    }

    void skipped(String section, String configuration, String why) {
        lines.add(new Line(section, configuration, "-", "-", why));
    }

    void check(String section, String configuration, String result) {
        lines.add(new Line(section, configuration, "", "", result));
    }

    /**
     * PyTorch's rows from torch_bench.py (tab-separated: configuration, img/s, arithmetic, note), first in the table;
     * a missing file (a dry run, or no GPU) is one row saying so.
     */
    void torchRows(Path file) throws IOException {
        if (file == null || !Files.exists(file)) {
            skipped(
                    "PyTorch eager",
                    "fp32/TF32 and AMP fp16, NCHW and channels_last",
                    dryRun
                            ? "not run: PyTorch runs on the GPU machine only (dry run)"
                            : "not run: no rows from torch_bench.py");
            return;
        }
        for (String l : Files.readAllLines(file)) {
            if (l.isBlank() || l.startsWith("#")) continue;
            String[] f = l.split("\t", -1);
            if (f.length < 4)
                throw new IllegalArgumentException(file + ": expected 4 tab-separated fields, got '" + l + "'");
            double rate = Double.parseDouble(f[1]);
            lines.add(
                    new Line("PyTorch eager", f[0], String.format(Locale.ROOT, "%.1f", rate), share(rate, f[2]), f[3]));
        }
    }

    private String share(double imagesPerSecond, String arithmetic) {
        if (peaks == null) return "n/a";
        double tflops = imagesPerSecond * flopPerImage / 1e12;
        return String.format(
                Locale.ROOT,
                "%.1f%% of %s %.1f",
                100 * tflops / peaks.peak(arithmetic),
                arithmetic.toUpperCase(Locale.ROOT),
                peaks.peak(arithmetic));
    }

    void print(PrintStream out) {
        out.printf(
                Locale.ROOT,
                "sef-onnx GPU bench%s on %s; training FLOP per image of the throughput model: %.1f GFLOP%n",
                dryRun ? " (DRY RUN on the CPU, tiny shapes: no figure below is a GPU measurement)" : "",
                card,
                flopPerImage / 1e9);
        out.println(
                peaks == null
                        ? "dense peaks: card not in CardPeaks, shares not computed"
                        : String.format(
                                Locale.ROOT,
                                "dense peaks (NVIDIA datasheet, TFLOP/s): FP32 %.1f, TF32 %.1f, FP16 %.1f",
                                peaks.fp32(),
                                peaks.tf32(),
                                peaks.fp16()));
        int[] w = {"section".length(), "configuration".length(), "img/s".length(), "share of dense peak".length()};
        for (Line l : lines) {
            w[0] = Math.max(w[0], l.section().length());
            w[1] = Math.max(w[1], l.configuration().length());
            w[2] = Math.max(w[2], l.imagesPerSecond().length());
            w[3] = Math.max(w[3], l.peakShare().length());
        }
        String fmt = "%-" + w[0] + "s | %-" + w[1] + "s | %" + w[2] + "s | %-" + w[3] + "s | %s%n";
        out.printf(Locale.ROOT, fmt, "section", "configuration", "img/s", "share of dense peak", "result / note");
        out.println("-".repeat(w[0] + w[1] + w[2] + w[3] + 30));
        for (Line l : lines)
            out.printf(Locale.ROOT, fmt, l.section(), l.configuration(), l.imagesPerSecond(), l.peakShare(), l.note());
    }
}
