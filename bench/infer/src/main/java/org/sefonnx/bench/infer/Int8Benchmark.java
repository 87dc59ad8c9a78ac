package org.sefonnx.bench.infer;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.sefonnx.bench.common.BenchCommand;
import org.sefonnx.bench.common.Machine;
import org.sefonnx.contract.ExportLayout;
import org.sefonnx.generator.quantize.CalibrationMethod;
import org.sefonnx.infer.SefClassifier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * int8 against float32 serving at the paper's input size, in one JVM: the float32 export and its int8 twin (built as
 * {@link BenchExports} says) through SefClassifier and through a bare OrtSession each, and DJL + PyTorch running the
 * same torchvision architecture. For batches of 1, 8 and 32: the latency of a call (p50, p99) and the throughput of the
 * median call, the ORT sides interleaved call by call (drift and other load hit them alike), the DJL phase after them
 * (see InferenceBenchmark for why). Then the model sizes, the ratios the README reports and, with {@code --profile on},
 * where a batch of 8 spends its time by ORT operator, for both precisions.
 * {@code --help} lists the options with their defaults.
 */
@Command(
        name = "Int8Benchmark",
        mixinStandardHelpOptions = true,
        showDefaultValues = true,
        description = "int8 against float32 serving (SefClassifier and bare sessions) next to DJL + PyTorch.")
public final class Int8Benchmark implements Callable<Integer> {
    /** --djl's and --profile's values. */
    enum Switch {
        ON,
        OFF
    }

    @Option(names = "--depth", defaultValue = "50", description = "ResNet depth.")
    int depth;

    @Option(names = "--size", defaultValue = "448", description = "Input side, in pixels.")
    int size;

    @Option(names = "--classes", defaultValue = "200", description = "Classes of the model.")
    int classes;

    @Option(names = "--threads", defaultValue = "2", description = "Intra-op threads, every side.")
    int threads;

    @Option(names = "--iterations", defaultValue = "40", description = "Timed calls at batch 1.")
    int iterations;

    @Option(names = "--rounds8", defaultValue = "12", description = "Timed calls at batch 8.")
    int rounds8;

    @Option(names = "--rounds32", defaultValue = "4", description = "Timed calls at batch 32.")
    int rounds32;

    @Option(
            names = "--calibration-images",
            defaultValue = "4",
            description =
                    "Random images the int8 twin is calibrated on (speed only: its accuracy is not measured here).")
    int calibrationImages;

    @Option(names = "--djl", defaultValue = "on", description = "${COMPLETION-CANDIDATES}: DJL + PyTorch too.")
    Switch djlSide;

    @Option(
            names = "--djl-batches",
            defaultValue = "1,8,32",
            split = ",",
            description =
                    "DJL's batches (DJL keeps every intermediate array of a forward until the call ends: ResNet-50"
                            + " at 448 px and batch 32 needs more memory than a small machine has).")
    List<Integer> djlBatchList;

    @Option(
            names = "--profile",
            defaultValue = "on",
            description = "${COMPLETION-CANDIDATES}: where a batch of 8 spends its time, by ORT operator.")
    Switch profileSide;

    private static final int[] BATCHES = {1, 8, 32};

    /** One way of running a batch of preprocessed images. */
    private record Side(String name, Runner runner) {}

    private interface Runner {
        void run(int batch);
    }

    private Int8Benchmark() {}

    public static void main(String[] args) {
        BenchCommand.run(new Int8Benchmark(), args);
    }

    @Override
    public Integer call() throws Exception {
        Map<Integer, Integer> rounds = Map.of(1, iterations, 8, rounds8, 32, rounds32);
        boolean djl = djlSide == Switch.ON;
        java.util.Set<Integer> djlBatches = new java.util.HashSet<>(djlBatchList);
        boolean profile = profileSide == Switch.ON;
        if (djl) DjlInference.configure(threads);
        System.out.println(Machine.describe());
        System.out.println("load average at start: " + Machine.loadAverage());

        long t0 = System.nanoTime();
        Path fp32 = BenchExports.float32(depth, size, classes);
        Path int8 = BenchExports.int8(fp32, calibrationImages, new CalibrationMethod.Percentile(99.99));
        long fp32Bytes = Files.size(fp32.resolve(ExportLayout.MODEL)),
                int8Bytes = Files.size(int8.resolve(ExportLayout.MODEL));
        System.out.printf(
                Locale.ROOT,
                "ResNet-%d SEF model (K=%d, G=2) at %d px, generator's initial weights; exports built in %.1f s%n",
                depth,
                classes,
                size,
                (System.nanoTime() - t0) / 1e9);

        SefClassifier.Options options =
                SefClassifier.Options.defaults().withIntraOpThreads(threads).withMaxBatch(32);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        long open0 = System.nanoTime();
        try (SefClassifier fp32Classifier = SefClassifier.open(fp32, options)) {
            double fp32Open = (System.nanoTime() - open0) / 1e6;
            open0 = System.nanoTime();
            try (SefClassifier int8Classifier = SefClassifier.open(int8, options)) {
                double int8Open = (System.nanoTime() - open0) / 1e6;
                System.out.printf(
                        Locale.ROOT,
                        "SefClassifier.open: float32 %.0f ms, int8 %.0f ms (precision %s, its integer kernels checked)%n",
                        fp32Open,
                        int8Open,
                        int8Classifier.precision());
                try (OrtSession.SessionOptions bareOptions = bareOptions(threads, null);
                        OrtSession bareFp32 = env.createSession(
                                fp32.resolve(ExportLayout.MODEL).toString(), bareOptions);
                        OrtSession bareInt8 = env.createSession(
                                int8.resolve(ExportLayout.MODEL).toString(), bareOptions);
                        DjlInference torch = djl ? DjlInference.open(threads, classes, size, size, depth) : null) {
                    if (torch != null) {
                        System.out.printf(
                                Locale.ROOT,
                                "DJL ResNet-%d: %,d parameters (BatchNorm running statistics included); torchvision's "
                                        + "learnable ones at K=%d: %,d%n",
                                depth,
                                torch.parameters(),
                                classes,
                                (depth == 50 ? 23_508_032L + 2048L * classes : 11_176_512L + 512L * classes) + classes);
                    }
                    int per = 3 * size * size;
                    float[] images = new float[32 * per];
                    SplittableRandom random = new SplittableRandom(1);
                    for (int i = 0; i < images.length; i++) images[i] = (float) random.nextGaussian();
                    Map<Integer, float[]> heap = new LinkedHashMap<>();
                    Map<Integer, FloatBuffer> direct = new LinkedHashMap<>();
                    for (int b : BATCHES) {
                        float[] part = java.util.Arrays.copyOf(images, b * per);
                        heap.put(b, part);
                        direct.put(b, InferenceBenchmark.direct(part));
                    }
                    List<Side> sides = List.of(
                            new Side(
                                    "ORT bare, float32",
                                    b -> InferenceBenchmark.bareRun(env, bareFp32, direct.get(b), shape(b, size))),
                            new Side("SefClassifier, float32", b -> fp32Classifier.logitsOfPreprocessed(heap.get(b))),
                            new Side("SefClassifier, int8", b -> int8Classifier.logitsOfPreprocessed(heap.get(b))),
                            new Side(
                                    "ORT bare, int8",
                                    b -> InferenceBenchmark.bareRun(env, bareInt8, direct.get(b), shape(b, size))));
                    Map<String, Map<Integer, long[]>> times = new LinkedHashMap<>();
                    for (Side s : sides) times.put(s.name(), new TreeMap<>());
                    String djlName = "DJL " + "0.36.0 + PyTorch 2.7.1 (same architecture)";
                    if (torch != null) times.put(djlName, new TreeMap<>());
                    for (int b : BATCHES) {
                        int n = rounds.get(b);
                        for (int w = 0; w < (b == 1 ? 5 : 2); w++)
                            for (Side s : sides) s.runner().run(b);
                        String load = Machine.loadAverage();
                        long[] cpu0 = Machine.cpuTicks();
                        long phase0 = System.nanoTime();
                        long[][] t = new long[sides.size()][n];
                        for (int r = 0; r < n; r++) {
                            for (int s = 0; s < sides.size(); s++) {
                                Side side = sides.get(s);
                                t[s][r] = InferenceBenchmark.time(
                                        () -> side.runner().run(b));
                            }
                        }
                        for (int s = 0; s < sides.size(); s++)
                            times.get(sides.get(s).name()).put(b, t[s]);
                        String others = InferenceBenchmark.othersCores(cpu0, phase0);
                        String djlNote = "";
                        if (torch != null && !djlBatches.contains(b)) {
                            djlNote = "; DJL not run at this batch (--djl-batches)";
                        } else if (torch != null) {
                            torch.enterThread();
                            FloatBuffer in = direct.get(b);
                            long[] shape = shape(b, size);
                            for (int w = 0; w < (b == 1 ? 5 : 2); w++) torch.run(in, shape);
                            long[] cpu1 = Machine.cpuTicks();
                            long phase1 = System.nanoTime();
                            long[] d = new long[n];
                            for (int r = 0; r < n; r++) d[r] = InferenceBenchmark.time(() -> torch.run(in, shape));
                            times.get(djlName).put(b, d);
                            djlNote = "; DJL phase: others' CPU " + InferenceBenchmark.othersCores(cpu1, phase1)
                                    + " cores";
                        }
                        System.out.printf(
                                Locale.ROOT,
                                "batch %d: %d calls per side; load average before %s, others' CPU during the ORT phase %s cores%s; "
                                        + "VmRSS %d MB%n",
                                b,
                                n,
                                load,
                                others,
                                djlNote,
                                vmRssMb());
                        for (Map.Entry<String, Map<Integer, long[]>> side : times.entrySet()) {
                            long[] measured = side.getValue().get(b);
                            if (measured == null) continue;
                            System.out.printf(
                                    Locale.ROOT,
                                    "  %-48s p50 %9.1f ms  p99 %9.1f ms  %8.2f img/s%n",
                                    side.getKey(),
                                    p(measured, 50) / 1e6,
                                    p(measured, 99) / 1e6,
                                    b / (p(measured, 50) / 1e9));
                        }
                    }
                    report(times, depth, size, threads, fp32Bytes, int8Bytes, djlName);
                }
                if (profile) {
                    System.out.println();
                    profile(env, fp32.resolve(ExportLayout.MODEL), "float32", threads, size);
                    profile(env, int8.resolve(ExportLayout.MODEL), "int8", threads, size);
                }
            }
        }
        return 0;
    }

    private static long vmRssMb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status")))
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
        return -1;
    }

    private static long[] shape(int batch, int size) {
        return new long[] {batch, 3, size, size};
    }

    private static OrtSession.SessionOptions bareOptions(int threads, Path profile) throws OrtException {
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        so.setIntraOpNumThreads(threads);
        if (profile != null) so.enableProfiling(profile.toString());
        return so;
    }

    private static void report(
            Map<String, Map<Integer, long[]>> times,
            int depth,
            int size,
            int threads,
            long fp32Bytes,
            long int8Bytes,
            String djlName) {
        System.out.printf(
                Locale.ROOT, "%nResNet-%d at %d px, %d intra-op threads, preprocessed input%n", depth, size, threads);
        System.out.println(
                "| runtime | 1 image p50 (ms) | 1 image p99 (ms) | batch 1 (img/s) | batch 8 (img/s) | batch 32 (img/s) |"
                        + " batch 8 p50 (ms) |");
        System.out.println("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        for (Map.Entry<String, Map<Integer, long[]>> side : times.entrySet()) {
            Map<Integer, long[]> t = side.getValue();
            System.out.printf(
                    Locale.ROOT,
                    "| %s | %s | %s | %s | %s | %s | %s |%n",
                    side.getKey(),
                    cell(t, 1, p(t.get(1), 50) / 1e6),
                    cell(t, 1, p(t.get(1), 99) / 1e6),
                    cell(t, 1, rate(t, 1)),
                    cell(t, 8, rate(t, 8)),
                    cell(t, 32, rate(t, 32)),
                    cell(t, 8, p(t.get(8), 50) / 1e6));
        }
        Map<Integer, long[]> f = times.get("SefClassifier, float32"),
                q = times.get("SefClassifier, int8"),
                bare = times.get("ORT bare, float32");
        System.out.printf(
                Locale.ROOT,
                "%nmodel.onnx: float32 %.1f MB, int8 %.1f MB: %.2fx smaller%n",
                fp32Bytes / 1e6,
                int8Bytes / 1e6,
                fp32Bytes / (double) int8Bytes);
        for (int b : BATCHES) {
            System.out.printf(
                    Locale.ROOT,
                    "batch %2d: int8 / float32 SefClassifier throughput %.2fx; float32 SefClassifier vs bare ORT %+.1f %%%s%n",
                    b,
                    rate(q, b) / rate(f, b),
                    100 * (rate(f, b) - rate(bare, b)) / rate(bare, b),
                    times.containsKey(djlName) && times.get(djlName).get(b) != null
                            ? String.format(
                                    Locale.ROOT,
                                    "; float32 SefClassifier / DJL %.2fx, int8 SefClassifier / DJL %.2fx",
                                    rate(f, b) / rate(times.get(djlName), b),
                                    rate(q, b) / rate(times.get(djlName), b))
                            : "");
        }
        System.out.printf(
                Locale.ROOT,
                "1 image p50: float32 %.1f ms / int8 %.1f ms = %.2fx faster%n",
                p(f.get(1), 50) / 1e6,
                p(q.get(1), 50) / 1e6,
                p(f.get(1), 50) / p(q.get(1), 50));
    }

    private static double rate(Map<Integer, long[]> t, int batch) {
        return t.get(batch) == null ? Double.NaN : batch / (p(t.get(batch), 50) / 1e9);
    }

    /** A table cell: the value, or "not run" for a batch size a side was not measured at. */
    private static String cell(Map<Integer, long[]> t, int batch, double value) {
        return t.get(batch) == null ? "not run" : String.format(Locale.ROOT, value >= 100 ? "%.0f" : "%.2f", value);
    }

    private static double p(long[] nanos, double percentile) {
        if (nanos == null) return Double.NaN;
        return InferenceBenchmark.percentile(nanos, percentile);
    }

    private static final Pattern DURATION = Pattern.compile("\"dur\"\\s*:\\s*(\\d+)");
    private static final Pattern OP = Pattern.compile("\"op_name\"\\s*:\\s*\"([^\"]+)\"");

    /** Three profiled batches of 8 on a fresh session: ORT's per-node times summed by operator, largest first. */
    private static void profile(OrtEnvironment env, Path model, String label, int threads, int size)
            throws OrtException, IOException {
        Path prefix = Files.createTempFile("sef-int8-profile-" + label, "");
        float[] batch = new float[8 * 3 * size * size];
        SplittableRandom random = new SplittableRandom(2);
        for (int i = 0; i < batch.length; i++) batch[i] = (float) random.nextGaussian();
        FloatBuffer in = InferenceBenchmark.direct(batch);
        String file;
        try (OrtSession.SessionOptions so = bareOptions(threads, prefix);
                OrtSession session = env.createSession(model.toString(), so)) {
            for (int i = 0; i < 3; i++) InferenceBenchmark.bareRun(env, session, in, shape(8, size));
            file = session.endProfiling();
        }
        Map<String, Long> byOp = new TreeMap<>();
        long total = 0;
        for (String line : Files.readAllLines(Path.of(file))) {
            Matcher op = OP.matcher(line), dur = DURATION.matcher(line);
            if (!op.find() || !dur.find() || !line.contains("\"cat\" : \"Node\"")) continue;
            long micros = Long.parseLong(dur.group(1));
            byOp.merge(op.group(1), micros, Long::sum);
            total += micros;
        }
        Files.deleteIfExists(Path.of(file));
        Files.deleteIfExists(prefix);
        List<Map.Entry<String, Long>> sorted = new ArrayList<>(byOp.entrySet());
        sorted.sort(Map.Entry.<String, Long>comparingByValue().reversed());
        StringBuilder line = new StringBuilder();
        for (Map.Entry<String, Long> e : sorted.subList(0, Math.min(8, sorted.size()))) {
            line.append(String.format(
                    Locale.ROOT,
                    "%s %.0f ms (%.0f %%), ",
                    e.getKey(),
                    e.getValue() / 3e3,
                    100.0 * e.getValue() / total));
        }
        System.out.printf(
                Locale.ROOT,
                "profile %s, batch 8, per batch by operator (ORT's node times, %.0f ms in all): %s%n",
                label,
                total / 3e3,
                line.substring(0, Math.max(0, line.length() - 2)));
    }
}
