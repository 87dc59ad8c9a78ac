package org.sefonnx.generator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sefonnx.contract.ArtifactLayout;
import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.artifacts.Checkpoint;
import org.sefonnx.generator.artifacts.CheckpointReader;
import org.sefonnx.generator.artifacts.CheckpointWriter;
import org.sefonnx.generator.artifacts.InitialWeights;
import org.sefonnx.generator.model.CheckpointTensor;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.generator.model.SefModel;

class CheckpointTest {
    @TempDir
    Path dir;

    @Test
    void writtenCheckpointReadsBackWithItsPropertyBag() throws Exception {
        ModelSpec spec = ModelSpec.of("ck-test", 18, 7, 3, 32);
        ArtifactWriter.writeInitialCheckpoint(spec, 11, dir);
        Checkpoint ck = CheckpointReader.read(dir.resolve(ArtifactLayout.CHECKPOINT));
        Checkpoint expected = ArtifactWriter.initialCheckpoint(spec, 11);
        assertEquals(expected.trainable().size(), ck.trainable().size());
        assertEquals(expected.frozen().size(), ck.frozen().size());
        for (int i = 0; i < ck.trainable().size(); i++) {
            assertEquals(
                    expected.trainable().get(i).name(), ck.trainable().get(i).name());
            assertArrayEquals(
                    expected.trainable().get(i).dims(), ck.trainable().get(i).dims());
            assertArrayEquals(
                    expected.trainable().get(i).data(), ck.trainable().get(i).data());
        }
        assertEquals("ck-test", ck.stringProperties().get(ArtifactWriter.PROP_MODEL_ID));
        assertEquals(spec, ModelSpec.parse(ck.stringProperties().get(ArtifactWriter.PROP_SPEC), "bag"));
        assertEquals(7L, ck.intProperties().get(ArtifactWriter.PROP_NUM_CLASSES));
        assertEquals(3L, ck.intProperties().get(ArtifactWriter.PROP_GROUPS));
        assertEquals(11L, ck.intProperties().get(ArtifactWriter.PROP_INIT_SEED));
        // momentum buffers and running statistics start as PyTorch's
        assertTrue(ck.tensor("conv1.weight.momentum") != null);
        for (float v : ck.tensor("layer1.0.bn1.running_var").data()) assertEquals(1f, v);
        for (float v : ck.tensor("fc.weight.momentum").data()) assertEquals(0f, v);
    }

    @Test
    void aFileThatIsNotACheckpointIsRefusedNamingIt() throws Exception {
        Path bad = dir.resolve("not-a-checkpoint");
        Files.write(bad, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
        var e = assertThrows(IllegalArgumentException.class, () -> CheckpointReader.read(bad));
        assertTrue(e.getMessage().contains(bad.toString()) && e.getMessage().contains("expected ODTC"), e.getMessage());
    }

    @Test
    void emptyCheckpointRoundTripsAndATruncatedOneFailsCleanly() {
        byte[] bytes =
                CheckpointWriter.toBytes(new Checkpoint(List.of(), List.of(), Map.of("epoch", 3L), Map.of(), Map.of()));
        assertEquals(
                3L, CheckpointReader.read(bytes, "mem", true).intProperties().get("epoch"));
        byte[] cut = java.util.Arrays.copyOf(bytes, 6);
        var e = assertThrows(RuntimeException.class, () -> CheckpointReader.read(cut, "cut.ckpt", true));
        assertTrue(e.getMessage().contains("cut.ckpt") || e instanceof IndexOutOfBoundsException, e.getMessage());
    }

    /** torchvision ResNet parameter counts (resnet18: 11,689,512 incl. fc 1000; resnet50: 25,557,032). */
    @Test
    void aCheckpointCutInsideItsTensorsFailsNamingTheFileAndANanIsFoundInPlace() {
        Checkpoint ck = new Checkpoint(
                List.of(new Checkpoint.Tensor("w", new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6})),
                List.of(new Checkpoint.Tensor("w.momentum", new long[] {2}, new float[] {0, Float.NaN})),
                Map.of(),
                Map.of(),
                Map.of());
        byte[] bytes = CheckpointWriter.toBytes(ck);
        assertEquals("w.momentum[1]", CheckpointReader.firstNonFinite(bytes, "nan.ckpt"));
        for (int keep : new int[] {bytes.length / 2, bytes.length - 9, 12}) {
            byte[] cut = java.util.Arrays.copyOf(bytes, keep);
            var e = assertThrows(
                    IllegalArgumentException.class, () -> CheckpointReader.read(cut, "cut.ckpt", true), "kept " + keep);
            assertTrue(e.getMessage().startsWith("cut.ckpt") && e.getMessage().contains("truncated"), e.getMessage());
        }
    }

    @Test
    void backboneParameterCountsMatchTorchvision() {
        assertEquals(11_689_512L - 513_000L, backboneParameters(18));
        assertEquals(21_797_672L - 513_000L, backboneParameters(34));
        assertEquals(25_557_032L - 2_049_000L, backboneParameters(50));
    }

    static long backboneParameters(int depth) {
        return SefModel.modelTensors(ModelSpec.of("count", depth, 10, 2, 64)).stream()
                .filter(t -> t.trainable()
                        && !t.name().startsWith("fc.")
                        && !t.name().startsWith("group_fc."))
                .mapToLong(CheckpointTensor::numel)
                .sum();
    }

    @Test
    void initialWeightsFollowPyTorchDefaults() {
        List<CheckpointTensor> ts = SefModel.modelTensors(ModelSpec.of("init", 50, 200, 4, 64));
        CheckpointTensor conv = find(ts, "layer3.0.conv2.weight"); // 256 x 256 x 3 x 3
        double expectedStd = Math.sqrt(2.0 / (256 * 9));
        float[] w = InitialWeights.values(conv, 1);
        double mean = 0, sq = 0;
        for (float v : w) {
            mean += v;
            sq += v * v;
        }
        mean /= w.length;
        double std = Math.sqrt(sq / w.length - mean * mean);
        assertEquals(expectedStd, std, 0.01 * expectedStd, "kaiming normal, fan_out, relu gain");
        assertEquals(0, mean, 3 * expectedStd / Math.sqrt(w.length));

        CheckpointTensor fc = find(ts, "fc.weight"); // 200 x 2048
        float[] f = InitialWeights.values(fc, 1);
        double bound = 1 / Math.sqrt(2048), var = 0, max = 0;
        for (float v : f) {
            var += v * v;
            max = Math.max(max, Math.abs(v));
        }
        assertTrue(max <= bound, "uniform within ±1/sqrt(fan_in)");
        assertEquals(bound * bound / 3, var / f.length, 0.02 * bound * bound / 3);
        float[] head = InitialWeights.values(find(ts, "group_fc.3.bias"), 1);
        for (float v : head)
            assertTrue(Math.abs(v) <= 1 / Math.sqrt(512), "group head bias uses its own fan_in (C_g = 512)");
        for (float v : InitialWeights.values(find(ts, "layer1.0.bn1.weight"), 1)) assertEquals(1f, v);
        for (float v : InitialWeights.values(find(ts, "layer1.0.bn1.bias"), 1)) assertEquals(0f, v);
        assertArrayEquals(InitialWeights.values(conv, 1), InitialWeights.values(conv, 1), "same seed, same weights");
        assertTrue(
                InitialWeights.values(conv, 1)[0] != InitialWeights.values(conv, 2)[0], "another seed, other weights");
    }

    static CheckpointTensor find(List<CheckpointTensor> ts, String name) {
        return ts.stream().filter(t -> t.name().equals(name)).findFirst().orElseThrow();
    }
}
