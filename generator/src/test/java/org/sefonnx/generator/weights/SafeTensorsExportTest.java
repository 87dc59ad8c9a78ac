package org.sefonnx.generator.weights;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sefonnx.contract.ArtifactLayout;
import org.sefonnx.generator.Generate;
import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.artifacts.Checkpoint;
import org.sefonnx.generator.artifacts.CheckpointReader;
import org.sefonnx.generator.model.CheckpointTensor;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.generator.model.SefModel;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafeTensorsExportTest {
    static final ModelSpec SPEC = Fixtures.R18;

    @TempDir
    Path dir;

    @Test
    void exportHasTorchvisionStateDictNamesAndNoMomentum() throws Exception {
        Checkpoint ck = ArtifactWriter.initialCheckpoint(SPEC, 4);
        Path file = dir.resolve("export.safetensors");
        SafeTensorsExport.write(ck, SPEC, file);
        SafeTensors.Contents c = SafeTensors.read(file);

        // torchvision resnet18(num_classes=5).state_dict(): 62 parameters, 3 entries per BatchNorm's statistics
        long parameters = SefModel.modelTensors(SPEC).stream().filter(CheckpointTensor::trainable).filter(t -> !t.name().startsWith("group_fc.")).count();
        assertEquals(62, parameters);
        assertEquals(62 + 3 * 20, c.tensors().size());
        assertTrue(c.tensors().keySet().stream().noneMatch(n -> n.endsWith(CheckpointTensor.MOMENTUM_SUFFIX) || n.startsWith("group_fc.")), c.tensors().keySet().toString());
        assertArrayEquals(new long[]{5, 512}, c.tensor("fc.weight").shape());
        assertArrayEquals(ck.tensor("fc.weight").data(), c.tensor("fc.weight").toFloats());
        assertArrayEquals(ck.tensor("layer3.1.bn2.running_var").data(), c.tensor("layer3.1.bn2.running_var").toFloats());
        SafeTensors.Tensor counter = c.tensor("layer2.0.downsample.1.num_batches_tracked");
        assertEquals(SafeTensors.DType.I64, counter.dtype());
        assertArrayEquals(new long[0], counter.shape());
        assertArrayEquals(new long[]{0}, counter.toLongs());

        assertEquals("pt", c.metadata().get(SafeTensorsExport.META_FORMAT));
        assertEquals(SPEC.id(), c.metadata().get(SafeTensorsExport.META_MODEL_ID));
        assertEquals(SPEC, ModelSpec.parse(c.metadata().get(SafeTensorsExport.META_SPEC), "metadata"));
        assertEquals("4", c.metadata().get(ArtifactWriter.PROP_INIT_SEED));
        assertEquals("false", c.metadata().get(SafeTensorsExport.META_GROUP_HEADS));
    }

    @Test
    void groupHeadsOnRequest() throws Exception {
        Checkpoint ck = ArtifactWriter.initialCheckpoint(SPEC, 4);
        Path file = dir.resolve("with-heads.safetensors");
        SafeTensorsExport.write(ck, SPEC, file, true);
        SafeTensors.Contents c = SafeTensors.read(file);
        assertArrayEquals(new long[]{5, 256}, c.tensor("group_fc.1.weight").shape());
        assertArrayEquals(ck.tensor("group_fc.1.bias").data(), c.tensor("group_fc.1.bias").toFloats());
        assertEquals("true", c.metadata().get(SafeTensorsExport.META_GROUP_HEADS));
    }

    @Test
    void checkpointOfAnotherSpecIsRefusedNamingTheTensors() {
        Checkpoint ck = ArtifactWriter.initialCheckpoint(SPEC, 4);
        ModelSpec other = ModelSpec.of("other", 18, 7, 2, 32);
        var e = assertThrows(IllegalArgumentException.class, () -> SafeTensorsExport.tensors(ck, other, false));
        assertTrue(e.getMessage().contains("fc.weight has shape [5, 512], spec other expects [7, 512]"), e.getMessage());
    }

    @Test
    void generateWithPretrainedWritesTheImportedCheckpoint() throws Exception {
        Map<String, float[]> values = Fixtures.pretrained(SPEC, 12);
        Path weights = dir.resolve("resnet18.safetensors");
        SafeTensors.write(weights, Fixtures.safeTensors(SPEC, values, ""), Map.of());
        Path out = dir.resolve("artifacts");
        int code = new CommandLine(new Generate()).execute("--id", SPEC.id(), "--depth", "18", "--classes", "5", "--groups", "2", "--image-size", "32",
                "--seed", "3", "--pretrained", weights.toString(), "--out", out.toString());
        assertEquals(0, code);
        Checkpoint ck = CheckpointReader.read(out.resolve(ArtifactLayout.CHECKPOINT));
        assertArrayEquals(values.get("layer2.1.conv1.weight"), ck.tensor("layer2.1.conv1.weight").data());
        assertArrayEquals(values.get("bn1.running_mean"), ck.tensor("bn1.running_mean").data());
        assertArrayEquals(ArtifactWriter.initialCheckpoint(SPEC, 3).tensor("group_fc.0.weight").data(), ck.tensor("group_fc.0.weight").data());
        assertEquals(WeightsFile.sha256(Files.readAllBytes(weights)), ck.stringProperties().get(PretrainedImport.PROP_PRETRAINED_SHA256));
        assertNotNull(ck.tensor("fc.weight.momentum"));
        assertTrue(Files.exists(out.resolve(ArtifactLayout.TRAINING_MODEL)));
    }

    @Test
    void generateRefusesAMisfitBeforeWritingAnything() throws Exception {
        Map<String, float[]> values = Fixtures.pretrained(SPEC, 12);
        values.remove("layer4.0.downsample.0.weight");
        Path weights = dir.resolve("partial.safetensors");
        SafeTensors.write(weights, Fixtures.safeTensors(SPEC, values, ""), Map.of());
        Path out = dir.resolve("never");
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int code;
        try {
            System.setErr(new PrintStream(captured, true));
            code = new CommandLine(new Generate()).execute("--id", SPEC.id(), "--depth", "18", "--classes", "5", "--groups", "2", "--image-size", "32",
                    "--pretrained", weights.toString(), "--out", out.toString());
        } finally {
            System.setErr(err);
        }
        assertEquals(2, code);
        assertFalse(Files.exists(out), "nothing written");
        assertTrue(captured.toString().contains("missing: layer4.0.downsample.0.weight [512, 256, 1, 1]"), captured.toString());
    }
}
