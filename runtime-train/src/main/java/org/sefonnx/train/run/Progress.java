package org.sefonnx.train.run;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A per-epoch progress line with images/s and ETA. On a terminal it redraws one line; otherwise (CI, a log file)
 * it prints a line at every tenth of the epoch so logs stay short.
 */
final class Progress {
    private final PrintStream out;
    private final boolean terminal;
    private final String label;
    private final int totalBatches;
    private final long startNanos = System.nanoTime();
    private int lastDecile = -1;
    private long images;

    Progress(PrintStream out, boolean terminal, String label, int totalBatches) {
        this.out = out;
        this.terminal = terminal;
        this.label = label;
        this.totalBatches = Math.max(1, totalBatches);
    }

    void update(int batchesDone, int batchImages, String extra) {
        images += batchImages;
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        double rate = images / Math.max(seconds, 1e-9);
        double eta = batchesDone == 0 ? 0 : seconds / batchesDone * (totalBatches - batchesDone);
        int width = 30, filled = (int) Math.round(width * batchesDone / (double) totalBatches);
        String line = String.format(
                Locale.ROOT,
                "%s [%s%s] %d/%d  %.1f img/s  ETA %s  %s",
                label,
                "=".repeat(filled),
                " ".repeat(width - filled),
                batchesDone,
                totalBatches,
                rate,
                clock(eta),
                extra);
        if (terminal) {
            out.print("\r" + line);
            if (batchesDone == totalBatches) out.println();
        } else {
            int decile = batchesDone * 10 / totalBatches;
            if (decile != lastDecile) {
                lastDecile = decile;
                out.println(line);
            }
        }
        out.flush();
    }

    double imagesPerSecond() {
        return images / Math.max((System.nanoTime() - startNanos) / 1e9, 1e-9);
    }

    double seconds() {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    static String clock(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600
                ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
