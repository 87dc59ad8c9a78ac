package org.sefonnx.validation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sefonnx.contract.ArtifactLayout;
import org.sefonnx.contract.StepSignature;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.artifacts.TrainingArtifacts;
import org.sefonnx.generator.artifacts.TrainingTarget;
import org.sefonnx.generator.model.CheckpointTensor;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.generator.onnx.DType;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.ort.OrtAdapter;

/**
 * The loss-scaling machinery of the fp16 graph, run numerically on the CPU around float32 arithmetic (ORT has no CPU
 * fp16 ConvGrad): unscaled gradients train exactly as the plain graph does, and a step with inf/NaN gradients leaves
 * the momentum buffers and, with its optimizer step skipped, the weights untouched, and does not leak into the next.
 */
class LossScalingStepTest {
    static final ModelSpec SPEC = ModelSpec.of("scaled", 18, 4, 2, 32).withRecipe(0.05, 20, 1, 4);
    static final int BATCH = 4;

    @TempDir
    Path dir;

    OrtAdapter.Training open(TrainingArtifacts.Arithmetic arithmetic, String name) throws IOException {
        Path d = Files.createDirectories(dir.resolve(name));
        ArtifactWriter.writeModels(TrainingArtifacts.build(SPEC, arithmetic), d);
        ArtifactWriter.writeInitialCheckpoint(SPEC, 42L, d);
        OrtAdapter.Training t = Ort.ADAPTER.openTraining(
                d.resolve(ArtifactLayout.CHECKPOINT),
                d.resolve(TrainingTarget.CUDA.modelFile()),
                d.resolve(ArtifactLayout.EVAL_MODEL),
                d.resolve(ArtifactLayout.OPTIMIZER_MODEL),
                Ort.CPU);
        t.setLearningRate((float) SPEC.learningRate());
        return t;
    }

    static List<HostTensor> batch(int step) {
        return List.of(Ort.images(BATCH, SPEC.imageSize(), 100 + step), Ort.labels(BATCH, SPEC.numClasses()));
    }

    static List<HostTensor> scaled(int step, float scale) {
        return List.of(
                Ort.images(BATCH, SPEC.imageSize(), 100 + step),
                Ort.labels(BATCH, SPEC.numClasses()),
                HostTensor.floats(new float[] {scale}));
    }

    /** One TrainStep; runs the optimizer step when {@code optimize}. Returns the outputs. */
    static List<HostTensor> step(OrtAdapter.Training t, List<HostTensor> in, boolean optimize) {
        List<HostTensor> out = t.trainStep(in);
        if (optimize) t.optimizerStep();
        t.lazyResetGrad();
        return out;
    }

    static double relativeDifference(float[] a, float[] b) {
        double worst = 0, scale = 1e-12;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - b[i]));
            scale = Math.max(scale, Math.abs(a[i]));
        }
        return worst / scale;
    }

    @Test
    void unscaledGradientsTrainAsThePlainGraphStepForStep() throws IOException {
        try (OrtAdapter.Training plain = open(new TrainingArtifacts.Arithmetic(DType.FLOAT, false), "plain");
                OrtAdapter.Training withScaling = open(new TrainingArtifacts.Arithmetic(DType.FLOAT, true), "scaled")) {
            assertEquals(
                    List.of(TensorNames.IMAGES, TensorNames.LABELS, TensorNames.LOSS_SCALE),
                    withScaling.trainInputNames());
            assertEquals(StepSignature.trainStep(true).outputs(), withScaling.trainOutputNames());
            for (int s = 0; s < 3; s++) {
                List<HostTensor> a = step(plain, batch(s), true);
                List<HostTensor> b = step(withScaling, scaled(s, 65536f), true);
                assertTrue(b.get(5).flag(), "step " + s + " finite");
                assertEquals(
                        a.get(0).scalar(),
                        b.get(0).scalar(),
                        1e-6 * Math.abs(a.get(0).scalar()),
                        "the loss output is unscaled");
            }
            float[] wa = plain.copyParameters(true), wb = withScaling.copyParameters(true);
            // a power-of-two scale is exact in float32: (g·2^16)·2^-16 = g unless a gradient underflows
            double rel = relativeDifference(wa, wb);
            assertTrue(rel < 1e-6, "weights after 3 steps differ by " + rel + " of the largest weight");
        }
    }

    @Test
    void aNonFiniteStepKeepsMomentumAndWeightsAndTheNextStepMatchesARunWithoutIt() throws IOException {
        try (OrtAdapter.Training reference = open(new TrainingArtifacts.Arithmetic(DType.FLOAT, false), "reference");
                OrtAdapter.Training withScaling =
                        open(new TrainingArtifacts.Arithmetic(DType.FLOAT, true), "skipping")) {
            List<String> momentumNames = TrainingArtifacts.checkpointTensors(SPEC).stream()
                    .filter(t -> t.role() == CheckpointTensor.Role.MOMENTUM)
                    .map(CheckpointTensor::name)
                    .toList();
            assertTrue(step(withScaling, scaled(0, 65536f), true).get(5).flag());
            step(reference, batch(0), true);
            float[] weightsBefore = withScaling.copyParameters(true);
            List<float[]> momentumBefore = momentumNames.stream()
                    .map(n -> withScaling.tensor(n).toFloats())
                    .toList();

            // an infinite scale makes every gradient inf or NaN, as an fp16 overflow would
            List<HostTensor> bad = step(withScaling, scaled(1, Float.POSITIVE_INFINITY), false);
            assertFalse(bad.get(5).flag(), "the all-finite flag reports the overflow");
            for (int i = 0; i < momentumNames.size(); i++) {
                assertArrayEquals(
                        momentumBefore.get(i),
                        withScaling.tensor(momentumNames.get(i)).toFloats(),
                        0f,
                        momentumNames.get(i));
            }
            assertArrayEquals(weightsBefore, withScaling.copyParameters(true), 0f);

            // the reference never saw batch 1; the weights after batch 2 agree
            assertTrue(step(withScaling, scaled(2, 32768f), true).get(5).flag());
            step(reference, batch(2), true);
            double rel = relativeDifference(reference.copyParameters(true), withScaling.copyParameters(true));
            assertTrue(rel < 1e-6, "weights after the step following the skip differ by " + rel);
            double momentumRel = relativeDifference(
                    reference.tensor(momentumNames.get(0)).toFloats(),
                    withScaling.tensor(momentumNames.get(0)).toFloats());
            assertTrue(momentumRel < 1e-5, "momentum of " + momentumNames.get(0) + " differs by " + momentumRel);
        }
    }
}
