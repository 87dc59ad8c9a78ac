package org.sefonnx.validation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.generator.ShippedSpecs;
import org.sefonnx.generator.artifacts.TrainingArtifacts;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.graphs.DemoR18Model;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.ort.OrtAdapter;

/** The generated artifacts load into ORT's training API (bytedeco, CPU) and one TrainStep + OptimizerStep runs. */
class ArtifactsLoadInOrtTest {
    @TempDir
    Path dir;

    @Test
    void demoSpecTrainsOneStepThroughTheTypedContract() throws Exception {
        ModelSpec spec = ShippedSpecs.demo();
        try (OrtAdapter.Training t = Ort.open(spec, dir, 7)) {
            assertEquals(DemoR18Model.TRAIN_STEP.inputs(), t.trainInputNames());
            assertEquals(DemoR18Model.TRAIN_STEP.outputs(), t.trainOutputNames());
            assertEquals(DemoR18Model.EVAL_STEP.outputs(), t.evalOutputNames());
            assertEquals(DemoR18Model.TRAINABLE_PARAMETER_COUNT, t.parameterCount(true));
            oneStep(t, spec, 4);
            // the eval graph returns logits and probabilities of shape [batch, K]
            List<HostTensor> ev =
                    t.evalStep(List.of(Ort.images(4, spec.imageSize(), 2), Ort.labels(4, spec.numClasses())));
            assertArrayEquals(
                    new long[] {4, DemoR18Model.NUM_CLASSES},
                    ev.get(DemoR18Model.EVAL_STEP.outputIndex(TensorNames.LOGITS))
                            .shape());
            float[] p = ev.get(DemoR18Model.EVAL_STEP.outputIndex(TensorNames.PROBABILITIES))
                    .toFloats();
            for (int b = 0; b < 4; b++) {
                double sum = 0;
                for (int k = 0; k < DemoR18Model.NUM_CLASSES; k++) sum += p[b * DemoR18Model.NUM_CLASSES + k];
                assertEquals(1.0, sum, 1e-5);
            }
        }
    }

    @Test
    void resnet50AtSmallImageSizeTrainsOneStep() throws Exception {
        ModelSpec spec = ModelSpec.of("r50-small", 50, 10, 3, 64);
        try (OrtAdapter.Training t = Ort.open(spec, dir, 7)) {
            assertEquals(
                    TrainingArtifacts.build(spec).trainable().stream()
                            .mapToLong(x -> x.numel())
                            .sum(),
                    t.parameterCount(true));
            oneStep(t, spec, 2);
        }
    }

    @Test
    void adamwOptionTrainsOneStep() throws Exception {
        ModelSpec spec = ModelSpec.of("r18-adamw", 18, 5, 2, 32).withOptimizer(ModelSpec.Optimizer.ADAMW, 0, 0.01);
        try (OrtAdapter.Training t = Ort.open(spec, dir, 7)) {
            oneStep(t, spec, 2);
        }
    }

    static void oneStep(OrtAdapter.Training t, ModelSpec spec, int batch) {
        t.setLearningRate(0.01f);
        float[] before = t.copyParameters(true);
        List<HostTensor> out =
                t.trainStep(List.of(Ort.images(batch, spec.imageSize(), 1), Ort.labels(batch, spec.numClasses())));
        assertEquals(TensorNames.LOSS_TERMS.size(), out.size());
        for (HostTensor o : out) assertTrue(Float.isFinite(o.scalar()), "non-finite loss term");
        float total = out.get(1).scalar()
                + (float) spec.lambda() * out.get(2).scalar()
                + (float) spec.gamma() * out.get(3).scalar()
                + (float) spec.phi() * out.get(4).scalar();
        assertEquals(total, out.get(0).scalar(), 1e-5 * Math.abs(total), "loss = CE + λE + γS + φL");
        t.optimizerStep();
        t.lazyResetGrad();
        float[] after = t.copyParameters(true);
        // every parameter tensor moves (not every element: at 32 px the 3x3 convs of layer4 see a 1x1 map, so only
        // their centre taps get a gradient)
        int offset = 0;
        for (var p : TrainingArtifacts.build(spec).trainable()) {
            boolean moved = false;
            for (int i = offset; i < offset + p.numel() && !moved; i++) moved = before[i] != after[i];
            assertTrue(moved, p.name() + " did not change after one optimizer step");
            offset += (int) p.numel();
        }
        assertEquals(before.length, offset);
    }
}
