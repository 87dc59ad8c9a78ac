package org.sefonnx.train.run;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.sefonnx.contract.ArtifactLayout;
import org.sefonnx.contract.ModelDescriptor;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.train.ort.OrtAdapter;

/** Opens training sessions on the right device, saying once which device and why. */
public final class Sessions {
    static final String CUDA_PROVIDER = "CUDAExecutionProvider";
    static final String NO_CUDA_PROVIDER =
            "the ONNX Runtime natives on the class path have no CUDA provider (build with -Pcuda for the GPU natives)";
    /** ORT's CPU provider has no fp16 ConvGrad (nor fp16 BatchNormalizationGrad): fp16 graphs train on CUDA only. */
    static final String FP16_NEEDS_CUDA =
            "--precision fp16 trains on CUDA only: ONNX Runtime's CPU provider has no fp16 ConvGrad";

    private Sessions() {}

    /** The intra-op thread count for CPU training when the user gave none: every core of this host. */
    public static int defaultThreads() {
        return Runtime.getRuntime().availableProcessors();
    }

    public static OrtAdapter.Training open(
            OrtAdapter ort,
            ModelDescriptor d,
            Path artifacts,
            Path checkpoint,
            TrainOptions.Device device,
            int threads,
            boolean exhaustive,
            PrintStream log) {
        OrtAdapter.CudaOptions defaults = OrtAdapter.CudaOptions.defaults();
        return open(
                ort,
                d,
                artifacts,
                checkpoint,
                device,
                threads,
                exhaustive
                        ? defaults.withConvAlgorithmSearch(OrtAdapter.CudaOptions.ConvAlgorithmSearch.EXHAUSTIVE)
                        : defaults,
                log);
    }

    /** The same with every CUDA provider setting given (cuDNN search, workspace, TF32). */
    public static OrtAdapter.Training open(
            OrtAdapter ort,
            ModelDescriptor d,
            Path artifacts,
            Path checkpoint,
            TrainOptions.Device device,
            int threads,
            OrtAdapter.CudaOptions cudaOptions,
            PrintStream log) {
        return bound(d, artifacts, openOnDevice(ort, d, artifacts, checkpoint, device, threads, cudaOptions, log));
    }

    private static OrtAdapter.Training openOnDevice(
            OrtAdapter ort,
            ModelDescriptor d,
            Path artifacts,
            Path checkpoint,
            TrainOptions.Device device,
            int threads,
            OrtAdapter.CudaOptions cudaOptions,
            PrintStream log) {
        Path train = artifacts.resolve(ArtifactLayout.TRAINING_MODEL),
                eval = artifacts.resolve(ArtifactLayout.EVAL_MODEL),
                optimizer = artifacts.resolve(ArtifactLayout.OPTIMIZER_MODEL);
        // run folders made before the CPU graph existed hold only the ConvGrad graph, which trains the same weights
        Path cpuTrain = artifacts.resolve(ArtifactLayout.CPU_TRAINING_MODEL);
        if (!Files.exists(cpuTrain)) cpuTrain = train;
        OrtAdapter.SessionConfig cpu = OrtAdapter.SessionConfig.cpu(threads);
        boolean halfPrecision = d.precision().equals(ModelSpec.Precision.FP16.label());
        if (halfPrecision && device == TrainOptions.Device.CPU)
            throw new IllegalStateException(FP16_NEEDS_CUDA + " (--device cpu)");
        if (device == TrainOptions.Device.CPU) {
            log.println("device: CPU (--device cpu), " + threads + " intra-op threads, " + cpuTrain.getFileName());
            return ort.openTraining(checkpoint, cpuTrain, eval, optimizer, cpu);
        }
        boolean hasCuda = ort.availableProviders().contains(CUDA_PROVIDER);
        if (!hasCuda) {
            String why = NO_CUDA_PROVIDER;
            if (device == TrainOptions.Device.CUDA) throw new IllegalStateException("--device cuda: " + why);
            if (halfPrecision) throw new IllegalStateException(FP16_NEEDS_CUDA + ": " + why);
            log.println(
                    "device: CPU, because " + why + "; " + threads + " intra-op threads, " + cpuTrain.getFileName());
            return ort.openTraining(checkpoint, cpuTrain, eval, optimizer, cpu);
        }
        OrtAdapter.SessionConfig cuda = OrtAdapter.SessionConfig.builder(OrtAdapter.Device.CUDA)
                .intraOpThreads(threads)
                .cuda(cudaOptions)
                .build();
        try {
            OrtAdapter.Training t = ort.openTraining(checkpoint, train, eval, optimizer, cuda);
            log.println("device: CUDA (device 0, " + cudaOptions.describe() + ")");
            return t;
        } catch (OrtAdapter.OrtException e) {
            if (device == TrainOptions.Device.CUDA || halfPrecision) throw e;
            log.println("device: CPU, because the CUDA provider could not start: "
                    + e.getMessage().lines().findFirst().orElse("") + "; " + threads + " intra-op threads, "
                    + cpuTrain.getFileName());
            return ort.openTraining(checkpoint, cpuTrain, eval, optimizer, cpu);
        }
    }

    /**
     * The session, once its TrainStep and EvalStep take and return what the descriptor says (ModelSteps binds by those
     * names); graphs of another sef-onnx version are refused, saying how to regenerate them, and the session closed.
     */
    private static OrtAdapter.Training bound(ModelDescriptor d, Path artifacts, OrtAdapter.Training session) {
        try {
            d.trainStep()
                    .requireMatches(
                            session.trainInputNames(),
                            session.trainOutputNames(),
                            artifacts.resolve(ArtifactLayout.TRAINING_MODEL).toString());
            d.evalStep()
                    .requireMatches(
                            session.evalInputNames(),
                            session.evalOutputNames(),
                            artifacts.resolve(ArtifactLayout.EVAL_MODEL).toString());
            return session;
        } catch (IllegalStateException e) {
            session.close();
            throw new InvalidRunException(
                    e.getMessage() + ": these graphs were made by another version of sef-onnx; regenerate them with "
                            + "`sef-onnx generate --spec-file " + artifacts.resolve(ArtifactLayout.SPEC) + " --out "
                            + artifacts + "`");
        }
    }
}
