package org.sefonnx.bench.gpu;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import org.sefonnx.contract.ArtifactLayout;
import org.sefonnx.contract.Precision;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.generator.ShippedSpecs;
import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.artifacts.TrainingArtifacts;
import org.sefonnx.generator.artifacts.TrainingTarget;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.ort.OrtAdapter;
import org.sefonnx.train.ort.OrtAdapter.CudaOptions;
import org.sefonnx.train.run.Trainer;
import org.sefonnx.train.run.listener.LossScaler;
import org.sefonnx.train.run.options.TrainOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The Java side of bench/gpu/run.sh: one section per JVM, so that a crash in one (a segfault in a provider, an
 * out-of-memory kill) costs that section only. Every measurement becomes a row of the shared rows file the moment it
 * is taken ({@link Rows}); every configuration runs inside {@link #attempt}, which turns any {@link Throwable} into a
 * FAILED row and goes on. {@code --dry-run} runs the same code on the CPU at tiny shapes (fp32 only).
 *
 * <pre>
 * GpuBench --section smoke|equivalence|throughput|profile|cudnn|kernels|kernels-summary|demo|table
 *          --work DIR --rows FILE --card NAME [--report FILE] [--csv FILE] [--dry-run]
 * </pre>
 *
 * {@code SEF_BENCH_FAIL=<section>} makes that section's first configuration throw, {@code SEF_BENCH_HALT=<section>}
 * kills that section's JVM (run.sh's dry run checks that each is a row and the table goes on).
 */
public final class GpuBench {
    static final List<String> SECTIONS = List.of(
            "smoke", "equivalence", "throughput", "profile", "cudnn", "kernels", "kernels-summary", "demo", "table");

    final boolean dryRun;
    final Path work;
    final Rows rows;
    final PrintStream log;
    final OrtAdapter ort;
    private final String failIn;
    private boolean failed;

    private GpuBench(boolean dryRun, Path work, Rows rows, PrintStream log, OrtAdapter ort) {
        this.dryRun = dryRun;
        this.work = work;
        this.rows = rows;
        this.log = log;
        this.ort = ort;
        this.failIn = System.getenv().getOrDefault("SEF_BENCH_FAIL", "");
    }

    /** The command line of one section's JVM (run.sh starts one per section). */
    @Command(
            name = "GpuBench",
            mixinStandardHelpOptions = true,
            showDefaultValues = true,
            description = "One section of the prepared GPU run, its rows appended to --rows as measured.")
    static final class Cli implements Callable<Integer> {
        @Option(
                names = "--section",
                required = true,
                completionCandidates = Sections.class,
                description = "${COMPLETION-CANDIDATES}.")
        String section;

        @Option(names = "--work", required = true, description = "Work folder shared by the sections' JVMs.")
        Path work;

        @Option(names = "--rows", required = true, description = "The rows file, appended to.")
        Path rowsFile;

        @Option(names = "--card", defaultValue = "unknown card", description = "The card's name, for the table.")
        String card;

        @Option(names = "--report", description = "The profile or cuDNN section's report file.")
        Path report;

        @Option(names = "--csv", description = "The kernel summary's CSV.")
        Path csv;

        @Option(names = "--dry-run", description = "Play the sections on the CPU at tiny sizes.")
        boolean dryRun;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            if (!SECTIONS.contains(section))
                throw new ParameterException(
                        spec.commandLine(), "--section must be one of " + SECTIONS + ", got '" + section + "'");
            run(section, work, rowsFile, card, report, csv, dryRun);
            return 0;
        }
    }

    /** {@link #SECTIONS}, for --help. */
    static final class Sections implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return SECTIONS.iterator();
        }
    }

    /** Runs one section; a refused option ends the JVM with exit code 2 (run.sh then records the section as failed). */
    public static void main(String[] args) {
        int code = new CommandLine(new Cli()).execute(args);
        if (code != 0) System.exit(code);
    }

    static void run(String section, Path work, Path rowsFile, String card, Path report, Path csv, boolean dryRun)
            throws IOException {
        Files.createDirectories(work);
        if (section.equals("table")) {
            Rows.print(rowsFile, card, TrainingFlops.perImage(throughputSpec(dryRun)), dryRun, System.out);
            return;
        }
        Rows rows = new Rows(rowsFile, System.out);
        try (OrtAdapter ort = OrtAdapter.create("gpu-bench")) {
            // the dry run's stand-in for a provider crashing the process: run.sh must make it a row and go on
            if (section.equals(System.getenv("SEF_BENCH_HALT")))
                Runtime.getRuntime().halt(134);
            GpuBench b = new GpuBench(dryRun, work, rows, System.out, ort);
            switch (section) {
                case "smoke" -> b.smoke();
                case "equivalence" -> new Equivalence(b).run();
                case "throughput" -> b.throughput();
                case "profile" -> new Profiles(b).profile(report);
                case "cudnn" -> new Profiles(b).cudnnAlgorithms(report);
                case "kernels" -> new Profiles(b).kernelWorkload();
                case "kernels-summary" -> new Profiles(b).kernelSummary(csv, report);
                case "demo" -> b.demo();
                default -> throw new AssertionError(section);
            }
        } catch (Throwable t) {
            // the ORT environment itself could not be made (natives missing, a broken install): still a row
            t.printStackTrace();
            rows.failed(section, "(section)", "FAILED: " + describe(t));
        }
        System.out.flush();
    }

    /** The model whose throughput the table reports: ResNet-50 + SEF at 448 px (cub-r50); 64 px in a dry run. */
    static ModelSpec throughputSpec(boolean dryRun) {
        return dryRun ? ModelSpec.of("bench-r50-64", 50, 200, 4, 64) : ShippedSpecs.byId("cub-r50");
    }

    interface Part {
        void run() throws Exception;
    }

    /**
     * Runs one configuration; whatever it throws, an {@link OutOfMemoryError} or an {@link UnsatisfiedLinkError}
     * included, becomes a FAILED row (the stack trace goes to the log) and the section goes on.
     */
    boolean attempt(String section, String configuration, Part part) {
        try {
            if (failIn.equals(section) && !failed) {
                failed = true;
                throw new IllegalStateException("forced failure (SEF_BENCH_FAIL=" + section + ")");
            }
            part.run();
            return true;
        } catch (Throwable t) {
            t.printStackTrace(log);
            rows.failed(section, configuration, "FAILED: " + describe(t));
            return false;
        }
    }

    static String describe(Throwable t) {
        String first = String.valueOf(t.getMessage()).lines().findFirst().orElse("");
        if (first.length() > 200) first = first.substring(0, 200) + "…";
        return t.getClass().getSimpleName() + ": " + first;
    }

    // ---- smoke: < 30 s, and the run stops here if CUDA is unusable -------------------------------------------------

    /** Providers, then 3 steps of the demo in fp32 and in fp16; {@code smoke.ok} in the work folder when fp32 ran. */
    private void smoke() throws IOException {
        rows.result("smoke", "ORT " + OrtAdapter.version() + " providers", String.join(", ", ort.availableProviders()));
        ModelSpec demo = ShippedSpecs.demo();
        List<HostTensor[]> batches = batches(demo, dryRun ? 4 : 32, 3, 5);
        boolean fp32 = attempt("smoke", "demo-r18 fp32, 3 steps", () -> {
            rows.result(
                    "smoke",
                    "demo-r18 fp32, 3 steps on " + device(),
                    steps(demo, cuda(CudaOptions.defaults()), batches));
            Files.writeString(work.resolve("smoke.ok"), "fp32\n");
        });
        if (dryRun) {
            rows.failed("smoke", "demo-r18 fp16, 3 steps", "skipped: the CPU has no fp16 ConvGrad (dry run)");
        } else if (fp32) {
            attempt(
                    "smoke",
                    "demo-r18 fp16, 3 steps",
                    () -> rows.result(
                            "smoke",
                            "demo-r18 fp16, 3 steps on CUDA",
                            steps(fp16(demo), cuda(CudaOptions.defaults()), batches)));
        }
    }

    /** Runs the batches as steps: each step's loss and time, refusing a non-finite loss. */
    private String steps(ModelSpec spec, OrtAdapter.SessionConfig cfg, List<HostTensor[]> batches) throws IOException {
        try (Stepper s = new Stepper(this, spec, cfg)) {
            StringBuilder b = new StringBuilder();
            for (HostTensor[] batch : batches) {
                long t0 = System.nanoTime();
                float loss = s.step(batch)[0];
                if (!Float.isFinite(loss)) throw new IllegalStateException("non-finite loss " + loss + " at " + b);
                b.append(String.format(
                        Locale.ROOT,
                        "%sloss %.5f in %.0f ms",
                        b.isEmpty() ? "" : "; ",
                        loss,
                        (System.nanoTime() - t0) / 1e6));
            }
            return b + (s.scaler == null ? "" : "; " + s.skipped + " skipped, loss scale " + (long) s.scaler.scale());
        }
    }

    // ---- throughput ------------------------------------------------------------------------------------------------

    /** Each configuration timed twice in one session after its warm-up: both numbers are printed. */
    private void throughput() throws IOException {
        ModelSpec fp32 = throughputSpec(dryRun);
        int batch = dryRun ? 4 : 32, warmup = dryRun ? 1 : 5, timed = dryRun ? 2 : 20;
        List<HostTensor[]> batches = batches(fp32, batch, 4, 7);
        if (dryRun) {
            attempt(
                    "throughput",
                    "sef-onnx fp32 on the CPU (dry run)",
                    () -> rate(
                            "sef-onnx fp32 on the CPU (dry run; cuDNN modes need CUDA)",
                            fp32,
                            cpu(),
                            batches,
                            warmup,
                            timed,
                            "fp32"));
            rows.failed("throughput", "sef-onnx fp16", "skipped: the CPU has no fp16 ConvGrad (dry run)");
            return;
        }
        for (CudaOptions.ConvAlgorithmSearch mode : CudaOptions.ConvAlgorithmSearch.values()) {
            String name = "sef-onnx fp32 (TF32 on), cuDNN " + mode;
            attempt(
                    "throughput",
                    name,
                    () -> rate(
                            name,
                            fp32,
                            cuda(CudaOptions.defaults().withConvAlgorithmSearch(mode)),
                            batches,
                            warmup,
                            timed,
                            "tf32"));
        }
        for (CudaOptions.ConvAlgorithmSearch mode :
                List.of(CudaOptions.ConvAlgorithmSearch.HEURISTIC, CudaOptions.ConvAlgorithmSearch.EXHAUSTIVE)) {
            String name = "sef-onnx fp16 mixed precision, cuDNN " + mode;
            attempt(
                    "throughput",
                    name,
                    () -> rate(
                            name,
                            fp16(fp32),
                            cuda(CudaOptions.defaults().withConvAlgorithmSearch(mode)),
                            batches,
                            warmup,
                            timed,
                            "fp16"));
        }
    }

    private void rate(
            String name,
            ModelSpec spec,
            OrtAdapter.SessionConfig cfg,
            List<HostTensor[]> batches,
            int warmup,
            int timed,
            String arithmetic)
            throws IOException {
        try (Stepper s = new Stepper(this, spec, cfg)) {
            long t0 = System.nanoTime();
            for (int i = 0; i < warmup; i++) s.step(batches.get(i % batches.size()));
            double warm = (System.nanoTime() - t0) / 1e9;
            List<Double> rates = new ArrayList<>();
            for (int round = 0; round < 2; round++) {
                long start = System.nanoTime();
                for (int i = 0; i < timed; i++) s.step(batches.get(i % batches.size()));
                rates.add(timed * (double) batches.get(0)[0].shape()[0] / ((System.nanoTime() - start) / 1e9));
            }
            String note = String.format(
                    Locale.ROOT,
                    "%d px, batch %d, 2 x %d steps after %d warm-up (%.1f s)%s",
                    spec.imageSize(),
                    batches.get(0)[0].shape()[0],
                    timed,
                    warmup,
                    warm,
                    s.scaler == null
                            ? ""
                            : "; " + s.skipped + " of " + s.count + " steps skipped, loss scale "
                                    + (long) s.scaler.scale());
            rows.throughput("throughput", name, rates, arithmetic, note);
        }
    }

    // ---- 2-epoch demo: fp32 twice (its spread), fp16 twice, judged against it ---------------------------------------

    private void demo() {
        ModelSpec demo = ShippedSpecs.demo();
        List<Double> full = new ArrayList<>(), half = new ArrayList<>();
        for (int run = 1; run <= 2; run++) {
            int r = run;
            attempt("demo", "fp32 run " + r, () -> full.add(demoTop1(demo, "demo-fp32-" + r)));
        }
        if (dryRun) {
            rows.failed("demo", "fp16", "skipped: the CPU has no fp16 ConvGrad (dry run)");
        } else {
            for (int run = 1; run <= 2; run++) {
                int r = run;
                attempt("demo", "fp16 run " + r, () -> half.add(demoTop1(fp16(demo), "demo-fp16-" + r)));
            }
        }
        rows.result("demo", "verdict", DemoVerdict.of(full, half));
    }

    private double demoTop1(ModelSpec spec, String name) throws IOException {
        Path out = work.resolve(name);
        deleteTree(out);
        TrainOptions o = TrainOptions.builder(spec, out)
                .epochs(2)
                .device(dryRun ? TrainOptions.Device.CPU : TrainOptions.Device.CUDA)
                .threads(dryRun ? Runtime.getRuntime().availableProcessors() : 1)
                .maxBatchesPerEpoch(dryRun ? 3 : 0)
                .build();
        long t0 = System.nanoTime();
        Trainer.Result r = new Trainer(o, log).train();
        double top1 = r.metrics().get(r.metrics().size() - 1).testTop1();
        rows.result(
                "demo",
                spec.precision().label() + " run "
                        + name.charAt(name.length() - 1) + " on " + device() + ", 2 epochs"
                        + (dryRun ? ", 3 batches each (dry run)" : ""),
                String.format(
                        Locale.ROOT,
                        "test top-1 %.2f%% after epoch 2 (%.0f s)",
                        100 * top1,
                        (System.nanoTime() - t0) / 1e9));
        return top1;
    }

    // ---- plumbing ---------------------------------------------------------------------------------------------------

    String device() {
        return dryRun ? "the CPU" : "CUDA";
    }

    static ModelSpec fp16(ModelSpec spec) {
        return spec.withPrecision(Precision.FP16).withId(spec.id() + "-fp16");
    }

    /** The spec's artifacts under the work folder, generated once (seed 42) and shared by the sections' JVMs. */
    Path artifacts(ModelSpec spec) throws IOException {
        Path dir = work.resolve("artifacts").resolve(spec.id());
        if (!Files.exists(dir.resolve(ArtifactLayout.CHECKPOINT))) {
            Path tmp = work.resolve("artifacts")
                    .resolve(spec.id() + ".tmp-" + ProcessHandle.current().pid());
            deleteTree(tmp);
            Files.createDirectories(tmp);
            ArtifactWriter.generate(spec, tmp, 42L);
            deleteTree(dir);
            Files.move(tmp, dir);
        }
        return dir;
    }

    /** The CUDA graph ({@code training_model.onnx}) on whichever device {@code cfg} names. */
    OrtAdapter.Training open(Path dir, OrtAdapter.SessionConfig cfg) {
        return ort.openTraining(
                dir.resolve(ArtifactLayout.CHECKPOINT),
                dir.resolve(TrainingTarget.CUDA.modelFile()),
                dir.resolve(ArtifactLayout.EVAL_MODEL),
                dir.resolve(ArtifactLayout.OPTIMIZER_MODEL),
                cfg);
    }

    static OrtAdapter.SessionConfig cpu() {
        return OrtAdapter.SessionConfig.cpu(Runtime.getRuntime().availableProcessors());
    }

    /** A CUDA session with {@code cuda}'s settings; in a dry run, the CPU instead. */
    OrtAdapter.SessionConfig cuda(CudaOptions cuda) {
        if (dryRun) return cpu();
        return OrtAdapter.SessionConfig.builder(OrtAdapter.Device.CUDA)
                .intraOpThreads(1)
                .cuda(cuda)
                .build();
    }

    /** Seeded synthetic batches: N(0,1) images (ImageNet-normalised scale) and uniform labels. */
    static List<HostTensor[]> batches(ModelSpec spec, int batch, int count, long seed) {
        Random r = new Random(seed);
        List<HostTensor[]> list = new ArrayList<>();
        int side = spec.imageSize();
        for (int b = 0; b < count; b++) {
            float[] x = new float[batch * 3 * side * side];
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
            long[] y = new long[batch];
            for (int i = 0; i < batch; i++) y[i] = r.nextInt(spec.numClasses());
            list.add(new HostTensor[] {HostTensor.floats(x, batch, 3, side, side), HostTensor.longs(y, batch)});
        }
        return list;
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (var files = Files.walk(p)) {
            for (Path f : files.sorted(Comparator.reverseOrder()).toList()) Files.delete(f);
        }
    }

    /**
     * One training session driven as the trainer drives it: TrainStep, OptimizerStep (skipped on a non-finite fp16
     * step, through the {@link LossScaler}), LazyResetGrad.
     */
    static final class Stepper implements AutoCloseable {
        final OrtAdapter.Training session;
        final LossScaler scaler;
        private final int finiteAt;
        int skipped, count;

        Stepper(GpuBench b, ModelSpec spec, OrtAdapter.SessionConfig cfg) throws IOException {
            Path dir = b.artifacts(spec);
            long t0 = System.nanoTime();
            session = b.open(dir, cfg);
            b.log.printf(
                    Locale.ROOT,
                    "[%s] session on %s (%s) in %.1f s%n",
                    spec.id(),
                    cfg.device(),
                    cfg.cuda().describe(),
                    (System.nanoTime() - t0) / 1e9);
            session.setLearningRate((float) spec.learningRate());
            scaler = spec.precision() == Precision.FP16 ? new LossScaler() : null;
            finiteAt = TrainingArtifacts.trainStep(spec).outputs().indexOf(TensorNames.GRADIENTS_FINITE);
        }

        /** One step; returns the loss terms (loss, CE, E, S, L). */
        float[] step(HostTensor[] batch) {
            List<HostTensor> in = scaler == null
                    ? List.of(batch[0], batch[1])
                    : List.of(batch[0], batch[1], HostTensor.floats(new float[] {scaler.scale()}));
            List<HostTensor> out = session.trainStep(in);
            count++;
            boolean apply = scaler == null || scaler.update(out.get(finiteAt).flag());
            if (apply) session.optimizerStep();
            else skipped++;
            session.lazyResetGrad();
            float[] terms = new float[TensorNames.LOSS_TERMS.size()];
            for (int i = 0; i < terms.length; i++) terms[i] = out.get(i).scalar();
            return terms;
        }

        @Override
        public void close() {
            session.close();
        }
    }
}
