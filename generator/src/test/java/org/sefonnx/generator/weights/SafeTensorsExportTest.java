package org.sefonnx.generator.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.artifacts.Checkpoint;
import org.sefonnx.generator.model.CheckpointTensor;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.generator.model.SefModel;

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
        long parameters = SefModel.modelTensors(SPEC).stream()
                .filter(CheckpointTensor::trainable)
                .filter(t -> !t.name().startsWith("group_fc."))
                .count();
        assertEquals(62, parameters);
        assertEquals(62 + 3 * 20, c.tensors().size());
        assertTrue(
                c.tensors().keySet().stream()
                        .noneMatch(n -> n.endsWith(CheckpointTensor.MOMENTUM_SUFFIX) || n.startsWith("group_fc.")),
                c.tensors().keySet().toString());
        assertArrayEquals(new long[] {5, 512}, c.tensor("fc.weight").shape());
        assertArrayEquals(ck.tensor("fc.weight").data(), c.tensor("fc.weight").toFloats());
        assertArrayEquals(
                ck.tensor("layer3.1.bn2.running_var").data(),
                c.tensor("layer3.1.bn2.running_var").toFloats());
        SafeTensors.Tensor counter = c.tensor("layer2.0.downsample.1.num_batches_tracked");
        assertEquals(SafeTensors.DType.I64, counter.dtype());
        assertArrayEquals(new long[0], counter.shape());
        assertArrayEquals(new long[] {0}, counter.toLongs());

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
        assertArrayEquals(new long[] {5, 256}, c.tensor("group_fc.1.weight").shape());
        assertArrayEquals(
                ck.tensor("group_fc.1.bias").data(), c.tensor("group_fc.1.bias").toFloats());
        assertEquals("true", c.metadata().get(SafeTensorsExport.META_GROUP_HEADS));
    }

    @Test
    void checkpointOfAnotherSpecIsRefusedNamingTheTensors() {
        Checkpoint ck = ArtifactWriter.initialCheckpoint(SPEC, 4);
        ModelSpec other = ModelSpec.of("other", 18, 7, 2, 32);
        var e = assertThrows(IllegalArgumentException.class, () -> SafeTensorsExport.tensors(ck, other, false));
        assertTrue(
                e.getMessage().contains("fc.weight has shape [5, 512], spec other expects [7, 512]"), e.getMessage());
    }
}
