package org.sefonnx.train.run;

import java.io.PrintStream;

/** Where a run's lines go, and whether it is a terminal (progress bars redraw one line there, print every tenth otherwise). */
record Console(PrintStream log, boolean terminal) {
    /** {@code log}, a terminal when the JVM has a console. */
    static Console of(PrintStream log) {
        return new Console(log, System.console() != null);
    }

    /** A progress bar over {@code totalBatches} batches (images/s and ETA). */
    Progress progress(String label, int totalBatches) {
        return new Progress(log, terminal, label, totalBatches);
    }
}
