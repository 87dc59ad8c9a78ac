package org.sefonnx.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.sefonnx.contract.ArtifactLayout;
import org.sefonnx.generator.ShippedSpecs;
import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.artifacts.TrainingTarget;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.ort.OrtAdapter;

/**
 * Trains a spec for a few dozen steps on CUDA and reports img/s, then replays the first steps on the CPU from the
 * same initial checkpoint and batches and compares the loss terms step by step.
 * Usage: GpuCheck SPEC_ID STEPS BATCH CPU_STEPS WORK_DIR
 */
public final class GpuCheck {
    public static void main(String[] args) throws Exception {
        ModelSpec spec = ShippedSpecs.byId(args[0]);
        int steps = Integer.parseInt(args[1]), batch = Integer.parseInt(args[2]), cpuSteps = Integer.parseInt(args[3]);
        Path dir = Files.createDirectories(Path.of(args[4]).resolve(spec.id()));
        long t0 = System.nanoTime();
        ArtifactWriter.generate(spec, dir, 42L);
        System.out.printf(
                Locale.ROOT,
                "[%s] artifacts + initial checkpoint in %.1f s%n",
                spec.id(),
                (System.nanoTime() - t0) / 1e9);
        List<HostTensor[]> batches = new ArrayList<>();
        Random r = new Random(7);
        for (int b = 0; b < Math.max(cpuSteps, 4); b++) {
            float[] x = new float[batch * 3 * spec.imageSize() * spec.imageSize()];
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
            long[] y = new long[batch];
            for (int i = 0; i < batch; i++) y[i] = r.nextInt(spec.numClasses());
            batches.add(new HostTensor[] {
                HostTensor.floats(x, batch, 3, spec.imageSize(), spec.imageSize()), HostTensor.longs(y, batch)
            });
        }
        try (OrtAdapter ort = OrtAdapter.create("gpu-check")) {
            System.out.println("providers: " + ort.availableProviders());
            OrtAdapter.SessionConfig cuda = OrtAdapter.SessionConfig.builder(OrtAdapter.Device.CUDA)
                    .intraOpThreads(1)
                    .build();
            List<float[]> gpuLosses = new ArrayList<>();
            double gpuRate;
            t0 = System.nanoTime();
            try (OrtAdapter.Training t = open(ort, dir, cuda)) {
                System.out.printf(
                        Locale.ROOT,
                        "[%s] CUDA session created in %.1f s%n",
                        spec.id(),
                        (System.nanoTime() - t0) / 1e9);
                t.setLearningRate((float) spec.learningRate());
                long timed = 0;
                int warmup = 5, counted = 0;
                for (int s = 0; s < steps; s++) {
                    HostTensor[] b = batches.get(s % batches.size());
                    long s0 = System.nanoTime();
                    List<HostTensor> out = t.trainStep(List.of(b[0], b[1]));
                    t.optimizerStep();
                    t.lazyResetGrad();
                    long dt = System.nanoTime() - s0;
                    if (s < cpuSteps) gpuLosses.add(terms(out));
                    if (s >= warmup) {
                        timed += dt;
                        counted++;
                    }
                    if (s < 3 || s == steps - 1)
                        System.out.printf(
                                Locale.ROOT,
                                "[%s] cuda step %d: %.1f ms, loss %.5f%n",
                                spec.id(),
                                s,
                                dt / 1e6,
                                out.get(0).scalar());
                }
                gpuRate = counted * (double) batch / (timed / 1e9);
            }
            System.out.printf(
                    Locale.ROOT,
                    "RESULT %s cuda: %d px, batch %d: %.1f img/s (%.1f ms/step over %d steps after %d warm-up)%n",
                    spec.id(),
                    spec.imageSize(),
                    batch,
                    gpuRate,
                    1000.0 * batch / gpuRate,
                    steps - 5,
                    5);
            int threads = Runtime.getRuntime().availableProcessors();
            t0 = System.nanoTime();
            double worst = 0;
            try (OrtAdapter.Training t = open(ort, dir, OrtAdapter.SessionConfig.cpu(threads))) {
                t.setLearningRate((float) spec.learningRate());
                for (int s = 0; s < cpuSteps; s++) {
                    HostTensor[] b = batches.get(s % batches.size());
                    float[] cpu = terms(t.trainStep(List.of(b[0], b[1])));
                    t.optimizerStep();
                    t.lazyResetGrad();
                    float[] gpu = gpuLosses.get(s);
                    StringBuilder sb = new StringBuilder();
                    for (int i = 0; i < cpu.length; i++) {
                        double rel = Math.abs(cpu[i] - gpu[i]) / Math.max(1e-6, Math.abs(cpu[i]));
                        worst = Math.max(worst, rel);
                        sb.append(String.format(Locale.ROOT, " %.6f/%.6f", cpu[i], gpu[i]));
                    }
                    System.out.printf(Locale.ROOT, "[%s] step %d loss,CE,E,S,L cpu/cuda:%s%n", spec.id(), s, sb);
                }
            }
            System.out.printf(
                    Locale.ROOT,
                    "RESULT %s cpu-vs-cuda: first %d steps, worst relative difference of a loss term %.2e (CPU: %d threads, %.1f s)%n",
                    spec.id(),
                    cpuSteps,
                    worst,
                    threads,
                    (System.nanoTime() - t0) / 1e9);
        }
    }

    static OrtAdapter.Training open(OrtAdapter ort, Path dir, OrtAdapter.SessionConfig cfg) {
        return ort.openTraining(
                dir.resolve(ArtifactLayout.CHECKPOINT),
                dir.resolve(TrainingTarget.CUDA.modelFile()),
                dir.resolve(ArtifactLayout.EVAL_MODEL),
                dir.resolve(ArtifactLayout.OPTIMIZER_MODEL),
                cfg);
    }

    static float[] terms(List<HostTensor> out) {
        float[] f = new float[out.size()];
        for (int i = 0; i < f.length; i++) f[i] = out.get(i).scalar();
        return f;
    }
}
