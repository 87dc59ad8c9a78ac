package org.sefonnx.bench.train;

import static org.sefonnx.bench.common.DjlResNet18.torchvisionResNet18;
import static org.sefonnx.bench.common.Machine.cpuTicks;
import static org.sefonnx.bench.common.Machine.loadAverage;
import static org.sefonnx.bench.common.Machine.otherCores;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.sefonnx.bench.common.BenchCommand;
import org.sefonnx.bench.common.Machine;
import org.sefonnx.contract.ArtifactLayout;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.generator.ShippedSpecs;
import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.artifacts.TrainingTarget;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.ort.OrtAdapter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Training throughput, in one JVM: sef-onnx (the SEF training graph on ONNX Runtime's training API, CPU) next to
 * DJL + PyTorch CPU training a plain torchvision-layout ResNet-18 with softmax cross-entropy, on the same fixed random
 * batches, batch size, image sizes and intra-op thread counts.
 *
 * <p>Per cell (config x threads x framework): 3 warm-up steps, then N timed steps; a step is
 * TrainStep + OptimizerStep + LazyResetGrad (sef-onnx) or forward + loss + backward + SGD step (DJL). The loss is read
 * back every step on both sides (as a trainer does). Cells alternate sef-onnx / DJL so that background load on a shared
 * machine hits both alike; with {@code --rounds R} the whole grid is repeated and the best round of each cell is kept.
 *
 * <p>The cells: ResNet-18 SEF (K=10, G=2) at 32, 48 (the demo spec), 64, 224 and 448 px; the last two are the sizes
 * users train, whose step counts keep a cell near two minutes for DJL at 448 px (about 1 img/s there on 2 cores).
 * Options: {@code --help}.
 */
@Command(
        name = "TrainThroughput",
        mixinStandardHelpOptions = true,
        showDefaultValues = true,
        description = "Training throughput of sef-onnx next to DJL + PyTorch, in one JVM, on the CPU.")
public final class TrainThroughput implements Callable<Integer> {
    static final int CLASSES = 10;
    static final float LR = 0.01f, MOMENTUM = 0.9f;
    /** Distinct fixed random batches cycled through (both frameworks get the same ones). */
    static final int DISTINCT_BATCHES = 4;
    /** The second configuration: the demo's ResNet-18 SEF model at 64 px (a 2x2 last feature map). */
    static final ModelSpec R18_64 = ModelSpec.of("r18-64", 18, 10, 2, 64);
    /** The first configuration: the same model at 32 px (the demo spec until it moved to 48 px; a 1x1 last map). */
    static final ModelSpec R18_32 = ShippedSpecs.demo().withImageSize(32).withId("r18-32");
    /** ResNet-18 at ImageNet's 224 px, a size users train at (a 7x7 last map). */
    static final ModelSpec R18_224 = ModelSpec.of("r18-224", 18, 10, 2, 224);
    /** ResNet-18 at the paper's 448 px (a 14x14 last map). */
    static final ModelSpec R18_448 = ModelSpec.of("r18-448", 18, 10, 2, 448);

    /**
     * The cells, by input size, with their timed and warm-up steps when not given: the large sizes fewer, so that a
     * DJL cell at 448 px (about 1 img/s: 32 s a step at batch 32) stays near two minutes.
     */
    enum Size {
        PX32("ResNet-18 K=10 G=2, 32 px", R18_32, 20, 3),
        PX48("demo spec: ResNet-18 K=10 G=2, 48 px", ShippedSpecs.demo(), 20, 3),
        PX64("ResNet-18 K=10 G=2, 64 px", R18_64, 10, 3),
        PX224("ResNet-18 K=10 G=2, 224 px", R18_224, 8, 1),
        PX448("ResNet-18 K=10 G=2, 448 px", R18_448, 2, 1);

        final String label;
        final ModelSpec spec;
        final int steps, warmup;

        Size(String label, ModelSpec spec, int steps, int warmup) {
            this.label = label;
            this.spec = spec;
            this.steps = steps;
            this.warmup = warmup;
        }

        /** The size in pixels, as --configs names it. */
        int px() {
            return spec.imageSize();
        }
    }

    /**
     * Converts a cell's name, its size in pixels (32, 48, 64, 224, 448) or its spec's id (r18-32, demo, r18-64, …), and
     * lists the sizes in --help.
     */
    static final class Sizes implements CommandLine.ITypeConverter<Size>, Iterable<String> {
        @Override
        public Size convert(String value) {
            String v = value.strip();
            for (Size s : Size.values()) {
                if (Integer.toString(s.px()).equals(v) || s.spec.id().equals(v) || (s == Size.PX48 && v.equals("demo")))
                    return s;
            }
            throw new CommandLine.TypeConversionException(
                    "expected one of " + String.join(", ", this) + " (pixels), got '" + value + "'");
        }

        @Override
        public Iterator<String> iterator() {
            return Arrays.stream(Size.values())
                    .map(s -> Integer.toString(s.px()))
                    .iterator();
        }
    }

    record Config(String name, ModelSpec spec, int steps, int warmup) {
        int size() {
            return spec.imageSize();
        }
    }

    @Option(
            names = "--configs",
            split = ",",
            defaultValue = "32,48,64,224,448",
            converter = Sizes.class,
            completionCandidates = Sizes.class,
            description = "Cells by input size: ${COMPLETION-CANDIDATES}.")
    List<Size> sizes;

    @Option(names = "--steps", description = "Timed steps at 32 px (and 48 px unless --steps48): default 20.")
    Integer steps32;

    @Option(names = "--steps48", description = "Timed steps at 48 px (default: as at 32 px).")
    Integer steps48;

    @Option(names = "--steps64", description = "Timed steps at 64 px (default 10).")
    Integer steps64;

    @Option(names = "--steps224", description = "Timed steps at 224 px (default 8).")
    Integer steps224;

    @Option(names = "--steps448", description = "Timed steps at 448 px (default 2).")
    Integer steps448;

    @Option(
            names = "--warmup",
            description = "Untimed steps before each cell (default 3 up to 64 px, 1 at 224 and 448 px).")
    Integer warmup;

    @Option(names = "--threads", split = ",", defaultValue = "1,2", description = "Intra-op thread counts.")
    List<Integer> threads;

    @Option(names = "--rounds", defaultValue = "3", description = "Repeats of the whole grid; the best is kept.")
    int rounds;

    @Option(names = "--batch", defaultValue = "32", description = "Images per step.")
    int batch;

    @Option(names = "--only", description = "sef or djl: one framework only.")
    Framework only;

    @Option(
            names = "--graphs",
            split = ",",
            defaultValue = "cuda,cpu",
            description = "sef-onnx's training graphs to time: ${COMPLETION-CANDIDATES}.")
    List<TrainingTarget> graphs;

    /** The two sides. */
    enum Framework {
        SEF,
        DJL
    }

    /** One measured cell. */
    record Cell(
            double seconds,
            int steps,
            int batch,
            double medianStepSeconds,
            float firstLoss,
            float lastLoss,
            long peakRssKb,
            double otherCores) {
        double imagesPerSecond() {
            return steps * (double) batch / seconds;
        }
    }

    private TrainThroughput() {}

    public static void main(String[] args) {
        BenchCommand.run(new TrainThroughput(), args);
    }

    /** The cell of {@code size}: its timed and warm-up steps as the options give them, else the table's. */
    Config config(Size size) {
        Integer given = switch (size) {
            case PX32 -> steps32;
            case PX48 -> steps48 != null ? steps48 : steps32;
            case PX64 -> steps64;
            case PX224 -> steps224;
            case PX448 -> steps448;
        };
        return new Config(
                size.label, size.spec, given != null ? given : size.steps, warmup != null ? warmup : size.warmup);
    }

    @Override
    public Integer call() throws Exception {
        boolean runSef = only != Framework.DJL, runDjl = only != Framework.SEF;
        List<Config> configs = sizes.stream().distinct().map(this::config).toList();

        System.out.println(Machine.describe() + ", load average at start: " + loadAverage());
        System.out.printf(
                Locale.ROOT,
                "batch %d, rounds %d, threads %s; warm-up + timed steps: %s%n",
                batch,
                rounds,
                threads,
                String.join(
                        ", ",
                        configs.stream()
                                .map(c -> c.warmup() + " + " + c.steps() + " at " + c.size() + " px")
                                .toList()));

        Path tmp = Files.createTempDirectory("sef-train-bench");
        OrtAdapter ort = runSef ? OrtAdapter.create("sef-onnx-bench") : null;
        if (ort != null)
            System.out.println("sef-onnx: ONNX Runtime " + OrtAdapter.version() + " (bytedeco, training API), CPU");
        if (runDjl) {
            Engine e = Engine.getEngine("PyTorch");
            System.out.println("DJL " + Engine.getDjlVersion() + ", engine " + e.getEngineName() + " " + e.getVersion()
                    + ", inter-op threads " + JniUtils.getNumInteropThreads() + " (ai.djl.pytorch.num_interop_threads="
                    + System.getProperty("ai.djl.pytorch.num_interop_threads") + ", ai.djl.offline="
                    + System.getProperty("ai.djl.offline") + ")");
        }

        // results[config][threads] -> best cell per framework
        Map<String, Cell> sefBest = new LinkedHashMap<>(), djlBest = new LinkedHashMap<>();
        Map<String, String> loads = new LinkedHashMap<>();
        long maxPeak = 0;
        try {
            for (Config c : configs) {
                Path dir = tmp.resolve(c.spec().id());
                List<float[]> images = new ArrayList<>();
                List<long[]> labels = new ArrayList<>();
                fixedBatches(batch, c.size(), images, labels);
                if (runSef) {
                    long t0 = System.nanoTime();
                    Files.createDirectories(dir);
                    ArtifactWriter.generate(c.spec(), dir, 1L);
                    System.out.printf(
                            Locale.ROOT,
                            "%n[%s] sef-onnx artifacts + initial checkpoint generated in %.1f s%n",
                            c.name(),
                            (System.nanoTime() - t0) / 1e9);
                }
                for (int round = 1; round <= rounds; round++) {
                    for (int t : threads) {
                        String key = c.name() + "|" + t;
                        loads.merge(key, loadAverage(), (x, y) -> x + " / " + y);
                        for (TrainingTarget k : runSef ? graphs : List.<TrainingTarget>of()) {
                            Cell cell = sef(ort, c, dir, t, k, batch, images, labels);
                            report("sef-onnx " + k.label(), c, t, round, cell);
                            sefBest.merge(key + "|" + k, cell, TrainThroughput::better);
                            maxPeak = Math.max(maxPeak, cell.peakRssKb());
                        }
                        if (runDjl) {
                            Cell cell = djl(c, t, batch, images, labels);
                            report("DJL", c, t, round, cell);
                            djlBest.merge(key, cell, TrainThroughput::better);
                            maxPeak = Math.max(maxPeak, cell.peakRssKb());
                        }
                    }
                }
            }
        } finally {
            if (ort != null) ort.close();
            deleteTree(tmp);
        }

        System.out.println();
        System.out.println("Training throughput, batch " + batch + ", images/s (higher is better)"
                + (rounds > 1 ? ", best of " + rounds + " rounds" : ""));
        String fmt = "%-34s %7s %-9s %9s %9s %8s %13s %13s %12s  %s%n";
        System.out.printf(
                Locale.ROOT,
                fmt,
                "config",
                "threads",
                "graph",
                "sef-onnx",
                "DJL",
                "sef/DJL",
                "sef peak RSS",
                "DJL peak RSS",
                "others' CPU",
                "load avg before cell (per round)");
        for (Config c : configs) {
            for (int t : threads) {
                String key = c.name() + "|" + t;
                Cell d = djlBest.get(key);
                for (TrainingTarget k : runSef ? graphs : java.util.Collections.<TrainingTarget>singletonList(null)) {
                    Cell s = k == null ? null : sefBest.get(key + "|" + k);
                    System.out.printf(
                            Locale.ROOT,
                            fmt,
                            c.name(),
                            t,
                            k == null ? "-" : k.label(),
                            s == null ? "-" : String.format(Locale.ROOT, "%.1f", s.imagesPerSecond()),
                            d == null ? "-" : String.format(Locale.ROOT, "%.1f", d.imagesPerSecond()),
                            s == null || d == null
                                    ? "-"
                                    : String.format(Locale.ROOT, "%.2fx", s.imagesPerSecond() / d.imagesPerSecond()),
                            s == null ? "-" : mib(s.peakRssKb()),
                            d == null ? "-" : mib(d.peakRssKb()),
                            String.format(
                                    Locale.ROOT,
                                    "%s/%s",
                                    s == null ? "-" : String.format(Locale.ROOT, "%.2f", s.otherCores()),
                                    d == null ? "-" : String.format(Locale.ROOT, "%.2f", d.otherCores())),
                            loads.get(key));
                }
            }
        }
        System.out.println(
                "sef-onnx trains the full SEF graph: ResNet-18 + K-way head + G group heads, and the loss CE + λ·E + γ·S + φ·grouping");
        System.out.println(
                "(entropy, distillation, and the grouping loss over the 512-channel features), with SGD momentum 0.9. Graph 'cuda': the");
        System.out.println(
                "training graph for CUDA (ORT's Conv/ConvGrad), run on the CPU here; 'cpu': the graph sef-onnx trains with on a CPU.");
        System.out.println(
                "DJL trains plain torchvision ResNet-18 with softmax cross-entropy only, SGD momentum 0.9 lr 0.01: it does less work per step.");
        System.out.println(
                "others' CPU: cores used by other processes during the kept sef-onnx/DJL cell (/proc/stat minus this JVM).");
        System.out.println(
                "Peak RSS per cell: VmHWM of this JVM after the cell, the high-water mark reset (/proc/self/clear_refs) before it,");
        System.out.println(
                "so it includes the JVM and whatever the other framework still holds. Process peak over all cells: "
                        + mib(maxPeak) + "; load average at end: " + loadAverage());
        return 0;
    }

    /** The {@link #DISTINCT_BATCHES} fixed random batches (seed 42) both frameworks train on, into images and labels. */
    static void fixedBatches(int batch, int size, List<float[]> images, List<long[]> labels) {
        Random r = new Random(42);
        for (int i = 0; i < DISTINCT_BATCHES; i++) {
            float[] x = new float[batch * 3 * size * size];
            for (int j = 0; j < x.length; j++) x[j] = (float) r.nextGaussian();
            long[] y = new long[batch];
            for (int j = 0; j < batch; j++) y[j] = r.nextInt(CLASSES);
            images.add(x);
            labels.add(y);
        }
    }

    // ---- sef-onnx ---------------------------------------------------------------------------------------------------

    static Cell sef(
            OrtAdapter ort,
            Config c,
            Path dir,
            int threads,
            TrainingTarget graph,
            int batch,
            List<float[]> images,
            List<long[]> labels) {
        resetPeakRss();
        try (OrtAdapter.Training s = ort.openTraining(
                dir.resolve(ArtifactLayout.CHECKPOINT),
                dir.resolve(graph.modelFile()),
                dir.resolve(ArtifactLayout.EVAL_MODEL),
                dir.resolve(ArtifactLayout.OPTIMIZER_MODEL),
                OrtAdapter.SessionConfig.cpu(threads))) {
            s.setLearningRate(LR);
            int imagesAt = s.trainInputNames().indexOf(TensorNames.IMAGES),
                    labelsAt = s.trainInputNames().indexOf(TensorNames.LABELS);
            if (imagesAt < 0 || labelsAt < 0 || s.trainInputNames().size() != 2) {
                throw new IllegalStateException("unexpected training inputs " + s.trainInputNames());
            }
            int lossAt = s.trainOutputNames().indexOf(TensorNames.LOSS);
            List<List<HostTensor>> inputs = new ArrayList<>();
            for (int i = 0; i < images.size(); i++) {
                HostTensor[] in = new HostTensor[2];
                in[imagesAt] = HostTensor.floats(images.get(i), batch, 3, c.size(), c.size());
                in[labelsAt] = HostTensor.longs(labels.get(i), batch);
                inputs.add(List.of(in));
            }
            return time(c.steps(), c.warmup(), batch, step -> {
                List<HostTensor> out = s.trainStep(inputs.get(step % inputs.size()));
                s.optimizerStep();
                s.lazyResetGrad();
                return out.get(lossAt).scalar();
            });
        }
    }

    // ---- DJL + PyTorch ----------------------------------------------------------------------------------------------

    static Cell djl(Config c, int threads, int batch, List<float[]> images, List<long[]> labels) {
        resetPeakRss();
        JniUtils.setNumThreads(threads);
        if (JniUtils.getNumThreads() != threads)
            throw new IllegalStateException("PyTorch kept " + JniUtils.getNumThreads() + " threads");
        try (Model model = Model.newInstance("resnet18-tv", Device.cpu(), "PyTorch")) {
            model.setBlock(torchvisionResNet18(CLASSES));
            DefaultTrainingConfig cfg = new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                    .optOptimizer(Optimizer.sgd()
                            .setLearningRateTracker(Tracker.fixed(LR))
                            .optMomentum(MOMENTUM)
                            .build())
                    .optDevices(new Device[] {Device.cpu()});
            try (Trainer trainer = model.newTrainer(cfg)) {
                NDManager root = trainer.getManager();
                trainer.initialize(new Shape(batch, 3, c.size(), c.size()));
                List<FloatBuffer> xs = new ArrayList<>();
                for (float[] x : images) {
                    FloatBuffer fb = ByteBuffer.allocateDirect(4 * x.length)
                            .order(ByteOrder.nativeOrder())
                            .asFloatBuffer();
                    fb.put(x).rewind();
                    xs.add(fb);
                }
                Shape xShape = new Shape(batch, 3, c.size(), c.size()), yShape = new Shape(batch);
                return time(c.steps(), c.warmup(), batch, step -> {
                    // every step's arrays live in a sub-manager closed after the step (else DJL keeps them all)
                    try (NDManager m = root.newSubManager()) {
                        int i = step % xs.size();
                        NDArray x = m.create(xs.get(i).duplicate(), xShape);
                        NDArray y = m.create(labels.get(i), yShape);
                        float loss;
                        try (GradientCollector gc = trainer.newGradientCollector()) {
                            NDList pred = trainer.forward(new NDList(x));
                            NDArray l = trainer.getLoss().evaluate(new NDList(y), pred);
                            gc.backward(l);
                            loss = l.getFloat();
                        }
                        trainer.step();
                        return loss;
                    }
                });
            }
        }
    }

    // ---- timing, memory, load ---------------------------------------------------------------------------------------

    interface Step {
        float run(int step);
    }

    static Cell time(int steps, int warmup, int batch, Step s) {
        float first = Float.NaN, last = Float.NaN;
        for (int i = 0; i < warmup; i++) {
            float l = s.run(i);
            if (i == 0) first = l;
        }
        double[] each = new double[steps];
        long[] cpu0 = cpuTicks();
        long start = System.nanoTime();
        for (int i = 0; i < steps; i++) {
            long t0 = System.nanoTime();
            last = s.run(warmup + i);
            each[i] = (System.nanoTime() - t0) / 1e9;
            if (!Float.isFinite(last))
                throw new IllegalStateException("loss became " + last + " at step " + (warmup + i));
        }
        double total = (System.nanoTime() - start) / 1e9;
        long[] cpu1 = cpuTicks();
        double others = otherCores(cpu0, cpu1, total);
        double[] sorted = each.clone();
        Arrays.sort(sorted);
        return new Cell(total, steps, batch, sorted[steps / 2], first, last, peakRssKb(), others);
    }

    static Cell better(Cell a, Cell b) {
        return a.imagesPerSecond() >= b.imagesPerSecond() ? a : b;
    }

    static void report(String who, Config c, int threads, int round, Cell cell) {
        System.out.printf(
                Locale.ROOT,
                "  round %d  %-8s %-34s threads %d: %6.1f img/s (%d steps in %.2f s, median step %.3f s = %.1f img/s), "
                        + "loss %.3f -> %.3f, peak RSS %s, other processes %.2f cores, load %s%n",
                round,
                who,
                c.name(),
                threads,
                cell.imagesPerSecond(),
                cell.steps(),
                cell.seconds(),
                cell.medianStepSeconds(),
                cell.batch() / cell.medianStepSeconds(),
                cell.firstLoss(),
                cell.lastLoss(),
                mib(cell.peakRssKb()),
                cell.otherCores(),
                loadAverage());
    }

    /** Resets VmHWM to the current RSS (Linux ≥ 4.0); silently does nothing elsewhere. */
    static void resetPeakRss() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
        } catch (IOException | RuntimeException ignored) {
            // not Linux, or not permitted: the peak then covers everything before too
        }
    }

    static long peakRssKb() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/status"))) {
            return lines.filter(l -> l.startsWith("VmHWM:"))
                    .mapToLong(l -> Long.parseLong(l.replaceAll("[^0-9]", "")))
                    .findFirst()
                    .orElse(-1);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    static String mib(long kb) {
        return kb < 0 ? "n/a" : String.format(Locale.ROOT, "%d MiB", kb / 1024);
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        }
    }
}
