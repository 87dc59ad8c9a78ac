package org.sefonnx.train.cli;

import java.util.Locale;
import java.util.concurrent.Callable;
import org.sefonnx.imaging.ImageDecoder;

/**
 * Turns an OutOfMemoryError, thrown as it is or found down a cause chain (ImageIO wraps one in an IIOException), into
 * a run failure that says what to change: exit code 4, never a "bad image".
 */
final class OutOfMemory {
    private OutOfMemory() {}

    /** The failure the command line reports with {@link SefOnnx#EXIT_OUT_OF_MEMORY}. */
    static final class Failure extends IllegalStateException {
        Failure(String message, OutOfMemoryError cause) {
            super(message, cause);
        }
    }

    static Failure advice(OutOfMemoryError e, int workers) {
        long maxMb = Runtime.getRuntime().maxMemory() >> 20;
        return new Failure(
                String.format(
                        Locale.ROOT,
                        "out of memory (%s; the JVM may use %d MB): run java with a larger -Xmx, "
                                + "or lower --workers (now %s; each decodes one image at a time) or --batch-size",
                        e.getMessage(),
                        maxMb,
                        workers == 0 ? "one per core" : Integer.toString(workers)),
                e);
    }

    /** Runs a command's body; an OutOfMemoryError in it, raw or as the cause of another exception, becomes advice. */
    static Integer guard(Callable<Integer> body, int workers) throws Exception {
        try {
            return body.call();
        } catch (OutOfMemoryError e) {
            throw advice(e, workers);
        } catch (Failure e) {
            throw e;
        } catch (Exception e) {
            OutOfMemoryError oom = ImageDecoder.outOfMemoryIn(e);
            if (oom != null) throw advice(oom, workers);
            throw e;
        }
    }
}
