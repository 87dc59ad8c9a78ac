package org.sefonnx.bench.gpu;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.sefonnx.contract.ArtifactLayout;
import org.sefonnx.generator.artifacts.CheckpointReader;
import org.sefonnx.generator.artifacts.TrainingArtifacts;
import org.sefonnx.generator.artifacts.TrainingTarget;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.generator.onnx.Graph;
import org.sefonnx.generator.onnx.Value;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.ort.OrtAdapter;
import org.sefonnx.train.ort.OrtAdapter.CudaOptions;
import org.sefonnx.train.run.listener.LossScaler;

/**
 * Where a CUDA training step of the throughput model spends its time, three ways: ORT's profiler (per-node host
 * time, the Memcpy nodes ORT inserted, the nodes it placed on the CPU), cuDNN's API log (the convolution algorithms
 * and math types ORT chose), and Nsight Compute (the GPU's own time per kernel) when run.sh finds {@code ncu}.
 * Summaries go to the report file and one row each.
 */
final class Profiles {
    private final GpuBench b;

    Profiles(GpuBench b) {
        this.b = b;
    }

    /** ORT's profiler over the training graph run as a plain session (the training API's three sessions would
     * write their profiles to one second-stamped file name and overwrite each other). */
    void profile(Path report) throws IOException {
        ModelSpec spec = GpuBench.throughputSpec(b.dryRun);
        int warmup = b.dryRun ? 1 : 3, runs = b.dryRun ? 2 : 3;
        b.attempt(
                "profile",
                "ORT profiler, fp32 (TF32 on), cuDNN HEURISTIC",
                () -> profileOne(spec, "fp32", warmup, runs, report));
        if (b.dryRun) {
            b.rows.failed("profile", "ORT profiler, fp16", "skipped: the CPU has no fp16 ConvGrad (dry run)");
        } else {
            b.attempt(
                    "profile",
                    "ORT profiler, fp16, cuDNN HEURISTIC",
                    () -> profileOne(GpuBench.fp16(spec), "fp16", warmup, runs, report));
        }
    }

    private void profileOne(ModelSpec spec, String name, int warmup, int runs, Path report) throws IOException {
        Path dir = b.artifacts(spec);
        Graph g = TrainingArtifacts.trainingGraph(spec, TrainingArtifacts.Arithmetic.of(spec), TrainingTarget.CUDA);
        List<String> outputs = new ArrayList<>();
        for (Value v : g.outputs()) outputs.add(v.name());
        HostTensor[] batch = GpuBench.batches(spec, b.dryRun ? 4 : 32, 1, 17).get(0);
        TrainingFeed feed = TrainingFeed.of(
                g.inputs(),
                batch,
                CheckpointReader.read(dir.resolve(ArtifactLayout.CHECKPOINT)),
                LossScaler.INITIAL_SCALE);
        Path prefix = b.work.resolve("ort-profile-" + name);
        try (var old = Files.list(b.work)) {
            for (Path p : old.filter(p -> p.getFileName().toString().startsWith(prefix.getFileName() + "_"))
                    .toList()) Files.delete(p);
        }
        OrtAdapter.SessionConfig cfg = b.cuda(CudaOptions.defaults()).withProfiling(prefix);
        try (OrtAdapter.Inference s = b.ort.openInference(dir.resolve(TrainingTarget.CUDA.modelFile()), cfg)) {
            for (int i = 0; i < warmup + runs; i++) s.run(feed.names(), feed.values(), outputs);
        }
        Path json;
        try (var files = Files.list(b.work)) {
            json = files.filter(p -> p.getFileName().toString().startsWith(prefix.getFileName() + "_"))
                    .findFirst()
                    .orElseThrow(() -> new IOException("ORT wrote no profile " + prefix + "_*.json"));
        }
        Files.move(
                json,
                b.work.resolve(prefix.getFileName() + ".json"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        ProfileSummary p = ProfileSummary.read(b.work.resolve(prefix.getFileName() + ".json"), warmup);
        String provider = b.dryRun ? "CPUExecutionProvider" : "CUDAExecutionProvider";
        append(
                report,
                p.report(
                        spec.id() + " " + name + " training graph, batch " + batch[0].shape()[0] + ", on " + b.device()
                                + " (node times are host times: this ORT build has no CUPTI)",
                        provider));
        b.rows.result("profile", "ORT profiler, " + name + " (" + spec.id() + ")", p.headline(provider));
    }

    /** Two steps each of fp32 and fp16 with cuDNN's API log on (run.sh sets its variables), then its summary. */
    void cudnnAlgorithms(Path report) throws IOException {
        if (b.dryRun) {
            b.rows.failed("cudnn", "convolution algorithms", "skipped: no cuDNN on the CPU (dry run)");
            return;
        }
        String dest = System.getenv("CUDNN_LOGDEST_DBG");
        if (dest == null || dest.equals("stdout") || dest.equals("stderr")) {
            b.rows.failed("cudnn", "convolution algorithms", "skipped: CUDNN_LOGDEST_DBG does not name a file");
            return;
        }
        ModelSpec spec = GpuBench.throughputSpec(false);
        List<HostTensor[]> batches = GpuBench.batches(spec, 32, 2, 19);
        b.attempt("cudnn", "fp32 (TF32 on), HEURISTIC, 2 steps", () -> twoSteps(spec, batches));
        b.attempt("cudnn", "fp16, HEURISTIC, 2 steps", () -> twoSteps(GpuBench.fp16(spec), batches));
        b.attempt("cudnn", "convolution algorithms", () -> {
            CudnnLog log = CudnnLog.read(Path.of(dest));
            append(report, log.report());
            b.rows.result("cudnn", "convolution algorithms (fp32 then fp16)", log.headline());
        });
    }

    private void twoSteps(ModelSpec spec, List<HostTensor[]> batches) throws IOException {
        try (GpuBench.Stepper s = new GpuBench.Stepper(b, spec, b.cuda(CudaOptions.defaults()))) {
            for (HostTensor[] batch : batches) s.step(batch);
        }
    }

    /** The workload run.sh runs under Nsight Compute: {@link #KERNEL_STEPS} fp32 steps. */
    static final int KERNEL_STEPS = 2;

    void kernelWorkload() throws IOException {
        ModelSpec spec = GpuBench.throughputSpec(b.dryRun);
        b.attempt("kernels", "fp32 (TF32 on), HEURISTIC, " + KERNEL_STEPS + " steps under ncu", () -> {
            try (GpuBench.Stepper s = new GpuBench.Stepper(b, spec, b.cuda(CudaOptions.defaults()))) {
                for (HostTensor[] batch : GpuBench.batches(spec, b.dryRun ? 4 : 32, KERNEL_STEPS, 23)) s.step(batch);
            }
        });
    }

    void kernelSummary(Path csv, Path report) throws IOException {
        b.attempt("kernels", "GPU time per kernel class (fp32 step)", () -> {
            KernelTimes k = KernelTimes.read(csv);
            append(report, k.report(KERNEL_STEPS));
            b.rows.result(
                    "kernels",
                    "GPU time per kernel class, fp32 step ("
                            + GpuBench.throughputSpec(b.dryRun).id() + ")",
                    k.headline(KERNEL_STEPS));
        });
    }

    static void append(Path report, String text) throws IOException {
        if (report == null) {
            System.out.print(text);
            return;
        }
        Files.writeString(
                report, text + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }
}
