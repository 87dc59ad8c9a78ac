package org.sefonnx.train.cli;

import java.util.Locale;

/** Turns an OutOfMemoryError into a run failure that says what to change (never into a "bad image"). */
final class OutOfMemory {
    private OutOfMemory() {}

    static IllegalStateException advice(OutOfMemoryError e, int workers) {
        long maxMb = Runtime.getRuntime().maxMemory() >> 20;
        return new IllegalStateException(
                String.format(
                        Locale.ROOT,
                        "out of memory (%s; the JVM may use %d MB): run java with a larger -Xmx, "
                                + "or lower --workers (now %s; each decodes one image at a time) or --batch-size",
                        e.getMessage(),
                        maxMb,
                        workers == 0 ? "one per core" : Integer.toString(workers)),
                e);
    }
}
