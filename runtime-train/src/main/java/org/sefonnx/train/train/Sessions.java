package org.sefonnx.train.train;

import org.sefonnx.graphs.ModelDescriptor;
import org.sefonnx.train.ort.OrtAdapter;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** Opens training sessions on the right device, saying once which device and why. */
public final class Sessions {
    static final String CUDA_PROVIDER = "CUDAExecutionProvider";
    static final String NO_CUDA_PROVIDER = "the ONNX Runtime natives on the class path have no CUDA provider (build with -Pcuda for the GPU natives)";

    private Sessions() {}

    /** The intra-op thread count for CPU training when the user gave none: every core of this host. */
    public static int defaultThreads() {
        return Runtime.getRuntime().availableProcessors();
    }

    public static OrtAdapter.Training open(OrtAdapter ort, ModelDescriptor d, Path artifacts, Path checkpoint,
                                           TrainOptions.Device device, int threads, boolean exhaustive, PrintStream log) {
        Path train = artifacts.resolve(d.trainingModelFile()), eval = artifacts.resolve(d.evalModelFile()),
                optimizer = artifacts.resolve(d.optimizerModelFile());
        // run folders made before the CPU graph existed hold only the ConvGrad graph, which trains the same weights
        Path cpuTrain = Files.exists(artifacts.resolve(d.cpuTrainingModelFile())) ? artifacts.resolve(d.cpuTrainingModelFile()) : train;
        OrtAdapter.SessionConfig cpu = OrtAdapter.SessionConfig.cpu(threads);
        if (device == TrainOptions.Device.CPU) {
            log.println("device: CPU (--device cpu), " + threads + " intra-op threads, " + cpuTrain.getFileName());
            return ort.openTraining(checkpoint, cpuTrain, eval, optimizer, cpu);
        }
        boolean hasCuda = ort.availableProviders().contains(CUDA_PROVIDER);
        if (!hasCuda) {
            String why = NO_CUDA_PROVIDER;
            if (device == TrainOptions.Device.CUDA) throw new IllegalStateException("--device cuda: " + why);
            log.println("device: CPU, because " + why + "; " + threads + " intra-op threads, " + cpuTrain.getFileName());
            return ort.openTraining(checkpoint, cpuTrain, eval, optimizer, cpu);
        }
        OrtAdapter.SessionConfig cuda = new OrtAdapter.SessionConfig(OrtAdapter.Device.CUDA, threads, 0, exhaustive, true);
        try {
            OrtAdapter.Training t = ort.openTraining(checkpoint, train, eval, optimizer, cuda);
            log.println("device: CUDA (device 0, cuDNN conv algorithm search " + (exhaustive ? "EXHAUSTIVE" : "HEURISTIC") + ")");
            return t;
        } catch (OrtAdapter.OrtException e) {
            if (device == TrainOptions.Device.CUDA) throw e;
            log.println("device: CPU, because the CUDA provider could not start: " + e.getMessage().lines().findFirst().orElse("") + "; " + threads
                    + " intra-op threads, " + cpuTrain.getFileName());
            return ort.openTraining(checkpoint, cpuTrain, eval, optimizer, cpu);
        }
    }
}
