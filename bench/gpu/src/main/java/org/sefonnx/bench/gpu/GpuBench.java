package org.sefonnx.bench.gpu;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.sefonnx.contract.ArtifactLayout;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.generator.ShippedSpecs;
import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.artifacts.TrainingArtifacts;
import org.sefonnx.generator.artifacts.TrainingTarget;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.ort.OrtAdapter;
import org.sefonnx.train.ort.OrtAdapter.CudaOptions;
import org.sefonnx.train.run.LossScaler;
import org.sefonnx.train.run.TrainOptions;
import org.sefonnx.train.run.Trainer;

/**
 * The Java side of bench/gpu/run.sh: sef-onnx's training throughput for ResNet-50 + SEF at 448 px, batch 32, in fp32
 * (each cuDNN algorithm search mode) and fp16; CPU against CUDA with TF32 off for 20 steps (demo spec, ResNet-50 at
 * 64 px; every loss term within 1e-3 relative at every step); a 2-epoch demo run in fp16 next to fp32; then one table
 * with PyTorch's rows (written by torch_bench.py) and each throughput's share of the card's dense peak.
 * {@code --dry-run} runs the same code on the CPU at tiny shapes, fp32 only.
 * Usage: GpuBench [--dry-run] --work DIR --card NAME [--torch-rows FILE]
 */
public final class GpuBench {
    /** Relative tolerance of the CPU-vs-CUDA check (issue 11): every loss term at every step. */
    static final double EQUIVALENCE_TOLERANCE = 1e-3;

    static final int EQUIVALENCE_STEPS = 20;
    /** The demo runs of the last section must agree to this many top-1 percentage points. */
    static final double TOP1_POINTS = 1.0;

    private final boolean dryRun;
    private final Path work;
    private final PrintStream log;
    private final OrtAdapter ort;
    private final Table table;

    private GpuBench(boolean dryRun, Path work, PrintStream log, OrtAdapter ort, Table table) {
        this.dryRun = dryRun;
        this.work = work;
        this.log = log;
        this.ort = ort;
        this.table = table;
    }

    public static void main(String[] args) throws Exception {
        boolean dryRun = false;
        Path work = Path.of("/tmp/sef-gpu-bench"), torchRows = null;
        String card = "unknown card";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--dry-run" -> dryRun = true;
                case "--work" -> work = Path.of(args[++i]);
                case "--card" -> card = args[++i];
                case "--torch-rows" -> torchRows = Path.of(args[++i]);
                default ->
                    throw new IllegalArgumentException("unknown argument " + args[i]
                            + "; usage: GpuBench [--dry-run] --work DIR --card NAME [--torch-rows FILE]");
            }
        }
        Files.createDirectories(work);
        ModelSpec throughputSpec = dryRun ? ModelSpec.of("bench-r50-64", 50, 200, 4, 64) : ShippedSpecs.byId("cub-r50");
        Table table = new Table(card, TrainingFlops.perImage(throughputSpec), dryRun);
        try (PrintStream log = new PrintStream(Files.newOutputStream(work.resolve("gpu-bench.log")), true);
                OrtAdapter ort = OrtAdapter.create("gpu-bench")) {
            log.println("providers: " + ort.availableProviders());
            GpuBench b = new GpuBench(dryRun, work, log, ort, table);
            table.torchRows(torchRows);
            b.throughput(throughputSpec);
            b.attempt("equivalence", "demo-r18", () -> b.equivalence(ShippedSpecs.demo()));
            b.attempt(
                    "equivalence",
                    "cub-r50 at 64 px",
                    () -> b.equivalence(
                            ShippedSpecs.byId("cub-r50").withImageSize(64).withId("cub-r50-64")));
            b.attempt("2-epoch demo", "fp32 on CUDA", b::demoEpochs);
        }
        table.print(System.out);
    }

    private interface Part {
        void run() throws IOException;
    }

    /** Runs one part of the bench; a failure becomes a FAILED row (the stack trace goes to the log) and the run goes on. */
    private void attempt(String section, String configuration, Part part) {
        try {
            part.run();
        } catch (IOException | RuntimeException e) {
            e.printStackTrace(log);
            String first = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
            table.skipped(section, configuration, "FAILED: " + e.getClass().getSimpleName() + ": " + first);
        }
    }

    // ---- sef-onnx throughput ---------------------------------------------------------------------------------------

    private void throughput(ModelSpec fp32Spec) throws IOException {
        int batch = dryRun ? 4 : 32, warmup = dryRun ? 1 : 5, timed = dryRun ? 2 : 25;
        List<HostTensor[]> batches = batches(fp32Spec, batch, 4, 7);
        if (dryRun) {
            table.row(
                    "sef-onnx",
                    "fp32 on the CPU (dry run; cuDNN modes need CUDA)",
                    rate(fp32Spec, cpu(), batches, warmup, timed),
                    "fp32");
            table.skipped("sef-onnx", "fp16", "skipped: the CPU has no fp16 ConvGrad (dry run)");
            return;
        }
        for (CudaOptions.ConvAlgorithmSearch mode : CudaOptions.ConvAlgorithmSearch.values()) {
            CudaOptions cuda = CudaOptions.defaults().withConvAlgorithmSearch(mode);
            String name = "fp32 (TF32 on), cuDNN " + mode;
            attempt(
                    "sef-onnx",
                    name,
                    () -> table.row(
                            "sef-onnx", name, rate(fp32Spec, cudaConfig(cuda), batches, warmup, timed), "tf32"));
        }
        ModelSpec half = fp32Spec.withPrecision(ModelSpec.Precision.FP16).withId(fp32Spec.id() + "-fp16");
        for (CudaOptions.ConvAlgorithmSearch mode :
                List.of(CudaOptions.ConvAlgorithmSearch.HEURISTIC, CudaOptions.ConvAlgorithmSearch.EXHAUSTIVE)) {
            String name = "fp16 mixed precision, cuDNN " + mode;
            attempt(
                    "sef-onnx",
                    name,
                    () -> table.row(
                            "sef-onnx",
                            name,
                            rate(
                                    half,
                                    cudaConfig(CudaOptions.defaults().withConvAlgorithmSearch(mode)),
                                    batches,
                                    warmup,
                                    timed),
                            "fp16"));
        }
    }

    /** Images per second of one configuration, and what else its run showed (skipped fp16 steps). */
    record Throughput(double imagesPerSecond, String note) {}

    /** img/s over {@code timed} steps after {@code warmup} (the first steps pay the cuDNN search and allocations). */
    private Throughput rate(
            ModelSpec spec, OrtAdapter.SessionConfig cfg, List<HostTensor[]> batches, int warmup, int timed)
            throws IOException {
        Path dir = artifacts(spec);
        long t0 = System.nanoTime();
        try (OrtAdapter.Training t = open(dir, cfg)) {
            log.printf(
                    Locale.ROOT,
                    "[%s] session (%s, %s) in %.1f s%n",
                    spec.id(),
                    cfg.device(),
                    cfg.effectiveCuda().describe(),
                    (System.nanoTime() - t0) / 1e9);
            t.setLearningRate((float) spec.learningRate());
            LossScaler scaler = spec.precision() == ModelSpec.Precision.FP16 ? new LossScaler() : null;
            int finiteAt = TrainingArtifacts.trainStep(spec).outputs().indexOf(TensorNames.GRADIENTS_FINITE),
                    skipped = 0;
            long start = 0;
            for (int s = 0; s < warmup + timed; s++) {
                if (s == warmup) start = System.nanoTime();
                HostTensor[] b = batches.get(s % batches.size());
                List<HostTensor> in = scaler == null
                        ? List.of(b[0], b[1])
                        : List.of(b[0], b[1], HostTensor.floats(new float[] {scaler.scale()}));
                List<HostTensor> out = t.trainStep(in);
                boolean step = scaler == null || scaler.update(out.get(finiteAt).flag());
                if (step) t.optimizerStep();
                else skipped++;
                t.lazyResetGrad();
                if (s < 2 || s == warmup + timed - 1)
                    log.printf(
                            Locale.ROOT,
                            "[%s] step %d loss %.5f%s%n",
                            spec.id(),
                            s,
                            out.get(0).scalar(),
                            step ? "" : " (skipped)");
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            String note = scaler == null
                    ? ""
                    : skipped + " of " + (warmup + timed) + " steps skipped, final loss scale " + (long) scaler.scale();
            return new Throughput(timed * (double) batches.get(0)[0].shape()[0] / seconds, note);
        }
    }

    // ---- CPU vs CUDA, TF32 off -------------------------------------------------------------------------------------

    private void equivalence(ModelSpec spec) throws IOException {
        int batch = dryRun ? 4 : 32, steps = dryRun ? 3 : EQUIVALENCE_STEPS;
        ModelSpec s = dryRun ? spec.withImageSize(32) : spec;
        List<HostTensor[]> batches = batches(s, batch, steps, 11);
        List<float[]> reference = terms(s, cpu(), batches);
        OrtAdapter.SessionConfig other =
                dryRun ? cpu() : cudaConfig(CudaOptions.defaults().withTf32(false));
        List<float[]> compared = terms(s, other, batches);
        double worst = 0;
        int worstStep = 0;
        String worstTerm = TensorNames.LOSS_TERMS.get(0);
        for (int step = 0; step < steps; step++) {
            for (int i = 0; i < TensorNames.LOSS_TERMS.size(); i++) {
                float a = reference.get(step)[i], b = compared.get(step)[i];
                double rel = Math.abs(a - b) / Math.max(1e-6, Math.abs(a));
                log.printf(
                        Locale.ROOT,
                        "[%s] step %d %s cpu %.7f %s %.7f%n",
                        s.id(),
                        step,
                        TensorNames.LOSS_TERMS.get(i),
                        a,
                        dryRun ? "cpu" : "cuda",
                        b);
                if (rel > worst) {
                    worst = rel;
                    worstStep = step;
                    worstTerm = TensorNames.LOSS_TERMS.get(i);
                }
            }
        }
        String what = String.format(
                Locale.ROOT,
                "%s (%s, %d px), %d steps, %s",
                dryRun ? "CPU vs CPU (dry run)" : "CPU vs CUDA, TF32 off",
                s.id(),
                s.imageSize(),
                steps,
                worst <= EQUIVALENCE_TOLERANCE ? "PASS" : "FAIL");
        table.check(
                "equivalence",
                what,
                String.format(
                        Locale.ROOT,
                        "worst %.2e relative (%s, step %d); limit %.0e",
                        worst,
                        worstTerm,
                        worstStep,
                        EQUIVALENCE_TOLERANCE));
    }

    /** The five loss terms of each step, trained from the same initial checkpoint on the same batches. */
    private List<float[]> terms(ModelSpec spec, OrtAdapter.SessionConfig cfg, List<HostTensor[]> batches)
            throws IOException {
        List<float[]> r = new ArrayList<>();
        try (OrtAdapter.Training t = open(artifacts(spec), cfg)) {
            t.setLearningRate((float) spec.learningRate());
            for (HostTensor[] b : batches) {
                List<HostTensor> out = t.trainStep(List.of(b[0], b[1]));
                t.optimizerStep();
                t.lazyResetGrad();
                float[] f = new float[TensorNames.LOSS_TERMS.size()];
                for (int i = 0; i < f.length; i++) f[i] = out.get(i).scalar();
                r.add(f);
            }
        }
        return r;
    }

    // ---- 2-epoch demo, fp16 next to fp32 ---------------------------------------------------------------------------

    private void demoEpochs() throws IOException {
        ModelSpec demo = ShippedSpecs.demo();
        double full = demoTop1(demo, "demo-fp32");
        table.check(
                "2-epoch demo",
                "fp32" + (dryRun ? " on the CPU, 3 batches per epoch (dry run)" : " on CUDA"),
                String.format(Locale.ROOT, "test top-1 %.2f%%", 100 * full));
        if (dryRun) {
            table.check("2-epoch demo", "fp16", "skipped: the CPU has no fp16 ConvGrad (dry run)");
            return;
        }
        attempt("2-epoch demo", "fp16 on CUDA", () -> {
            double half = demoTop1(demo.withPrecision(ModelSpec.Precision.FP16).withId("demo-r18-fp16"), "demo-fp16");
            double points = 100 * Math.abs(half - full);
            table.check(
                    "2-epoch demo",
                    "fp16 on CUDA, " + (points <= TOP1_POINTS ? "PASS" : "FAIL"),
                    String.format(
                            Locale.ROOT,
                            "test top-1 %.2f%%, %.2f points from fp32 (limit %.0f)",
                            100 * half,
                            points,
                            TOP1_POINTS));
        });
    }

    private double demoTop1(ModelSpec spec, String name) throws IOException {
        Path out = work.resolve(name);
        if (Files.exists(out)) {
            try (var files = Files.walk(out)) {
                for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
            }
        }
        TrainOptions o = TrainOptions.builder(spec, out)
                .epochs(2)
                .device(dryRun ? TrainOptions.Device.CPU : TrainOptions.Device.CUDA)
                .threads(dryRun ? Runtime.getRuntime().availableProcessors() : 1)
                .maxBatchesPerEpoch(dryRun ? 3 : 0)
                .build();
        Trainer.Result r = new Trainer(o, log).train();
        return r.metrics().get(r.metrics().size() - 1).testTop1();
    }

    // ---- plumbing ---------------------------------------------------------------------------------------------------

    private Path artifacts(ModelSpec spec) throws IOException {
        Path dir = work.resolve("artifacts").resolve(spec.id());
        if (!Files.exists(dir.resolve(ArtifactLayout.CHECKPOINT))) {
            Files.createDirectories(dir);
            ArtifactWriter.generate(spec, dir, 42L);
        }
        return dir;
    }

    private OrtAdapter.Training open(Path dir, OrtAdapter.SessionConfig cfg) {
        return ort.openTraining(
                dir.resolve(ArtifactLayout.CHECKPOINT),
                dir.resolve(TrainingTarget.CUDA.modelFile()),
                dir.resolve(ArtifactLayout.EVAL_MODEL),
                dir.resolve(ArtifactLayout.OPTIMIZER_MODEL),
                cfg);
    }

    private static OrtAdapter.SessionConfig cpu() {
        return OrtAdapter.SessionConfig.cpu(Runtime.getRuntime().availableProcessors());
    }

    private static OrtAdapter.SessionConfig cudaConfig(CudaOptions cuda) {
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
}
