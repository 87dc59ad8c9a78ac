package org.sefonnx.train.run.session;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sefonnx.contract.ArtifactLayout;
import org.sefonnx.contract.ModelDescriptor;
import org.sefonnx.contract.StepSignature;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.generator.ShippedSpecs;
import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.graphs.DemoR18Model;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.ort.OrtAdapter;
import org.sefonnx.train.run.options.TrainOptions;
import org.sefonnx.train.run.state.InvalidRunException;

/** Sessions are bound through the model descriptor: checked at open, inputs by name, outputs by name. */
class ModelStepsTest {
    static final PrintStream QUIET = new PrintStream(PrintStream.nullOutputStream());

    @Test
    void outputsReadByNameAreTheSessionsOwnOutputsOfThatName(@TempDir Path dir) throws Exception {
        ArtifactWriter.generate(ShippedSpecs.demo(), dir, 42L);
        int batch = 2, size = DemoR18Model.IMAGE_SIZE_PX;
        float[] pixels = new float[batch * 3 * size * size];
        Random random = new Random(7);
        for (int i = 0; i < pixels.length; i++) pixels[i] = (float) random.nextGaussian();
        HostTensor images = HostTensor.floats(pixels, batch, 3, size, size),
                labels = HostTensor.longs(new long[] {3, 8}, batch);
        try (OrtAdapter ort = OrtAdapter.create("steps");
                OrtAdapter.Training session = Sessions.open(
                        ort,
                        DemoR18Model.INSTANCE,
                        dir,
                        dir.resolve(ArtifactLayout.CHECKPOINT),
                        TrainOptions.Device.CPU,
                        1,
                        OrtAdapter.CudaOptions.defaults(),
                        QUIET)) {
            ModelSteps.Outputs named = new ModelSteps(DemoR18Model.INSTANCE, session).eval(images, labels);
            List<HostTensor> positional = session.evalStep(List.of(images, labels));
            for (String name : List.of(
                    TensorNames.LOGITS, TensorNames.GROUP_LOGITS, TensorNames.GROUP_BLOCK_SUMS, TensorNames.LOSS)) {
                assertArrayEquals(
                        positional.get(session.evalOutputNames().indexOf(name)).toFloats(), named.floats(name), name);
            }
            assertEquals(batch * DemoR18Model.NUM_CLASSES, named.floats(TensorNames.LOGITS).length);
        }
    }

    @Test
    void graphsThatDisagreeWithTheDescriptorAreRefusedSayingHowToRegenerateThem(@TempDir Path dir) throws Exception {
        ArtifactWriter.generate(ShippedSpecs.demo(), dir, 42L);
        // a descriptor from a version whose eval graph had no explain outputs
        List<String> older = new ArrayList<>(DemoR18Model.EVAL_STEP.outputs());
        older.remove(TensorNames.FEATURE_MAP);
        ModelDescriptor other = DemoDescriptor.withSteps(
                DemoR18Model.TRAIN_STEP, new StepSignature("EvalStep", DemoR18Model.EVAL_STEP.inputs(), older));
        try (OrtAdapter ort = OrtAdapter.create("steps")) {
            InvalidRunException e = assertThrows(
                    InvalidRunException.class,
                    () -> Sessions.open(
                            ort,
                            other,
                            dir,
                            dir.resolve(ArtifactLayout.CHECKPOINT),
                            TrainOptions.Device.CPU,
                            1,
                            OrtAdapter.CudaOptions.defaults(),
                            QUIET));
            assertTrue(
                    e.getMessage()
                            .startsWith(dir.resolve(ArtifactLayout.EVAL_MODEL)
                                    + ": EvalStep takes [images, labels] and returns "
                                    + DemoR18Model.EVAL_STEP.outputs()),
                    e.getMessage());
            assertTrue(
                    e.getMessage()
                            .endsWith("regenerate them with `sef-onnx generate --spec-file "
                                    + dir.resolve(ArtifactLayout.SPEC) + " --out " + dir + "`"),
                    e.getMessage());
        }
    }
}
