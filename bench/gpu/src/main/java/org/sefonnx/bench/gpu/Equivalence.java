package org.sefonnx.bench.gpu;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.generator.ShippedSpecs;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.ort.OrtAdapter;
import org.sefonnx.train.ort.OrtAdapter.CudaOptions;

/**
 * CPU against CUDA in true float32: the same training graph ({@code training_model.onnx}), the same checkpoint and
 * batches, TF32 off three ways (run.sh starts this JVM with {@code NVIDIA_TF32_OVERRIDE=0}, the provider gets
 * {@code use_tf32=0}, and cuDNN's algorithm search is DEFAULT, because ORT's ConvGrad honours {@code use_tf32} only
 * there). A second CUDA run from the same start is the noise floor: CUDA's backward kernels are not all
 * deterministic, so a CPU-vs-CUDA gap means something only where it exceeds the CUDA-vs-CUDA one. Each comparison
 * prints the step-0 gap (the forward and one backward), the first step whose gap exceeds {@link #TOLERANCE}, and
 * the worst; {@link OpDiff} then compares every intermediate value of step 0.
 */
final class Equivalence {
    /** Relative tolerance of a loss term: what float32 arithmetic in another order keeps, by a wide margin. */
    static final double TOLERANCE = 1e-3;

    private final GpuBench b;

    Equivalence(GpuBench b) {
        this.b = b;
    }

    void run() throws IOException {
        boolean overridden = "0".equals(System.getenv("NVIDIA_TF32_OVERRIDE"));
        if (!b.dryRun && !overridden)
            b.rows.result(
                    "equivalence",
                    "environment",
                    "WARNING: NVIDIA_TF32_OVERRIDE is not 0 in this JVM: cuBLAS/cuDNN may still use TF32; not a true-fp32 check");
        ModelSpec demo = ShippedSpecs.demo();
        ModelSpec r50 = ShippedSpecs.byId("cub-r50").withImageSize(64).withId("cub-r50-64");
        if (b.dryRun) {
            compare(demo.withImageSize(32).withId("demo-r18-32"), 4, 3);
            compare(r50.withImageSize(32).withId("cub-r50-32"), 2, 2);
            b.attempt(
                    "equivalence",
                    "step-0 values, demo-r18",
                    () -> new OpDiff(b).run(demo.withImageSize(32).withId("demo-r18-32"), 4));
        } else {
            compare(demo, 32, 20);
            b.attempt("equivalence", "step-0 values, demo-r18", () -> new OpDiff(b).run(demo, 32));
            compare(r50, 8, 10);
        }
        b.attempt("equivalence", "TF32 really off", this::mathTypes);
    }

    /**
     * ORT's ConvGrad runs with whatever math type cuDNN's algorithm query returns, and its algorithm cache is
     * process-wide and blind to {@code use_tf32}; cuDNN's own log of this JVM (run.sh turns it on) shows what every
     * backward convolution call really used: true float32 means CUDNN_FMA_MATH on each of them.
     */
    private void mathTypes() throws IOException {
        String dest = System.getenv("CUDNN_LOGDEST_DBG");
        if (b.dryRun || dest == null || !java.nio.file.Files.exists(java.nio.file.Path.of(dest))) {
            b.rows.failed(
                    "equivalence",
                    "TF32 really off",
                    b.dryRun ? "skipped: no cuDNN on the CPU (dry run)" : "no cuDNN log: not checked");
            return;
        }
        CudnnLog log = CudnnLog.read(java.nio.file.Path.of(dest));
        java.util.Map<String, Integer> math = new java.util.TreeMap<>();
        log.convolutions.forEach((k, v) -> {
            if (k.startsWith("cudnnConvolutionBackward"))
                math.merge(k.substring(k.lastIndexOf(' ') + 1), v, Integer::sum);
        });
        boolean fma = !math.isEmpty() && math.keySet().equals(java.util.Set.of("CUDNN_FMA_MATH"));
        b.rows.result(
                "equivalence",
                "TF32 really off (cuDNN log of the backward convolutions)",
                (fma ? "PASS: " : "FAIL: ")
                        + (math.isEmpty() ? "no backward convolution records in the log" : "math types " + math));
    }

    /** The CUDA provider in true float32, or the CPU in a dry run. */
    OrtAdapter.SessionConfig trueFp32() {
        return b.cuda(CudaOptions.defaults()
                .withTf32(false)
                .withConvAlgorithmSearch(CudaOptions.ConvAlgorithmSearch.DEFAULT));
    }

    private void compare(ModelSpec spec, int batch, int steps) {
        String what =
                String.format(Locale.ROOT, "%s, %d px, batch %d, %d steps", spec.id(), spec.imageSize(), batch, steps);
        b.attempt("equivalence", what, () -> {
            List<HostTensor[]> batches = GpuBench.batches(spec, batch, steps, 11);
            List<float[]> cpu = terms(spec, GpuBench.cpu(), batches);
            List<float[]> first = terms(spec, trueFp32(), batches);
            Gap gap = Gap.of(cpu, first);
            b.rows.result(
                    "equivalence", what + ": CPU vs " + b.device() + " (TF32 off, cuDNN DEFAULT)", gap.describe());
            List<float[]> second = terms(spec, trueFp32(), batches);
            Gap floor = Gap.of(first, second);
            b.rows.result(
                    "equivalence",
                    what + ": " + b.device() + " vs " + b.device() + " again (noise floor)",
                    floor.describe());
            b.rows.result("equivalence", what + ": verdict", verdict(gap, floor));
        });
    }

    static String verdict(Gap gap, Gap floor) {
        if (gap.firstOver() < 0)
            return String.format(Locale.ROOT, "PASS: every loss term within %.0e at every step", TOLERANCE);
        if (floor.firstOver() >= 0 && floor.firstOver() <= gap.firstOver())
            return String.format(
                    Locale.ROOT,
                    "WITHIN NOISE: the repeat leaves %.0e at step %d, no later than the CPU comparison (step %d): the"
                            + " device itself is not reproducible at this tolerance",
                    TOLERANCE,
                    floor.firstOver(),
                    gap.firstOver());
        return String.format(
                Locale.ROOT,
                "FAIL: beyond the noise floor from step %d (%s %.2e; the repeat: %s); the step-0 values say which op",
                gap.firstOver(),
                gap.termAtFirstOver(),
                gap.atFirstOver(),
                floor.firstOver() < 0
                        ? "within " + String.format(Locale.ROOT, "%.0e", TOLERANCE) + " throughout"
                        : "from step " + floor.firstOver());
    }

    private List<float[]> terms(ModelSpec spec, OrtAdapter.SessionConfig cfg, List<HostTensor[]> batches)
            throws IOException {
        List<float[]> r = new ArrayList<>();
        try (GpuBench.Stepper s = new GpuBench.Stepper(b, spec, cfg)) {
            for (HostTensor[] batch : batches) r.add(s.step(batch));
        }
        for (int step = 0; step < r.size(); step++)
            b.log.printf(
                    Locale.ROOT,
                    "[%s %s] step %d terms %s%n",
                    spec.id(),
                    cfg.device(),
                    step,
                    java.util.Arrays.toString(r.get(step)));
        return r;
    }

    /** The gap between two runs' loss terms: per step the worst term's relative difference. */
    record Gap(double[] worstPerStep, String[] termPerStep) {
        static Gap of(List<float[]> x, List<float[]> y) {
            int steps = Math.min(x.size(), y.size());
            double[] worst = new double[steps];
            String[] term = new String[steps];
            for (int s = 0; s < steps; s++) {
                term[s] = TensorNames.LOSS_TERMS.get(0);
                for (int i = 0; i < x.get(s).length; i++) {
                    double a = x.get(s)[i], c = y.get(s)[i];
                    double rel = Double.isFinite(a) && Double.isFinite(c)
                            ? Math.abs(a - c) / Math.max(1e-6, Math.abs(a))
                            : Double.POSITIVE_INFINITY;
                    if (rel > worst[s]) {
                        worst[s] = rel;
                        term[s] = TensorNames.LOSS_TERMS.get(i);
                    }
                }
            }
            return new Gap(worst, term);
        }

        int firstOver() {
            for (int s = 0; s < worstPerStep.length; s++) if (!(worstPerStep[s] <= TOLERANCE)) return s;
            return -1;
        }

        double atFirstOver() {
            return worstPerStep[firstOver()];
        }

        String termAtFirstOver() {
            return termPerStep[firstOver()];
        }

        String describe() {
            int worstStep = 0;
            for (int s = 1; s < worstPerStep.length; s++) if (worstPerStep[s] > worstPerStep[worstStep]) worstStep = s;
            int first = firstOver();
            return String.format(
                    Locale.ROOT,
                    "step 0 %.2e (%s); first step over %.0e: %s; worst %.2e (%s, step %d); per step: %s",
                    worstPerStep[0],
                    termPerStep[0],
                    TOLERANCE,
                    first < 0
                            ? "none"
                            : first + " (" + termPerStep[first]
                                    + String.format(Locale.ROOT, " %.2e)", worstPerStep[first]),
                    worstPerStep[worstStep],
                    termPerStep[worstStep],
                    worstStep,
                    perStep());
        }

        private String perStep() {
            StringBuilder s = new StringBuilder();
            for (double w : worstPerStep)
                s.append(s.isEmpty() ? "" : " ").append(String.format(Locale.ROOT, "%.1e", w));
            return s.toString();
        }
    }
}
