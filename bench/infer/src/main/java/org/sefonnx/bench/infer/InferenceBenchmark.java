package org.sefonnx.bench.infer;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.imageio.ImageIO;
import org.sefonnx.bench.common.BenchCommand;
import org.sefonnx.bench.common.Machine;
import org.sefonnx.contract.ExportLayout;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.imaging.PreprocessingSpec;
import org.sefonnx.infer.SefClassifier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * runtime-infer against a bare {@code OrtSession.run} on the same model in the same JVM: single-image latency (p50,
 * p99), batch-32 throughput, and a soak of concurrent callers watching VmRSS; options in {@code --help}. With
 * {@code --djl on} (the default) the same measurements run on DJL 0.36 + PyTorch 2.7.1 CPU with a torchvision-layout
 * ResNet-18 of random weights, K and input size of the bench's model, same intra-op thread count
 * ({@link DjlInference}). The DJL phases follow the ORT phases instead of being interleaved call by call: both runtimes'
 * worker threads spin for a while after a call (ORT's intra-op pool, libgomp's OpenMP team), and interleaving would time
 * each runtime against the other's spinning threads.
 */
@Command(
        name = "InferenceBenchmark",
        mixinStandardHelpOptions = true,
        showDefaultValues = true,
        description = "runtime-infer against a bare OrtSession.run (and DJL + PyTorch) on the same model.")
public final class InferenceBenchmark implements Callable<Integer> {
    private static final int BATCH = 32;

    /** --djl's values. */
    enum Switch {
        ON,
        OFF
    }

    @Option(names = "--model", description = "An export directory (default: a ResNet-18 built with the generator).")
    Path model;

    @Option(names = "--depth", defaultValue = "18", description = "ResNet depth of the built model.")
    int depth;

    @Option(names = "--size", defaultValue = "32", description = "Input side of the built model, in pixels.")
    int size;

    @Option(names = "--classes", defaultValue = "10", description = "Classes of the built model.")
    int classes;

    @Option(names = "--threads", defaultValue = "2", description = "Intra-op threads, both runtimes.")
    int threads;

    @Option(names = "--iterations", defaultValue = "300", description = "Timed single-image calls.")
    int iterations;

    @Option(names = "--callers", defaultValue = "16", description = "Concurrent callers of the soak.")
    int callers;

    @Option(names = "--soak-seconds", defaultValue = "60", description = "Length of the soak.")
    int soakSeconds;

    @Option(
            names = "--warmup-seconds",
            defaultValue = "20",
            description = "Of the soak, before the reference VmRSS is taken.")
    int warmUpSeconds;

    @Option(
            names = "--djl",
            defaultValue = "on",
            description = "${COMPLETION-CANDIDATES}: the same measurements on DJL + PyTorch CPU.")
    Switch djl;

    private InferenceBenchmark() {}

    public static void main(String[] args) {
        BenchCommand.run(new InferenceBenchmark(), args);
    }

    @Override
    public Integer call() throws Exception {
        boolean djl = this.djl == Switch.ON;
        if (djl) DjlInference.configure(threads);
        String loadAtStart = Machine.loadAverage();
        Path export = model != null ? model : BenchExports.float32(depth, size, classes);
        System.out.printf(
                Locale.ROOT,
                "model %s, %d intra-op threads, %d CPUs, %s%n",
                export,
                threads,
                Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        System.out.println("load average at start: " + loadAtStart);

        SefClassifier.Options options = SefClassifier.Options.defaults().withIntraOpThreads(threads);
        try (SefClassifier classifier = SefClassifier.open(export, options);
                OrtSession.SessionOptions bareOptions = new OrtSession.SessionOptions()) {
            bareOptions.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            bareOptions.setIntraOpNumThreads(threads);
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            try (OrtSession bare =
                            env.createSession(export.resolve(ExportLayout.MODEL).toString(), bareOptions);
                    DjlInference torch = djl
                            ? DjlInference.open(
                                    threads,
                                    classifier.numClasses(),
                                    classifier.preprocessing().cropHeight(),
                                    classifier.preprocessing().cropWidth())
                            : null) {
                if (torch != null && (model != null || depth != 18)) {
                    System.out.println("note: the DJL side is always ResNet-18; the ORT model is "
                            + (model != null ? "an export given by --model" : "ResNet-" + depth));
                }
                PreprocessingSpec spec = classifier.preprocessing();
                int per = spec.floatsPerImage();
                byte[] jpeg = pictureJpeg(
                        Math.max(64, spec.resizeWidth() * 3 / 2), Math.max(48, spec.resizeHeight() * 9 / 8));
                Path picture = Files.createTempFile("bench-picture", ".jpg");
                Files.write(picture, jpeg);
                picture.toFile().deleteOnExit();
                float[] one = new float[per], batch = new float[BATCH * per];
                SplittableRandom random = new SplittableRandom(1);
                for (int i = 0; i < batch.length; i++) batch[i] = (float) random.nextGaussian();
                System.arraycopy(batch, 0, one, 0, per);
                long[] shapeOne = {1, 3, spec.cropHeight(), spec.cropWidth()},
                        shapeBatch = {BATCH, 3, spec.cropHeight(), spec.cropWidth()};

                FloatBuffer directOne = direct(one), directBatch = direct(batch);
                Runnable bareOne = () -> bareRun(env, bare, directOne, shapeOne);
                Runnable inferOne = () -> classifier.logitsOfPreprocessed(one);
                Runnable inferPicture = () -> classifier.predict(picture);
                for (int i = 0; i < Math.max(20, iterations / 5); i++) {
                    bareOne.run();
                    inferOne.run();
                    inferPicture.run();
                }
                // interleaved rounds, so that drift (turbo, other load) hits both sides alike
                String loadSingle = Machine.loadAverage();
                long[] cpu0 = Machine.cpuTicks();
                long phase0 = System.nanoTime();
                long[][] latency = new long[3][iterations];
                for (int i = 0; i < iterations; i++) {
                    latency[0][i] = time(bareOne);
                    latency[1][i] = time(inferOne);
                    latency[2][i] = time(inferPicture);
                }
                String othersSingle = othersCores(cpu0, phase0);
                long[] djlLatency = null;
                String loadDjlSingle = null, othersDjlSingle = null;
                if (torch != null) {
                    torch.enterThread();
                    System.out.println("DJL check: " + torch.check(directOne, shapeOne));
                    Runnable djlOne = () -> torch.run(directOne, shapeOne);
                    for (int i = 0; i < Math.max(20, iterations / 5); i++) djlOne.run();
                    loadDjlSingle = Machine.loadAverage();
                    cpu0 = Machine.cpuTicks();
                    phase0 = System.nanoTime();
                    djlLatency = new long[iterations];
                    for (int i = 0; i < iterations; i++) djlLatency[i] = time(djlOne);
                    othersDjlSingle = othersCores(cpu0, phase0);
                }
                System.out.println("\nsingle image, latency over " + iterations + " calls (ms):       p50      p99");
                report("  bare OrtSession.run (preprocessed)    ", latency[0]);
                report("  SefClassifier.logitsOfPreprocessed    ", latency[1]);
                report("  SefClassifier.predict(jpeg file)      ", latency[2]);
                if (djlLatency != null) report("  DJL/PyTorch forward (preprocessed)    ", djlLatency);
                System.out.println("  load average before the ORT phase: " + loadSingle + ", others' CPU during it: "
                        + othersSingle + " cores"
                        + (djlLatency == null
                                ? ""
                                : "; before the DJL phase: " + loadDjlSingle + ", others' CPU: " + othersDjlSingle
                                        + " cores"));
                System.out.printf(
                        Locale.ROOT,
                        "  overhead of runtime-infer at p50: %+.1f %%%n",
                        100.0 * (percentile(latency[1], 50) - percentile(latency[0], 50)) / percentile(latency[0], 50));

                List<Path> pictures = new ArrayList<>();
                for (int i = 0; i < BATCH; i++) pictures.add(picture);
                Runnable bareBatch = () -> bareRun(env, bare, directBatch, shapeBatch);
                Runnable inferBatch = () -> classifier.logitsOfPreprocessed(batch);
                Runnable inferBatchFiles = () -> classifier.predictBatch(pictures);
                int batchRounds = Math.max(5, iterations / 10);
                for (int i = 0; i < 3; i++) {
                    bareBatch.run();
                    inferBatch.run();
                    inferBatchFiles.run();
                }
                String loadBatch = Machine.loadAverage();
                cpu0 = Machine.cpuTicks();
                phase0 = System.nanoTime();
                long[][] batchTimes = new long[3][batchRounds];
                for (int i = 0; i < batchRounds; i++) {
                    batchTimes[0][i] = time(bareBatch);
                    batchTimes[1][i] = time(inferBatch);
                    batchTimes[2][i] = time(inferBatchFiles);
                }
                String othersBatch = othersCores(cpu0, phase0);
                long[] djlBatchTimes = null;
                String loadDjlBatch = null, othersDjlBatch = null;
                if (torch != null) {
                    Runnable djlBatch = () -> torch.run(directBatch, shapeBatch);
                    for (int i = 0; i < 3; i++) djlBatch.run();
                    loadDjlBatch = Machine.loadAverage();
                    cpu0 = Machine.cpuTicks();
                    phase0 = System.nanoTime();
                    djlBatchTimes = new long[batchRounds];
                    for (int i = 0; i < batchRounds; i++) djlBatchTimes[i] = time(djlBatch);
                    othersDjlBatch = othersCores(cpu0, phase0);
                }
                System.out.println("\nbatch of " + BATCH + ", throughput over " + batchRounds
                        + " batches (images/s, from the median batch time)");
                double bareRate = BATCH / (percentile(batchTimes[0], 50) / 1e9),
                        inferRate = BATCH / (percentile(batchTimes[1], 50) / 1e9);
                System.out.printf(Locale.ROOT, "  bare OrtSession.run (preprocessed)     %8.1f%n", bareRate);
                System.out.printf(
                        Locale.ROOT,
                        "  SefClassifier.logitsOfPreprocessed     %8.1f  (%+.1f %%)%n",
                        inferRate,
                        100 * (inferRate - bareRate) / bareRate);
                System.out.printf(
                        Locale.ROOT,
                        "  SefClassifier.predictBatch(jpeg files) %8.1f%n",
                        BATCH / (percentile(batchTimes[2], 50) / 1e9));
                double djlRate = djlBatchTimes == null ? Double.NaN : BATCH / (percentile(djlBatchTimes, 50) / 1e9);
                if (djlBatchTimes != null) {
                    System.out.printf(
                            Locale.ROOT,
                            "  DJL/PyTorch forward (preprocessed)     %8.1f  (%+.1f %% vs bare ORT)%n",
                            djlRate,
                            100 * (djlRate - bareRate) / bareRate);
                }
                System.out.println("  load average before the ORT phase: " + loadBatch + ", others' CPU during it: "
                        + othersBatch + " cores"
                        + (djlBatchTimes == null
                                ? ""
                                : "; before the DJL phase: " + loadDjlBatch + ", others' CPU: " + othersDjlBatch
                                        + " cores"));

                System.out.printf(
                        Locale.ROOT,
                        "%nsummary, preprocessed input, %d intra-op threads (%s, %dx%d, K=%d)%n",
                        threads,
                        model != null ? "export " + export : "ResNet-" + depth,
                        spec.cropWidth(),
                        spec.cropHeight(),
                        classifier.numClasses());
                System.out.println("| runtime | 1 image p50 (ms) | 1 image p99 (ms) | batch 32 (images/s) |");
                System.out.println("| --- | ---: | ---: | ---: |");
                System.out.printf(
                        Locale.ROOT,
                        "| ORT 1.23.2, bare `OrtSession.run` | %.3f | %.3f | %.1f |%n",
                        percentile(latency[0], 50) / 1e6,
                        percentile(latency[0], 99) / 1e6,
                        bareRate);
                System.out.printf(
                        Locale.ROOT,
                        "| runtime-infer `logitsOfPreprocessed` | %.3f | %.3f | %.1f |%n",
                        percentile(latency[1], 50) / 1e6,
                        percentile(latency[1], 99) / 1e6,
                        inferRate);
                if (djlLatency != null) {
                    System.out.printf(
                            Locale.ROOT,
                            "| DJL 0.36.0 + PyTorch 2.7.1, block forward (random weights) | %.3f | %.3f | %.1f |%n",
                            percentile(djlLatency, 50) / 1e6,
                            percentile(djlLatency, 99) / 1e6,
                            djlRate);
                }

                soak(classifier, picture, callers, soakSeconds, warmUpSeconds);
            }
        }
        return 0;
    }

    private static void soak(SefClassifier classifier, Path picture, int callers, int seconds, int warmUpSeconds)
            throws InterruptedException {
        System.out.printf(
                Locale.ROOT,
                "%n%d concurrent callers of predict(jpeg file) for %d s (VmRSS every 5 s)%n",
                callers,
                seconds);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong calls = new AtomicLong(), errors = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < callers; t++) {
            Thread thread = new Thread(
                    () -> {
                        while (!stop.get()) {
                            try {
                                if (classifier.predict(picture).isEmpty()) errors.incrementAndGet();
                                calls.incrementAndGet();
                            } catch (RuntimeException e) {
                                if (errors.incrementAndGet() == 1) e.printStackTrace();
                            }
                        }
                    },
                    "caller-" + t);
            threads.add(thread);
            thread.start();
        }
        long start = System.nanoTime();
        long warmRss = -1, maxAfterWarm = 0, lastRss = 0;
        for (int s = 5; s <= seconds; s += 5) {
            Thread.sleep(Math.max(0, start / 1_000_000 + s * 1000L - System.nanoTime() / 1_000_000));
            lastRss = vmRssKb();
            if (s >= warmUpSeconds && warmRss < 0) warmRss = lastRss;
            if (warmRss >= 0) maxAfterWarm = Math.max(maxAfterWarm, lastRss);
            System.out.printf(
                    Locale.ROOT,
                    "  t=%3ds  calls %8d  errors %d  VmRSS %7.1f MB%n",
                    s,
                    calls.get(),
                    errors.get(),
                    lastRss / 1024.0);
        }
        stop.set(true);
        for (Thread thread : threads) thread.join();
        double elapsed = (System.nanoTime() - start) / 1e9;
        System.out.printf(
                Locale.ROOT,
                "  %d calls in %.1f s = %.1f images/s, %d errors; VmRSS after %d s warm-up %.1f MB, max afterwards %.1f MB (%+.1f %%), final %.1f MB%n",
                calls.get(),
                elapsed,
                calls.get() / elapsed,
                errors.get(),
                warmUpSeconds,
                warmRss / 1024.0,
                maxAfterWarm / 1024.0,
                100.0 * (maxAfterWarm - warmRss) / warmRss,
                lastRss / 1024.0);
    }

    /** Cores used by other processes since {@code before} / {@code startNanos}. */
    static String othersCores(long[] before, long startNanos) {
        double cores = Machine.otherCores(before, Machine.cpuTicks(), (System.nanoTime() - startNanos) / 1e9);
        return Double.isNaN(cores) ? "n/a" : String.format(Locale.ROOT, "%.2f", cores);
    }

    static FloatBuffer direct(float[] values) {
        FloatBuffer buffer = ByteBuffer.allocateDirect(values.length * Float.BYTES)
                .order(ByteOrder.nativeOrder())
                .asFloatBuffer();
        return buffer.put(values).rewind();
    }

    /** The best an embedder can do by hand: the input already in a direct buffer (no copy), a tensor, run, read the logits. */
    static void bareRun(OrtEnvironment env, OrtSession session, FloatBuffer input, long[] shape) {
        try (OnnxTensor tensor = OnnxTensor.createTensor(env, input, shape);
                OrtSession.Result result =
                        session.run(Map.of(ExportLayout.MODEL_INPUT, tensor), Set.of(TensorNames.LOGITS))) {
            FloatBuffer logits = ((OnnxTensor) result.get(0)).getFloatBuffer();
            if (logits.capacity() % shape[0] != 0) throw new IllegalStateException("bad output");
        } catch (OrtException e) {
            throw new IllegalStateException(e);
        }
    }

    static long time(Runnable r) {
        long t0 = System.nanoTime();
        r.run();
        return System.nanoTime() - t0;
    }

    static double percentile(long[] nanos, double p) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        int index = (int) Math.min(sorted.length - 1, Math.ceil(p / 100.0 * sorted.length) - 1);
        return sorted[Math.max(0, index)];
    }

    private static void report(String what, long[] nanos) {
        System.out.printf(
                Locale.ROOT, "%s %8.3f %8.3f%n", what, percentile(nanos, 50) / 1e6, percentile(nanos, 99) / 1e6);
    }

    private static long vmRssKb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        } catch (IOException e) {
            return -1;
        }
        return -1;
    }

    static byte[] pictureJpeg(int width, int height) throws IOException {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
        Graphics2D g = image.createGraphics();
        g.setPaint(new GradientPaint(0, 0, new Color(70, 130, 200), width, height, new Color(230, 200, 120)));
        g.fillRect(0, 0, width, height);
        g.setColor(new Color(160, 50, 40));
        g.fillOval(width / 3, height / 3, width / 4, height / 5);
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(image, "jpeg", out);
        return out.toByteArray();
    }
}
