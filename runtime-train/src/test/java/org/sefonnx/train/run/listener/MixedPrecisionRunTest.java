package org.sefonnx.train.run.listener;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sefonnx.contract.ArtifactLayout;
import org.sefonnx.contract.ExportLayout;
import org.sefonnx.contract.ModelDescriptor;
import org.sefonnx.contract.Precision;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.generator.ShippedSpecs;
import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.artifacts.Checkpoint;
import org.sefonnx.generator.artifacts.TrainingTarget;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.generator.onnx.DType;
import org.sefonnx.graphs.DemoR18Model;
import org.sefonnx.train.data.DemoData;
import org.sefonnx.train.data.TransformSpec;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.ort.OrtAdapter;
import org.sefonnx.train.run.export.Exporter;
import org.sefonnx.train.run.options.TrainOptions;
import org.sefonnx.train.run.session.ModelArtifacts;
import org.sefonnx.train.run.session.ModelSteps;
import org.sefonnx.train.run.session.Sessions;
import org.sefonnx.train.run.session.SpecDescriptor;
import org.sefonnx.train.run.state.TrainingDivergedException;

/** The runtime's side of --precision fp16 that a CPU can check: step gating, scaler state, device choice, export. */
class MixedPrecisionRunTest {
    static final PrintStream QUIET = new PrintStream(PrintStream.nullOutputStream());
    static final ModelSpec HALF = ShippedSpecs.demo().withPrecision(Precision.FP16);

    @TempDir
    Path dir;

    static HostTensor flag(boolean value) {
        return HostTensor.of(
                DType.BOOL,
                new long[0],
                ByteBuffer.allocateDirect(1).order(ByteOrder.nativeOrder()).put(0, (byte) (value ? 1 : 0)));
    }

    static ModelSteps.Outputs outputs(ModelDescriptor d, boolean finite) {
        List<HostTensor> out = new ArrayList<>();
        for (String name : d.trainStep().outputs()) {
            out.add(name.equals(TensorNames.GRADIENTS_FINITE) ? flag(finite) : HostTensor.floats(new float[] {1.5f}));
        }
        return new ModelSteps.Outputs(d.trainStep(), out);
    }

    static final Checkpoint EMPTY = new Checkpoint(List.of(), List.of(), Map.of(), Map.of(), Map.of());

    /** A training batch whose TrainStep returned {@code outputs}. */
    static TrainingListener.TrainingBatch batch(ModelSteps.Outputs outputs) {
        return new TrainingListener.TrainingBatch(0, 1, 1, 1, 1, 0.01, outputs, null);
    }

    /** What {@code scaling} feeds TrainStep besides images and labels. */
    static Map<String, HostTensor> fed(LossScaling scaling) {
        Map<String, HostTensor> inputs = new HashMap<>();
        scaling.feedTrainStep(inputs);
        return inputs;
    }

    @Test
    void float32SpecsHaveNoLossScaling() {
        assertEquals(Optional.empty(), LossScaling.of(DemoR18Model.INSTANCE, EMPTY, QUIET));
    }

    @Test
    void halfPrecisionFeedsTheScaleSkipsNonFiniteStepsAndResumesFromTheCheckpointState() {
        ModelDescriptor d = SpecDescriptor.of(HALF);
        assertEquals(Precision.FP16, d.precision());
        LossScaling fresh = LossScaling.of(d, EMPTY, QUIET).orElseThrow();
        HostTensor images = HostTensor.floats(new float[12], 1, 3, 2, 2), labels = HostTensor.longs(new long[] {0}, 1);
        Map<String, HostTensor> inputs = fed(fresh);
        inputs.put(TensorNames.IMAGES, images);
        inputs.put(TensorNames.LABELS, labels);
        List<HostTensor> in = d.trainStep().arrangeInputs(inputs);
        assertEquals(3, in.size());
        assertEquals(65536f, in.get(2).scalar());
        assertEquals(Optional.empty(), fresh.beforeOptimizerStep(batch(outputs(d, true))));
        assertEquals(
                Optional.of("skipped (loss scale now 32768)"), fresh.beforeOptimizerStep(batch(outputs(d, false))));
        assertEquals(32768f, fed(fresh).get(TensorNames.LOSS_SCALE).scalar());

        Checkpoint saved = new Checkpoint(
                List.of(),
                List.of(),
                Map.of(LossScaler.PROP_GROWTH_TRACKER, 1999L),
                Map.of(LossScaler.PROP_SCALE, 8192f),
                Map.of());
        LossScaling resumed = LossScaling.of(d, saved, QUIET).orElseThrow();
        assertEquals(8192f, resumed.scale());
        assertEquals(Optional.empty(), resumed.beforeOptimizerStep(batch(outputs(d, true))));
        assertEquals(16384f, resumed.scale(), "the 2,000th finite step after resuming doubles the scale");
    }

    @Test
    void aRunWhoseGradientsStayNonFiniteAtAnyScaleStopsAsDiverged() {
        ModelDescriptor d = SpecDescriptor.of(HALF);
        LossScaling scaling = LossScaling.of(d, EMPTY, QUIET).orElseThrow();
        // 2^16 halved 40 times is 2^-24, the last useful scale; the 41st skip stops the run
        for (int i = 0; i < 40; i++)
            assertTrue(scaling.beforeOptimizerStep(batch(outputs(d, false))).isPresent());
        assertEquals(0x1.0p-24f, scaling.scale());
        TrainingDivergedException e = assertThrows(
                TrainingDivergedException.class, () -> scaling.beforeOptimizerStep(batch(outputs(d, false))));
        assertTrue(e.getMessage().contains("after 41 skipped steps"), e.getMessage());
    }

    @Test
    void halfPrecisionRefusesTheCpuAndSaysWhy() throws Exception {
        ArtifactWriter.generate(HALF, dir, 42L);
        try (OrtAdapter ort = OrtAdapter.create("fp16-cpu")) {
            IllegalStateException e = assertThrows(
                    IllegalStateException.class,
                    () -> Sessions.open(
                            ort,
                            SpecDescriptor.of(HALF),
                            dir,
                            dir.resolve(ArtifactLayout.CHECKPOINT),
                            TrainOptions.Device.CPU,
                            1,
                            OrtAdapter.CudaOptions.defaults(),
                            QUIET));
            assertTrue(e.getMessage().contains("no fp16 ConvGrad"), e.getMessage());
        }
    }

    @Test
    void aHalfPrecisionCheckpointExportsOnTheCpuAsTheFloat32ModelDoes() throws Exception {
        Path half = Files.createDirectories(dir.resolve("fp16")), full = Files.createDirectories(dir.resolve("fp32"));
        ArtifactWriter.generate(HALF, half, 42L);
        ArtifactWriter.generate(ShippedSpecs.demo(), full, 42L);
        try (OrtAdapter ort = OrtAdapter.create("fp16-export")) {
            Path a = Exporter.export(
                    ort,
                    SpecDescriptor.of(HALF),
                    half,
                    half.resolve(ArtifactLayout.CHECKPOINT),
                    TransformSpec.forLayout(null, HALF.imageSize(), false),
                    false,
                    DemoData.CLASS_NAMES,
                    dir.resolve("export-fp16"),
                    QUIET);
            Path b = Exporter.export(
                    ort,
                    DemoR18Model.INSTANCE,
                    full,
                    full.resolve(ArtifactLayout.CHECKPOINT),
                    TransformSpec.forLayout(null, HALF.imageSize(), false),
                    false,
                    DemoData.CLASS_NAMES,
                    dir.resolve("export-fp32"),
                    QUIET);
            assertTrue(Files.exists(
                    half.resolve(ModelArtifacts.FLOAT32_TWIN_DIR).resolve(TrainingTarget.CUDA.modelFile())));
            assertArrayEquals(
                    Files.readAllBytes(b.resolve(ExportLayout.MODEL)),
                    Files.readAllBytes(a.resolve(ExportLayout.MODEL)),
                    "same weights, same float32 inference graph");
        }
    }
}
