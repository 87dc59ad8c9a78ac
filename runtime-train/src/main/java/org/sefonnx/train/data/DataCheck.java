package org.sefonnx.train.data;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntConsumer;
import org.sefonnx.imaging.ImageDecodeException;
import org.sefonnx.imaging.ImageDecoder;

/**
 * What a run checks of its data before it writes anything: the class count against the spec, no class without
 * training images (torchvision's ImageFolder refuses those too), a warning for classes without test images, no empty
 * split, and every image file checked once ({@link ImageDecoder#check}: header and end marker, a full decode only when
 * those cannot vouch for the file), so a bad file fails the start in seconds instead of a run after an epoch.
 */
public final class DataCheck {
    /** Images per progress step and per task handed to a worker. */
    public static final int PROGRESS_CHUNK = 64;
    /** Bad images a message lists before "and N more". */
    private static final int LISTED = 5;

    private DataCheck() {}

    /** Image files (not in-memory IDX rasters) the check opens. */
    public static int fileCount(Dataset data) {
        int n = 0;
        for (List<Sample> split : List.of(data.train(), data.test()))
            for (Sample s : split) if (s.source() instanceof ImageSource.File) n++;
        return n;
    }

    /**
     * Checks {@code data}; with {@code skipBad} the bad images (at most {@code maxBad}) are left out of the returned
     * splits, otherwise the first bad one fails the check. {@code progress} receives the number of files checked;
     * {@code warnings} the warnings (skipped images, classes without test images).
     *
     * @throws IllegalArgumentException naming the class, split or files at fault and what to do
     */
    public static CheckedData check(
            Dataset data,
            int specClasses,
            String specId,
            boolean skipBad,
            int maxBad,
            int workers,
            PrintStream warnings,
            IntConsumer progress) {
        if (data.classCount() != specClasses) {
            throw new IllegalArgumentException(
                    data.description() + " has " + data.classCount() + " classes but the model spec " + specId
                            + " has numClasses=" + specClasses + " (use --classes " + data.classCount() + ")");
        }
        requireClasses(data, data.train(), data.test(), warnings);
        Map<String, String> bad = probe(data, workers, progress);
        if (bad.isEmpty()) return new CheckedData(data, data.train(), data.test(), bad);
        if (!skipBad) {
            throw new IllegalArgumentException(bad.size() + " of " + fileCount(data) + " images of "
                    + data.description() + " are unreadable: " + listed(bad)
                    + ". Fix or remove them, or pass --skip-bad-images (which skips at most --max-bad-images of them)");
        }
        if (bad.size() > maxBad) {
            throw new IllegalArgumentException(bad.size() + " images of " + data.description()
                    + " are unreadable, more than --max-bad-images " + maxBad + ": " + listed(bad)
                    + ". The data set looks broken: fix it, or raise --max-bad-images if these are expected");
        }
        List<Sample> train = without(data.train(), bad), test = without(data.test(), bad);
        warnings.println("warning: skipping " + bad.size() + " unreadable images (--skip-bad-images): " + listed(bad));
        requireClasses(data, train, test, warnings);
        return new CheckedData(data, train, test, bad);
    }

    private static void requireClasses(Dataset data, List<Sample> train, List<Sample> test, PrintStream warnings) {
        if (train.isEmpty()) throw new IllegalArgumentException(data.description() + ": the train split has no images");
        requireTestImages(data, test);
        int[] trainCounts = counts(train, data.classCount()), testCounts = counts(test, data.classCount());
        List<String> noTrain = new ArrayList<>(), noTest = new ArrayList<>();
        for (int c = 0; c < data.classCount(); c++) {
            if (trainCounts[c] == 0) noTrain.add("'" + data.classNames().get(c) + "' (class " + c + ")");
            if (testCounts[c] == 0) noTest.add("'" + data.classNames().get(c) + "'");
        }
        if (!noTrain.isEmpty()) {
            throw new IllegalArgumentException(
                    data.description() + ": " + noTrain.size() + " classes have no training images: "
                            + String.join(", ", noTrain)
                            + "; a class the model never sees cannot be learned (torchvision's ImageFolder refuses empty classes too): add images or remove the class");
        }
        if (!noTest.isEmpty()) {
            warnings.println("warning: " + data.description() + ": " + noTest.size()
                    + " classes have no test images, so their accuracy is not measured: " + String.join(", ", noTest));
        }
    }

    /** A test split with no image: top-1 would be undefined (eval and explain score it without a full check). */
    public static void requireTestImages(Dataset data, List<Sample> test) {
        if (test.isEmpty())
            throw new IllegalArgumentException(
                    data.description() + ": the test split has no images (top-1 would be undefined)");
    }

    private static int[] counts(List<Sample> samples, int classes) {
        int[] n = new int[classes];
        for (Sample s : samples) n[s.classIndex()]++;
        return n;
    }

    private static Map<String, String> probe(Dataset data, int workers, IntConsumer progress) {
        List<ImageSource.File> files = new ArrayList<>();
        for (List<Sample> split : List.of(data.train(), data.test())) {
            for (Sample s : split) if (s.source() instanceof ImageSource.File f) files.add(f);
        }
        Map<String, String> bad = new TreeMap<>();
        if (files.isEmpty()) return bad;
        ExecutorService pool = Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, "sef-data-check");
            t.setDaemon(true);
            return t;
        });
        ThreadLocal<ImageDecoder> decoders = ThreadLocal.withInitial(ImageDecoder::new);
        try {
            List<Future<Map<String, String>>> chunks = new ArrayList<>();
            for (int from = 0; from < files.size(); from += PROGRESS_CHUNK) {
                List<ImageSource.File> chunk = files.subList(from, Math.min(files.size(), from + PROGRESS_CHUNK));
                chunks.add(pool.submit(() -> {
                    Map<String, String> found = new TreeMap<>();
                    ImageDecoder decoder = decoders.get();
                    for (ImageSource.File f : chunk) {
                        try {
                            decoder.check(f.path());
                        } catch (ImageDecodeException e) {
                            found.put(f.describe(), e.getMessage());
                        }
                    }
                    return found;
                }));
            }
            int done = 0;
            for (Future<Map<String, String>> chunk : chunks) {
                bad.putAll(chunk.get());
                done = Math.min(files.size(), done + PROGRESS_CHUNK);
                progress.accept(done);
            }
            return bad;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            if (e.getCause() instanceof Error err) throw err;
            throw new IllegalStateException("image check failed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while checking images", e);
        } finally {
            pool.shutdownNow();
        }
    }

    private static List<Sample> without(List<Sample> samples, Map<String, String> bad) {
        return samples.stream()
                .filter(s -> !bad.containsKey(s.source().describe()))
                .toList();
    }

    private static String listed(Map<String, String> bad) {
        List<String> first = bad.values().stream().limit(LISTED).toList();
        return String.join("; ", first) + (bad.size() > LISTED ? "; and " + (bad.size() - LISTED) + " more" : "");
    }
}
