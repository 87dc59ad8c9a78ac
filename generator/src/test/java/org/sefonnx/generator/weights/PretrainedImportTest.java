package org.sefonnx.generator.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.artifacts.Checkpoint;
import org.sefonnx.generator.artifacts.CheckpointReader;
import org.sefonnx.generator.artifacts.CheckpointWriter;
import org.sefonnx.generator.model.CheckpointTensor;
import org.sefonnx.generator.model.ModelSpec;

class PretrainedImportTest {
    static final ModelSpec SPEC = Fixtures.R18;

    @TempDir
    Path dir;

    @Test
    void checkpointExportedAndImportedAgainGivesIdenticalTensors() throws Exception {
        // a "trained" checkpoint: every parameter and statistic moved away from the seed's values
        Checkpoint fresh = ArtifactWriter.initialCheckpoint(SPEC, 7);
        Map<String, float[]> trained = Fixtures.pretrained(SPEC, 21);
        Checkpoint ck = new Checkpoint(
                moved(fresh.trainable(), trained),
                moved(fresh.frozen(), trained),
                fresh.intProperties(),
                fresh.floatProperties(),
                fresh.stringProperties());
        // through the flatbuffer file, as a user exports a checkpoint from disk
        Path ckFile = dir.resolve("checkpoint");
        CheckpointWriter.write(ck, ckFile);
        Path st = dir.resolve("trained.safetensors");
        SafeTensorsExport.write(CheckpointReader.read(ckFile), SPEC, st);

        Checkpoint imported = PretrainedImport.initialCheckpoint(SPEC, 7, st);
        assertEquals(names(fresh.trainable()), names(imported.trainable()));
        assertEquals(names(fresh.frozen()), names(imported.frozen()));
        int compared = 0;
        for (CheckpointTensor t : PretrainedImport.backboneTensors(SPEC)) {
            assertArrayEquals(
                    ck.tensor(t.name()).data(), imported.tensor(t.name()).data(), t.name());
            compared++;
        }
        assertEquals(100, compared, "ResNet-18 backbone: 60 parameters and 40 running statistics");
        // heads start from the seed, momentum from zero
        for (String head : List.of("fc.weight", "fc.bias", "group_fc.0.weight", "group_fc.1.bias")) {
            assertArrayEquals(fresh.tensor(head).data(), imported.tensor(head).data(), head);
        }
        for (float v : imported.tensor("conv1.weight.momentum").data()) assertEquals(0f, v);

        String sha =
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(st)));
        assertEquals("trained.safetensors", imported.stringProperties().get(PretrainedImport.PROP_PRETRAINED_FILE));
        assertEquals(sha, imported.stringProperties().get(PretrainedImport.PROP_PRETRAINED_SHA256));
        assertNull(imported.stringProperties().get(PretrainedImport.PROP_PRETRAINED_PREFIX));
        assertEquals(7L, imported.intProperties().get(ArtifactWriter.PROP_INIT_SEED));
        assertEquals(SPEC.id(), imported.stringProperties().get(ArtifactWriter.PROP_MODEL_ID));
    }

    @Test
    void prefixedHalfPrecisionNamesImportAndSkipTheImageNetHead() throws Exception {
        Map<String, float[]> values = Fixtures.pretrained(SPEC, 3);
        List<SafeTensors.Tensor> tensors = new ArrayList<>();
        for (SafeTensors.Tensor t : Fixtures.safeTensors(SPEC, values, "module."))
            tensors.add(t.dtype() == SafeTensors.DType.F32 ? toHalf(t) : t);
        Path file = dir.resolve("dataparallel.safetensors");
        SafeTensors.write(file, tensors, Map.of("format", "pt"));

        Checkpoint ck = PretrainedImport.initialCheckpoint(SPEC, 1, file);
        assertEquals("module.", ck.stringProperties().get(PretrainedImport.PROP_PRETRAINED_PREFIX));
        for (CheckpointTensor t : PretrainedImport.backboneTensors(SPEC)) {
            float[] want = values.get(t.name()), got = ck.tensor(t.name()).data();
            for (int i = 0; i < want.length; i++)
                assertEquals(want[i], got[i], Math.abs(want[i]) * 1e-3 + 1e-7, t.name() + "[" + i + "]");
        }
        assertArrayEquals(
                ArtifactWriter.initialCheckpoint(SPEC, 1).tensor("fc.weight").data(),
                ck.tensor("fc.weight").data());
    }

    private static SafeTensors.Tensor toHalf(SafeTensors.Tensor t) {
        float[] f = t.toFloats();
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(2 * f.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (float v : f) b.putShort(floatToHalf(v));
        return new SafeTensors.Tensor(t.name(), SafeTensors.DType.F16, t.shape(), b.flip());
    }

    /** Round to nearest binary16 by search over the 65536 patterns' order (test-only, values well inside range). */
    static short floatToHalf(float v) {
        int lo = 0, hi = 0x7BFF;
        float a = Math.abs(v);
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (SafeTensors.halfToFloat((short) mid) <= a) lo = mid;
            else hi = mid - 1;
        }
        int best = lo;
        if (lo < 0x7BFF && SafeTensors.halfToFloat((short) (lo + 1)) - a < a - SafeTensors.halfToFloat((short) lo))
            best = lo + 1;
        return (short) (v < 0 ? best | 0x8000 : best);
    }

    @Test
    void missingTensorIsListedWithItsShape() {
        Map<String, long[]> shapes = Fixtures.torchvisionShapes(SPEC);
        shapes.remove("layer2.1.bn2.running_var");
        var e = assertThrows(
                PretrainedMismatchException.class,
                () -> PretrainedImport.match(SPEC, Fixtures.shapesOnly("r18.safetensors", shapes)));
        assertEquals(List.of("layer2.1.bn2.running_var [128]"), e.missing());
        assertTrue(e.unexpected().isEmpty() && e.misShaped().isEmpty());
        assertTrue(
                e.getMessage().startsWith("r18.safetensors does not fit the ResNet-18 backbone of spec import-r18"),
                e.getMessage());
        assertTrue(
                e.getMessage().contains("1 missing, 0 unexpected, 0 mis-shaped. Nothing was written."), e.getMessage());
        assertTrue(e.getMessage().contains("missing: layer2.1.bn2.running_var [128]"), e.getMessage());
    }

    @Test
    void unexpectedAndMisShapedTensorsAreListed() {
        Map<String, long[]> shapes = Fixtures.torchvisionShapes(SPEC);
        shapes.put("layer1.2.conv1.weight", new long[] {64, 64, 3, 3});
        shapes.put("layer3.0.conv1.weight", new long[] {256, 128, 1, 1});
        shapes.put("global_pool.scale", new long[] {1}); // not backbone-like: ignored
        var e = assertThrows(
                PretrainedMismatchException.class,
                () -> PretrainedImport.match(SPEC, Fixtures.shapesOnly("odd.safetensors", shapes)));
        assertEquals(List.of("layer1.2.conv1.weight [64, 64, 3, 3]"), e.unexpected());
        assertEquals(1, e.misShaped().size());
        assertEquals("layer3.0.conv1.weight", e.misShaped().get(0).name());
        assertArrayEquals(new long[] {256, 128, 3, 3}, e.misShaped().get(0).expectedShape());
        assertTrue(
                e.getMessage()
                        .contains(
                                "mis-shaped: layer3.0.conv1.weight expected [256, 128, 3, 3], found F32 [256, 128, 1, 1]"),
                e.getMessage());
        assertTrue(e.getMessage().contains("unexpected: layer1.2.conv1.weight [64, 64, 3, 3]"), e.getMessage());
        assertFalse(e.getMessage().contains("global_pool"), e.getMessage());
    }

    @Test
    void resNet50FileForResNet18SpecIsRefusedAsTheWrongDepth() {
        Map<String, long[]> r50 = Fixtures.torchvisionShapes(ModelSpec.of("r50", 50, 5, 2, 32));
        var e = assertThrows(
                PretrainedMismatchException.class,
                () -> PretrainedImport.match(SPEC, Fixtures.shapesOnly("resnet50.safetensors", r50)));
        assertTrue(
                e.getMessage()
                        .contains(
                                "the file looks like ResNet-50 (Bottleneck blocks 3-4-6-3); the spec wants ResNet-18"),
                e.getMessage());
        // layer1.0.conv1 is 1x1 in a Bottleneck, conv3 and layer1.2 do not exist in ResNet-18
        assertTrue(
                e.misShaped().stream()
                        .anyMatch(m -> m.name().equals("layer1.0.conv1.weight")
                                && m.found().equals("F32 [64, 64, 1, 1]")),
                e.misShaped().toString());
        assertTrue(
                e.unexpected().contains("layer1.0.conv3.weight [256, 64, 1, 1]"),
                e.unexpected().toString());
        assertTrue(
                e.unexpected().contains("layer3.5.bn2.running_var [256]"),
                e.unexpected().toString());
        assertTrue(e.getMessage().contains("... and "), "long lists are cut: " + e.getMessage());

        // and the other way round: missing conv3s
        var back = assertThrows(
                PretrainedMismatchException.class,
                () -> PretrainedImport.match(
                        ModelSpec.of("r50", 50, 5, 2, 32),
                        Fixtures.shapesOnly("resnet18.safetensors", Fixtures.torchvisionShapes(SPEC))));
        assertTrue(
                back.getMessage()
                        .contains("looks like ResNet-18 (BasicBlock blocks 2-2-2-2); the spec wants ResNet-50"),
                back.getMessage());
        assertTrue(
                back.missing().contains("layer4.2.conv3.weight [2048, 512, 1, 1]"),
                back.missing().toString());
    }

    @Test
    void foldedOnnxExportIsRefusedWithTheWayOut() {
        Map<String, long[]> folded = new LinkedHashMap<>();
        folded.put("onnx::Conv_193", new long[] {64, 3, 7, 7});
        folded.put("onnx::Conv_194", new long[] {64});
        folded.put("fc.weight", new long[] {1000, 512});
        var e = assertThrows(
                PretrainedMismatchException.class,
                () -> PretrainedImport.match(SPEC, Fixtures.shapesOnly("folded.onnx", folded)));
        assertEquals(100, e.missing().size());
        assertTrue(e.getMessage().contains("training=torch.onnx.TrainingMode.TRAINING"), e.getMessage());
    }

    @Test
    void integerTensorUnderAnExpectedNameIsMisShaped() {
        Map<String, WeightsFile.Entry> m = new LinkedHashMap<>(
                Fixtures.shapesOnly("x", Fixtures.torchvisionShapes(SPEC)).tensors());
        m.put("bn1.running_mean", new WeightsFile.Entry("bn1.running_mean", new long[] {64}, "I64", false, () -> null));
        var e = assertThrows(
                PretrainedMismatchException.class,
                () -> PretrainedImport.match(
                        SPEC, new WeightsFile("ints.safetensors", WeightsFile.Format.SAFETENSORS, "", m)));
        assertEquals("I64 [64]", e.misShaped().get(0).found());
    }

    @Test
    void prefixIsFoundByVoteAmongNestedNames() {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        Fixtures.torchvisionShapes(SPEC).forEach((k, v) -> shapes.put("backbone.model." + k, v));
        shapes.put("backbone.extra.weight", new long[] {3});
        PretrainedImport.Match m = PretrainedImport.match(SPEC, Fixtures.shapesOnly("nested", shapes));
        assertEquals("backbone.model.", m.prefix());
        assertEquals(100, m.sourceByTarget().size());
        assertEquals(
                "backbone.model.layer4.1.bn2.running_var", m.sourceByTarget().get("layer4.1.bn2.running_var"));
        assertEquals(List.of("backbone.model.fc.weight", "backbone.model.fc.bias"), m.skipped());
        assertEquals(List.of("backbone.extra.weight"), m.ignored());
    }

    @Test
    void truncatedCorruptAndPickledFilesFailNamingTheFile() throws Exception {
        byte[] whole = SafeTensors.toBytes(Fixtures.safeTensors(SPEC, Fixtures.pretrained(SPEC, 5), ""), Map.of());
        Path cut = dir.resolve("cut.safetensors");
        Files.write(cut, Arrays.copyOf(whole, whole.length / 2));
        var e = assertThrows(IllegalArgumentException.class, () -> PretrainedImport.initialCheckpoint(SPEC, 1, cut));
        assertTrue(e.getMessage().startsWith(cut.toString()) && e.getMessage().contains("truncated"), e.getMessage());

        Path junk = dir.resolve("junk.bin");
        Files.write(junk, "this is not a weights file at all".getBytes());
        e = assertThrows(IllegalArgumentException.class, () -> PretrainedImport.initialCheckpoint(SPEC, 1, junk));
        assertTrue(
                e.getMessage().startsWith(junk.toString()) && e.getMessage().contains("neither a safetensors file nor"),
                e.getMessage());

        Path pth = dir.resolve("resnet18.pth");
        Files.write(pth, new byte[] {'P', 'K', 3, 4, 0, 0, 0, 0});
        e = assertThrows(IllegalArgumentException.class, () -> PretrainedImport.initialCheckpoint(SPEC, 1, pth));
        assertTrue(
                e.getMessage().startsWith(pth.toString()) && e.getMessage().contains("safetensors.torch.save_file"),
                e.getMessage());

        Path none = dir.resolve("absent.safetensors");
        e = assertThrows(IllegalArgumentException.class, () -> PretrainedImport.initialCheckpoint(SPEC, 1, none));
        assertTrue(e.getMessage().contains(none.toString()) && e.getMessage().contains("no such file"), e.getMessage());
    }

    @Test
    void nonFiniteValuesAreRefused() throws Exception {
        Map<String, float[]> values = Fixtures.pretrained(SPEC, 5);
        values.get("layer2.0.bn1.weight")[3] = Float.NaN;
        Path file = dir.resolve("nan.safetensors");
        SafeTensors.write(file, Fixtures.safeTensors(SPEC, values, ""), Map.of());
        var e = assertThrows(IllegalArgumentException.class, () -> PretrainedImport.initialCheckpoint(SPEC, 1, file));
        assertTrue(
                e.getMessage().startsWith(file.toString()) && e.getMessage().contains("layer2.0.bn1.weight"),
                e.getMessage());
    }

    static List<Checkpoint.Tensor> moved(List<Checkpoint.Tensor> ts, Map<String, float[]> values) {
        List<Checkpoint.Tensor> r = new ArrayList<>();
        for (Checkpoint.Tensor t : ts) {
            float[] v = values.get(t.name());
            if (v == null || v.length != t.data().length) {
                v = t.data().clone();
                for (int i = 0; i < v.length; i++) v[i] += 0.25f;
            }
            r.add(new Checkpoint.Tensor(t.name(), t.dims(), v));
        }
        return r;
    }

    static List<String> names(List<Checkpoint.Tensor> ts) {
        return ts.stream().map(Checkpoint.Tensor::name).toList();
    }
}
