package org.sefonnx.validation;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;
import org.sefonnx.contract.ArtifactLayout;
import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.artifacts.TrainingTarget;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.ort.OrtAdapter;

/** Shared ORT plumbing of the validation tests. */
final class Ort {
    /** One environment per test JVM: the natives load once. */
    static final OrtAdapter ADAPTER = OrtAdapter.create("sef-onnx-validation");

    static final OrtAdapter.SessionConfig CPU = OrtAdapter.SessionConfig.cpu(1);

    private Ort() {}

    /** Generates a spec's artifacts with an initial checkpoint into {@code dir} and opens a training session. */
    static OrtAdapter.Training open(ModelSpec spec, Path dir, long seed) throws IOException {
        ArtifactWriter.generate(spec, dir, seed);
        return ADAPTER.openTraining(
                dir.resolve(ArtifactLayout.CHECKPOINT),
                dir.resolve(TrainingTarget.CUDA.modelFile()),
                dir.resolve(ArtifactLayout.EVAL_MODEL),
                dir.resolve(ArtifactLayout.OPTIMIZER_MODEL),
                CPU);
    }

    static HostTensor images(int batch, int size, long seed) {
        Random r = new Random(seed);
        float[] x = new float[batch * 3 * size * size];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        return HostTensor.floats(x, batch, 3, size, size);
    }

    static HostTensor labels(int batch, int classes) {
        long[] y = new long[batch];
        for (int i = 0; i < batch; i++) y[i] = i % classes;
        return HostTensor.longs(y, batch);
    }
}
