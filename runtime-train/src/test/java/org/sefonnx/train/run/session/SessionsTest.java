package org.sefonnx.train.run.session;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sefonnx.contract.ArtifactLayout;
import org.sefonnx.contract.ModelDescriptor;
import org.sefonnx.contract.StepSignature;
import org.sefonnx.generator.ShippedSpecs;
import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.artifacts.TrainingTarget;
import org.sefonnx.graphs.DemoR18Model;
import org.sefonnx.train.ort.OrtAdapter;
import org.sefonnx.train.run.options.TrainOptions;
import org.sefonnx.train.run.state.InvalidRunException;

/** A training session runs its device's training graph and names that graph in the run log and in a refusal. */
class SessionsTest {
    /** The demo's descriptor with another TrainStep: the loss-scaled one, whose extra input the fp32 graphs lack. */
    static final ModelDescriptor LOSS_SCALED =
            DemoDescriptor.withSteps(StepSignature.trainStep(true), DemoR18Model.EVAL_STEP);

    private static OrtAdapter.Training openOnCpu(
            OrtAdapter ort, ModelDescriptor d, Path dir, ByteArrayOutputStream log) {
        return Sessions.open(
                ort,
                d,
                dir,
                dir.resolve(ArtifactLayout.CHECKPOINT),
                TrainOptions.Device.CPU,
                1,
                OrtAdapter.CudaOptions.defaults(),
                new PrintStream(log, true, StandardCharsets.UTF_8));
    }

    @Test
    void aCpuSessionThatDisagreesWithTheDescriptorIsRefusedNamingTheCpuTrainingGraph(@TempDir Path dir)
            throws Exception {
        ArtifactWriter.generate(ShippedSpecs.demo(), dir, 42L);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try (OrtAdapter ort = OrtAdapter.create("sessions")) {
            InvalidRunException e =
                    assertThrows(InvalidRunException.class, () -> openOnCpu(ort, LOSS_SCALED, dir, log));
            assertTrue(
                    e.getMessage().startsWith(dir.resolve(TrainingTarget.CPU.modelFile()) + ": TrainStep takes"),
                    e.getMessage());
        }
        assertTrue(
                log.toString(StandardCharsets.UTF_8).contains("training graph cpu (training_model_cpu.onnx)"),
                log.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aRunFolderWithoutTheCpuGraphTrainsOnTheCpuWithTheCudaGraphAndSaysSo(@TempDir Path dir) throws Exception {
        ArtifactWriter.generate(ShippedSpecs.demo(), dir, 42L);
        Files.delete(dir.resolve(TrainingTarget.CPU.modelFile()));
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try (OrtAdapter ort = OrtAdapter.create("sessions");
                OrtAdapter.Training session = openOnCpu(ort, DemoR18Model.INSTANCE, dir, log)) {
            assertTrue(session.trainInputNames().contains("images"));
        }
        assertTrue(
                log.toString(StandardCharsets.UTF_8).contains("training graph cuda (training_model.onnx)"),
                log.toString(StandardCharsets.UTF_8));
    }
}
