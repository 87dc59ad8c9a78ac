package org.sefonnx.train.run.session;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import org.sefonnx.contract.ModelDescriptor;
import org.sefonnx.contract.Precision;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.train.data.Dataset;
import org.sefonnx.train.data.Datasets;
import org.sefonnx.train.data.DemoData;
import org.sefonnx.train.ort.OrtAdapter;
import org.sefonnx.train.run.options.TrainOptions;
import org.sefonnx.train.run.state.RunDirectory;
import org.sefonnx.train.run.state.RunProperties;
import org.sefonnx.train.run.state.RunState;

/**
 * A committed run read back for what comes after its training: `sef-onnx eval`, `explain` and the export. It holds the
 * run's folder, its options and the descriptor of its spec, opens its data set and opens eval sessions on its
 * checkpoints, the one way each of those commands loads a checkpoint.
 */
public final class FinishedRun {
    private final RunDirectory dir;
    private final TrainOptions options;
    private final ModelDescriptor descriptor;

    private FinishedRun(RunDirectory dir, TrainOptions options) {
        this.dir = dir;
        this.options = options;
        this.descriptor = SpecDescriptor.of(options.spec());
    }

    /** The run in {@code runDir}; refused, saying why, unless it holds a committed run state and its options. */
    public static FinishedRun read(Path runDir) throws IOException {
        RunDirectory run = new RunDirectory(runDir);
        RunState.read(run);
        return new FinishedRun(run, RunProperties.read(run).options());
    }

    public RunDirectory dir() {
        return dir;
    }

    public TrainOptions options() {
        return options;
    }

    /** The descriptor of the run's spec. */
    public ModelDescriptor descriptor() {
        return descriptor;
    }

    /** {@code best}, {@code last} or a checkpoint file of this run's spec, verified ({@link RunDirectory#checkpoint}). */
    public Path checkpoint(String which) throws IOException {
        return dir.checkpoint(which);
    }

    /** The run's data set: its --data, or the embedded demo unpacked in the run's folder. */
    public Dataset dataset() throws IOException {
        TrainOptions.Data data = options.data();
        return data.isDemo() ? DemoData.open(dir.demoData()) : Datasets.open(data.layout(), data.root());
    }

    /**
     * An eval session on {@code checkpoint} of this run on {@code device}, with the run's intra-op threads; the device
     * and graph are named on {@code log}.
     */
    public EvalSession openEvalSession(OrtAdapter ort, Path checkpoint, TrainOptions.Device device, PrintStream log)
            throws IOException {
        return openEvalSession(
                ort,
                descriptor,
                dir.artifacts(),
                checkpoint,
                device,
                options.compute().intraOpThreads(),
                log);
    }

    /**
     * A session whose EvalStep scores {@code checkpoint} with {@code d}'s graphs in {@code artifacts}, on {@code device}
     * with {@code threads} intra-op threads and the CUDA provider's defaults. A mixed-precision spec on the CPU opens its
     * float32 twin ({@link ModelArtifacts#float32Twin}): the checkpoint holds exactly the float32 spec's tensors, the
     * eval graph is float32 for every spec, and ORT's CPU provider has no fp16 training kernels.
     */
    public static EvalSession openEvalSession(
            OrtAdapter ort,
            ModelDescriptor d,
            Path artifacts,
            Path checkpoint,
            TrainOptions.Device device,
            int threads,
            PrintStream log)
            throws IOException {
        ModelDescriptor bound = d;
        Path models = artifacts;
        if (d.precision() != Precision.FP32 && device == TrainOptions.Device.CPU) {
            ModelSpec spec = ModelSpec.parse(d.specProperties(), d.modelId());
            models = ModelArtifacts.float32Twin(spec, artifacts);
            bound = SpecDescriptor.of(spec.withPrecision(Precision.FP32));
        }
        OrtAdapter.Training session =
                Sessions.open(ort, bound, models, checkpoint, device, threads, OrtAdapter.CudaOptions.defaults(), log);
        return new EvalSession(session, bound);
    }

    /** An open session and the descriptor it is bound through (the float32 twin's for a mixed-precision run on the CPU). */
    public record EvalSession(OrtAdapter.Training session, ModelDescriptor descriptor) implements AutoCloseable {
        /** Its TrainStep and EvalStep, bound by name. */
        public ModelSteps steps() {
            return new ModelSteps(descriptor, session);
        }

        @Override
        public void close() {
            session.close();
        }
    }
}
