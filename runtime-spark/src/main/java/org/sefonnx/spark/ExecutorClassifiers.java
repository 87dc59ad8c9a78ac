package org.sefonnx.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.sefonnx.infer.SefClassifier;

/**
 * The classifiers of this JVM, one per model identity and thread count: every task of an executor shares one ORT
 * session (SefClassifier is thread-safe), so an executor holds the model's weights once however many partitions it
 * runs. Opened on first use, closed when the JVM shuts down.
 */
final class ExecutorClassifiers {
    /**
     * A classifier that opens at most once: computeIfAbsent must not run a seconds-long ORT load while it holds a
     * map bin, so the map only hands out slots and each slot opens itself under its own lock.
     */
    private static final class Slot {
        private SefClassifier classifier;

        synchronized SefClassifier open(
                String sha256, int intraOpThreads, Supplier<ExportBundle> bundle, Path scratch, Runnable onOpened) {
            if (classifier == null) {
                try {
                    Path dir = bundle.get().materialize(scratch, sha256);
                    // the cache does the batching and the truncation to each job's top-k: one session serves every job;
                    // the copy has no manifest to check: the driver checked the export, materialize the bytes in
                    // transit
                    SefClassifier.Options options = SefClassifier.Options.defaults()
                            .withIntraOpThreads(intraOpThreads)
                            .withTopK(Integer.MAX_VALUE)
                            .withMaxBatch(Integer.MAX_VALUE)
                            .withVerifyManifest(false);
                    classifier = SefClassifier.open(dir, options);
                } catch (IOException e) {
                    throw new UncheckedIOException(
                            "opening the model " + sha256 + " under " + scratch + ": " + e.getMessage(), e);
                }
                SESSIONS_OPENED.incrementAndGet();
                onOpened.run();
            }
            return classifier;
        }

        synchronized void close() {
            if (classifier != null) classifier.close();
        }
    }

    private static final ConcurrentHashMap<String, Slot> SLOTS = new ConcurrentHashMap<>();
    private static final AtomicInteger SESSIONS_OPENED = new AtomicInteger();

    static {
        Runtime.getRuntime()
                .addShutdownHook(new Thread(() -> SLOTS.values().forEach(Slot::close), "sef-classifiers-close"));
    }

    private ExecutorClassifiers() {}

    /**
     * This JVM's classifier of the model {@code sha256} with {@code intraOpThreads} ORT threads; on a miss the bundle
     * (the broadcast, fetched only then) is checked against {@code sha256}, written under {@code scratch} and opened,
     * and {@code onOpened} runs once.
     */
    static SefClassifier get(
            String sha256, int intraOpThreads, Supplier<ExportBundle> bundle, Path scratch, Runnable onOpened) {
        return SLOTS.computeIfAbsent(sha256 + "/" + intraOpThreads, key -> new Slot())
                .open(sha256, intraOpThreads, bundle, scratch, onOpened);
    }

    /** ORT sessions this JVM has opened so far. */
    static int sessionsOpened() {
        return SESSIONS_OPENED.get();
    }
}
