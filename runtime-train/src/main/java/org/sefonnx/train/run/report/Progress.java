package org.sefonnx.train.run.report;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * A progress line with images/s and ETA over a pass's steps (batches, or images when checking them). On a terminal it
 * redraws one line; otherwise (CI, a log file) it prints a line every {@value #LOG_INTERVAL_SECONDS} s and at the end,
 * so a log holds a few lines per pass whatever the number of batches.
 */
public final class Progress {
    /** Seconds between lines when the output is not a terminal. */
    static final double LOG_INTERVAL_SECONDS = 30;

    private final PrintStream out;
    private final boolean terminal;
    private final String label;
    private final int total;
    private final LongSupplier clock;
    private final long startNanos;
    private long lastPrintedNanos;
    private long images;

    public Progress(PrintStream out, boolean terminal, String label, int total, LongSupplier clock) {
        this.out = out;
        this.terminal = terminal;
        this.label = label;
        this.total = Math.max(1, total);
        this.clock = clock;
        this.startNanos = clock.getAsLong();
        this.lastPrintedNanos = startNanos;
    }

    /** {@code done} of the total steps are done; the last one held {@code stepImages} images. */
    public void update(int done, int stepImages, String extra) {
        images += stepImages;
        long now = clock.getAsLong();
        double seconds = (now - startNanos) / 1e9;
        double rate = images / Math.max(seconds, 1e-9);
        double eta = done == 0 ? 0 : seconds / done * (total - done);
        int width = 30, filled = (int) Math.round(width * Math.min(done, total) / (double) total);
        String line = String.format(
                Locale.ROOT,
                "%s [%s%s] %d/%d  %.1f img/s  ETA %s  %s",
                label,
                "=".repeat(filled),
                " ".repeat(width - filled),
                done,
                total,
                rate,
                clock(eta),
                extra);
        if (terminal) {
            out.print("\r" + line);
            if (done == total) out.println();
        } else if (done == total || (now - lastPrintedNanos) / 1e9 >= LOG_INTERVAL_SECONDS) {
            lastPrintedNanos = now;
            out.println(line.stripTrailing());
        }
        out.flush();
    }

    public double imagesPerSecond() {
        return images / Math.max(seconds(), 1e-9);
    }

    public double seconds() {
        return (clock.getAsLong() - startNanos) / 1e9;
    }

    static String clock(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600
                ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
