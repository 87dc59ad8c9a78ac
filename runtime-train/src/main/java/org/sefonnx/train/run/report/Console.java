package org.sefonnx.train.run.report;

import java.io.PrintStream;
import java.util.function.LongSupplier;

/**
 * Where a run's lines go: {@code log} for progress and results, {@code warn} for warnings (stderr when the log is
 * stdout, so a redirected log keeps them apart), whether the log is a terminal (progress bars redraw one line there,
 * print every {@link Progress#LOG_INTERVAL_SECONDS} otherwise), and the clock progress and estimates read.
 */
public record Console(PrintStream log, PrintStream warn, boolean terminal, LongSupplier nanoClock) {
    /** {@code log}, a terminal when the JVM has a console; warnings on stderr when {@code log} is stdout. */
    public static Console of(PrintStream log) {
        return new Console(log, log == System.out ? System.err : log, System.console() != null, System::nanoTime);
    }

    /** A progress bar over {@code total} steps (batches, or images when checking them), with images/s and ETA. */
    public Progress progress(String label, int total) {
        return new Progress(log, terminal, label, total, nanoClock);
    }

    /** One warning line. */
    public void warn(String message) {
        warn.println("warning: " + message);
    }
}
