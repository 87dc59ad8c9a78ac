package org.sefonnx.train.run.session;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.sefonnx.contract.ArtifactLayout;
import org.sefonnx.contract.ModelDescriptor;
import org.sefonnx.contract.Precision;
import org.sefonnx.generator.artifacts.TrainingTarget;
import org.sefonnx.train.ort.OrtAdapter;
import org.sefonnx.train.run.options.TrainOptions;
import org.sefonnx.train.run.state.InvalidRunException;

/** Opens training sessions on the right device, saying once which device and why. */
public final class Sessions {
    static final String CUDA_PROVIDER = "CUDAExecutionProvider";
    static final String NO_CUDA_PROVIDER =
            "the ONNX Runtime natives on the class path have no CUDA provider (build with -Pcuda for the GPU natives)";
    /** ORT's CPU provider has no fp16 ConvGrad (nor fp16 BatchNormalizationGrad): fp16 graphs train on CUDA only. */
    static final String FP16_NEEDS_CUDA =
            "--precision fp16 trains on CUDA only: ONNX Runtime's CPU provider has no fp16 ConvGrad";

    private Sessions() {}

    /** --device cuda needs the CUDA provider in the natives; checked before anything is written (auto falls back to the CPU). */
    public static void requireDevice(TrainOptions.Device device) {
        if (device != TrainOptions.Device.CUDA) return;
        try (OrtAdapter ort = OrtAdapter.create("sef-onnx-device-check")) {
            if (!ort.availableProviders().contains(CUDA_PROVIDER)) {
                throw new IllegalArgumentException(
                        "--device cuda: " + NO_CUDA_PROVIDER + "; or use --device auto or cpu");
            }
        }
    }

    /**
     * A training session of {@code d}'s graphs in {@code artifacts} from {@code checkpoint}, on {@code device} with
     * {@code threads} intra-op threads and the CUDA provider's settings {@code cudaOptions}; the device and graph are
     * named on {@code log}.
     */
    public static OrtAdapter.Training open(
            OrtAdapter ort,
            ModelDescriptor d,
            Path artifacts,
            Path checkpoint,
            TrainOptions.Device device,
            int threads,
            OrtAdapter.CudaOptions cudaOptions,
            PrintStream log) {
        Opened opened = openOnDevice(ort, d, artifacts, checkpoint, device, threads, cudaOptions, log);
        return bound(d, artifacts, opened);
    }

    /** A training session and the training model it runs. */
    private record Opened(OrtAdapter.Training session, Path trainingModel) {}

    private static Opened openOnDevice(
            OrtAdapter ort,
            ModelDescriptor d,
            Path artifacts,
            Path checkpoint,
            TrainOptions.Device device,
            int threads,
            OrtAdapter.CudaOptions cudaOptions,
            PrintStream log) {
        Path eval = artifacts.resolve(ArtifactLayout.EVAL_MODEL),
                optimizer = artifacts.resolve(ArtifactLayout.OPTIMIZER_MODEL);
        Path cpuTrain = trainingModel(artifacts, TrainingTarget.CPU);
        OrtAdapter.SessionConfig cpu = OrtAdapter.SessionConfig.cpu(threads);
        boolean halfPrecision = d.precision() == Precision.FP16;
        if (halfPrecision && device == TrainOptions.Device.CPU)
            throw new IllegalStateException(FP16_NEEDS_CUDA + " (--device cpu)");
        if (device == TrainOptions.Device.CPU) {
            log.println("device: CPU (--device cpu), " + threads + " intra-op threads, " + describe(cpuTrain));
            return new Opened(ort.openTraining(checkpoint, cpuTrain, eval, optimizer, cpu), cpuTrain);
        }
        boolean hasCuda = ort.availableProviders().contains(CUDA_PROVIDER);
        if (!hasCuda) {
            String why = NO_CUDA_PROVIDER;
            if (device == TrainOptions.Device.CUDA) throw new IllegalStateException("--device cuda: " + why);
            if (halfPrecision) throw new IllegalStateException(FP16_NEEDS_CUDA + ": " + why);
            log.println("device: CPU, because " + why + "; " + threads + " intra-op threads, " + describe(cpuTrain));
            return new Opened(ort.openTraining(checkpoint, cpuTrain, eval, optimizer, cpu), cpuTrain);
        }
        OrtAdapter.SessionConfig cuda = OrtAdapter.SessionConfig.builder(OrtAdapter.Device.CUDA)
                .intraOpThreads(threads)
                .cuda(cudaOptions)
                .build();
        Path cudaTrain = trainingModel(artifacts, TrainingTarget.CUDA);
        try {
            OrtAdapter.Training t = ort.openTraining(checkpoint, cudaTrain, eval, optimizer, cuda);
            log.println("device: CUDA (device 0, " + cudaOptions.describe() + "), " + describe(cudaTrain));
            return new Opened(t, cudaTrain);
        } catch (OrtAdapter.OrtException e) {
            if (device == TrainOptions.Device.CUDA || halfPrecision) throw e;
            log.println("device: CPU, because the CUDA provider could not start: "
                    + e.getMessage().lines().findFirst().orElse("") + "; " + threads + " intra-op threads, "
                    + describe(cpuTrain));
            return new Opened(ort.openTraining(checkpoint, cpuTrain, eval, optimizer, cpu), cpuTrain);
        }
    }

    /**
     * The training model of {@code target} in {@code artifacts}; for the CPU, in run folders made before the CPU graph
     * existed, the CUDA one, which trains the same weights.
     */
    static Path trainingModel(Path artifacts, TrainingTarget target) {
        Path file = artifacts.resolve(target.modelFile());
        return target == TrainingTarget.CPU && !Files.exists(file)
                ? artifacts.resolve(TrainingTarget.CUDA.modelFile())
                : file;
    }

    /** The training graph a session runs, as the run log names it: its target and its file. */
    static String describe(Path trainingModel) {
        String file = trainingModel.getFileName().toString();
        for (TrainingTarget t : TrainingTarget.values())
            if (t.modelFile().equals(file)) return "training graph " + t.label() + " (" + file + ")";
        return "training graph " + file;
    }

    /**
     * The session, once its TrainStep and EvalStep take and return what the descriptor says (ModelSteps binds by those
     * names); graphs of another sef-onnx version are refused, saying how to regenerate them, and the session closed.
     */
    private static OrtAdapter.Training bound(ModelDescriptor d, Path artifacts, Opened opened) {
        OrtAdapter.Training session = opened.session();
        try {
            d.trainStep()
                    .requireMatches(
                            session.trainInputNames(),
                            session.trainOutputNames(),
                            opened.trainingModel().toString());
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
