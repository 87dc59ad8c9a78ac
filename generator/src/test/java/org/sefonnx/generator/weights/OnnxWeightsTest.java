package org.sefonnx.generator.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sefonnx.generator.artifacts.Checkpoint;
import org.sefonnx.generator.model.CheckpointTensor;
import org.sefonnx.generator.model.ModelSpec;

class OnnxWeightsTest {
    static final ModelSpec SPEC = Fixtures.R18;

    @TempDir
    Path dir;

    /**
     * An ONNX model as exporters write them, every storage form at once: raw_data (most tensors), float_data (BN
     * weights), FLOAT16 in int32_data (BN biases, values exact in half precision), DOUBLE double_data (running
     * means), a Constant node (bn1.running_var), external data beside the model (conv1.weight), and an int64 shape
     * initializer that is not a weight.
     */
    Path exportedModel(Map<String, float[]> values, String prefix) throws Exception {
        GraphProto.Builder g = GraphProto.newBuilder().setName("torch_jit");
        for (Map.Entry<String, float[]> e : values.entrySet()) {
            String name = e.getKey();
            float[] v = e.getValue();
            TensorProto.Builder t = TensorProto.newBuilder().setName(prefix + name);
            for (long d : Fixtures.shapeOf(SPEC, name)) t.addDims(d);
            if (name.equals("conv1.weight")) {
                Path bin = dir.resolve("weights.bin");
                byte[] raw = rawFloats(v).toByteArray();
                byte[] withHeader = new byte[16 + raw.length];
                System.arraycopy(raw, 0, withHeader, 16, raw.length);
                Files.write(bin, withHeader);
                t.setDataType(TensorProto.DataType.FLOAT_VALUE)
                        .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                        .addExternalData(kv("location", "weights.bin"))
                        .addExternalData(kv("offset", "16"))
                        .addExternalData(kv("length", Integer.toString(raw.length)));
            } else if (name.equals("bn1.running_var")) {
                TensorProto.Builder c = t.setDataType(TensorProto.DataType.FLOAT_VALUE)
                        .setRawData(rawFloats(v))
                        .clearName();
                g.addNode(NodeProto.newBuilder()
                        .setOpType("Constant")
                        .addOutput(prefix + name)
                        .addAttribute(AttributeProto.newBuilder()
                                .setName("value")
                                .setType(AttributeProto.AttributeType.TENSOR)
                                .setT(c)));
                continue;
            } else if (name.endsWith(".running_mean")) {
                t.setDataType(TensorProto.DataType.DOUBLE_VALUE);
                for (float f : v) t.addDoubleData(f);
            } else if (name.endsWith(".bias") && name.contains("bn")) {
                t.setDataType(TensorProto.DataType.FLOAT16_VALUE);
                for (float f : v) t.addInt32Data(PretrainedImportTest.floatToHalf(f) & 0xffff);
            } else if (name.endsWith(".weight") && name.contains("bn")) {
                t.setDataType(TensorProto.DataType.FLOAT_VALUE);
                for (float f : v) t.addFloatData(f);
            } else {
                t.setDataType(TensorProto.DataType.FLOAT_VALUE).setRawData(rawFloats(v));
            }
            g.addInitializer(t);
        }
        ByteBuffer shape = ByteBuffer.allocate(16)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putLong(1)
                .putLong(-1);
        g.addInitializer(TensorProto.newBuilder()
                .setName("onnx::Reshape_0")
                .setDataType(TensorProto.DataType.INT64_VALUE)
                .addDims(2)
                .setRawData(com.google.protobuf.ByteString.copyFrom(shape.array())));
        ModelProto m = ModelProto.newBuilder()
                .setIrVersion(8)
                .setProducerName("pytorch")
                .setGraph(g)
                .build();
        Path file = dir.resolve("resnet18.onnx");
        Files.write(file, m.toByteArray());
        return file;
    }

    private static StringStringEntryProto kv(String k, String v) {
        return StringStringEntryProto.newBuilder().setKey(k).setValue(v).build();
    }

    @Test
    void initializersConstantsAndExternalDataImportUnderTorchvisionNames() throws Exception {
        Map<String, float[]> values = Fixtures.pretrained(SPEC, 8);
        Path model = exportedModel(values, "");
        Map<String, WeightsFile.Entry> read = OnnxWeights.read(model);
        assertEquals("INT64", read.get("onnx::Reshape_0").dtype());
        assertFalse(read.get("onnx::Reshape_0").floating());
        assertEquals("FLOAT16", read.get("layer1.0.bn1.bias").dtype());
        assertArrayEquals(
                values.get("conv1.weight"), read.get("conv1.weight").values().get(), "external data");
        assertArrayEquals(
                values.get("bn1.running_var"),
                read.get("bn1.running_var").values().get(),
                "Constant node");

        Checkpoint ck = PretrainedImport.initialCheckpoint(SPEC, 2, model);
        for (CheckpointTensor t : PretrainedImport.backboneTensors(SPEC)) {
            float[] want = values.get(t.name()), got = ck.tensor(t.name()).data();
            if (t.name().endsWith(".bias") && t.name().contains("bn")) {
                for (int i = 0; i < want.length; i++)
                    assertEquals(want[i], got[i], Math.abs(want[i]) * 1e-3 + 1e-7, t.name());
            } else {
                assertArrayEquals(want, got, t.name());
            }
        }
        assertEquals("resnet18.onnx", ck.stringProperties().get(PretrainedImport.PROP_PRETRAINED_FILE));
        assertEquals(
                WeightsFile.sha256(Files.readAllBytes(model)),
                ck.stringProperties().get(PretrainedImport.PROP_PRETRAINED_SHA256));
    }

    @Test
    void exporterPrefixIsRecognised() throws Exception {
        Map<String, float[]> values = Fixtures.pretrained(SPEC, 9);
        Checkpoint ck = PretrainedImport.initialCheckpoint(SPEC, 2, exportedModel(values, "model."));
        assertEquals("model.", ck.stringProperties().get(PretrainedImport.PROP_PRETRAINED_PREFIX));
        assertArrayEquals(
                values.get("layer4.1.conv2.weight"),
                ck.tensor("layer4.1.conv2.weight").data());
    }

    @Test
    void truncatedModelAndMissingExternalDataFailNamingTheFile() throws Exception {
        Path model = exportedModel(Fixtures.pretrained(SPEC, 8), "");
        byte[] whole = Files.readAllBytes(model);
        Path cut = dir.resolve("cut.onnx");
        Files.write(cut, Arrays.copyOf(whole, whole.length - 1000));
        var e = assertThrows(IllegalArgumentException.class, () -> PretrainedImport.initialCheckpoint(SPEC, 1, cut));
        assertTrue(e.getMessage().startsWith(cut.toString()), e.getMessage());

        Files.delete(dir.resolve("weights.bin"));
        e = assertThrows(IllegalArgumentException.class, () -> PretrainedImport.initialCheckpoint(SPEC, 1, model));
        assertTrue(
                e.getMessage().startsWith(model.toString())
                        && e.getMessage().contains("conv1.weight")
                        && e.getMessage().contains("weights.bin"),
                e.getMessage());
    }

    /** Raw bytes of a float32 array, little-endian, as an ONNX initializer's raw_data holds them. */
    private static ByteString rawFloats(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return ByteString.copyFrom(b);
    }
}
