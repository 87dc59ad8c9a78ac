package org.sefonnx.generator.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sefonnx.contract.FileFormatException;
import org.sefonnx.contract.OnnxModelScan;
import org.sefonnx.generator.artifacts.InferenceGraph;
import org.sefonnx.generator.golden.GoldenTensors;
import org.sefonnx.generator.quantize.Int8Arithmetic.ActivationParams;

/**
 * The golden ResNet-18 (BatchNorm with non-trivial statistics) through folding, planning and the QDQ rewrite: the
 * structure ORT needs to fuse it (checked against ORT itself in runtime-infer's Int8ServingTest).
 */
class QdqRewriteTest {
    private static ModelProto fp32() {
        return InferenceGraph.buildExplain(GoldenTensors.SPEC, GoldenTensors.tensors());
    }

    private static Map<String, ActivationParams> fixedParams(QdqPlan plan) {
        Map<String, ActivationParams> p = new LinkedHashMap<>();
        for (String t : plan.calibratedTensors()) {
            QdqPlan.Unit writer = plan.unitWriting(t);
            p.put(t, Int8Arithmetic.activation(writer != null && writer.absorbedRelu() != null ? 0 : -4, 4));
        }
        return p;
    }

    @Test
    void everyConvBatchNormPairIsFoldedPerOutputChannel() {
        ModelProto fp32 = fp32();
        BatchNormFolding.Result folded = BatchNormFolding.fold(fp32);
        assertEquals(20, folded.foldedConvolutions().size());
        assertTrue(folded.model().getGraph().getNodeList().stream()
                .noneMatch(n -> n.getOpType().equals("BatchNormalization")));
        Map<String, TensorProto> init = new HashMap<>();
        for (TensorProto t : folded.model().getGraph().getInitializerList()) init.put(t.getName(), t);
        NodeProto conv = folded.model().getGraph().getNodeList().stream()
                .filter(n -> n.getOpType().equals("Conv") && n.getOutput(0).equals("layer2.0.bn2.out"))
                .findFirst()
                .orElseThrow();
        float[] w = GoldenTensors.tensors().get("layer2.0.conv2.weight"), folded0 = floats(init.get(conv.getInput(1)));
        float[] gamma = GoldenTensors.tensors().get("layer2.0.bn2.weight"),
                var = GoldenTensors.tensors().get("layer2.0.bn2.running_var");
        float[] beta = GoldenTensors.tensors().get("layer2.0.bn2.bias"),
                mean = GoldenTensors.tensors().get("layer2.0.bn2.running_mean");
        int per = w.length / 128, c = 77;
        double s = gamma[c] / Math.sqrt(var[c] + 1e-5);
        assertEquals(w[c * per + 5] * s, folded0[c * per + 5], 1e-6);
        assertEquals(beta[c] - mean[c] * s, floats(init.get(conv.getInput(2)))[c], 1e-6);
        assertFalse(init.containsKey("layer2.0.bn2.running_mean"), "the folded BatchNorm's tensors are gone");
    }

    @Test
    void theGoldenResNet18RunsItsConvolutionsAddsAndMaxPoolInInt8() {
        QdqPlan plan = QdqPlan.of(BatchNormFolding.fold(fp32()).model(), Set.of());
        Map<QdqPlan.Kind, Integer> kinds = new HashMap<>();
        int absorbed = 0;
        for (QdqPlan.Unit u : plan.units()) {
            kinds.merge(u.kind(), 1, Integer::sum);
            if (u.absorbedRelu() != null) absorbed++;
        }
        assertEquals(Map.of(QdqPlan.Kind.CONV, 20, QdqPlan.Kind.ADD, 8, QdqPlan.Kind.MAX_POOL, 1), kinds);
        assertEquals(17, absorbed, "the stem's ReLU, each block's first and each block's last");
        // the image, the stem, 3 per block, 3 downsamples; the max-pool's output shares the stem's grid
        assertEquals(29, plan.calibratedTensors().size());
        assertEquals("relu", plan.inheritsFrom("maxpool"));
        assertEquals(List.of("fc", "group_fc.0", "group_fc.1"), plan.floatWeightedLayers());
        assertEquals(20, plan.integerConvolutions());
    }

    @Test
    void floatLayersStayFloatAndAnUnknownNameIsRefusedListingTheLayers() {
        ModelProto folded = BatchNormFolding.fold(fp32()).model();
        QdqPlan plan = QdqPlan.of(folded, Set.of("conv1"));
        assertEquals(19, plan.integerConvolutions());
        assertFalse(plan.calibratedTensors().contains("images"), "only the float stem reads the image");
        assertTrue(plan.calibratedTensors().contains("maxpool"), "the float max-pool's output is quantized by range");
        assertEquals("conv1", plan.floatWeightedLayers().get(0));
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> QdqPlan.of(folded, Set.of("layer5.0.conv1")));
        assertTrue(
                e.getMessage().contains("[conv1, layer1.0.conv1, layer1.0.conv2, layer1.0.residual"), e.getMessage());
    }

    @Test
    void theQdqModelHasTheShapeOrtFuses() {
        QdqPlan plan = QdqPlan.of(BatchNormFolding.fold(fp32()).model(), Set.of());
        ModelProto q = QdqRewrite.rewrite(plan, fixedParams(plan), Map.of("sef.precision", "int8"), false);
        Map<String, List<NodeProto>> readers = new HashMap<>();
        Map<String, NodeProto> writer = new HashMap<>();
        for (NodeProto n : q.getGraph().getNodeList()) {
            for (String in : n.getInputList())
                readers.computeIfAbsent(in, k -> new java.util.ArrayList<>()).add(n);
            for (String out : n.getOutputList()) writer.put(out, n);
        }
        Map<String, TensorProto> init = new HashMap<>();
        for (TensorProto t : q.getGraph().getInitializerList()) init.put(t.getName(), t);
        int convs = 0;
        for (NodeProto n : q.getGraph().getNodeList()) {
            assertFalse(n.getOpType().equals("Relu"), "every ReLU is absorbed");
            if (n.getOpType().equals("DequantizeLinear"))
                assertEquals(1, readers.get(n.getOutput(0)).size(), "one reader per DequantizeLinear: " + n.getName());
            if (n.getOpType().equals("MaxPool")) assertEquals(1, n.getOutputCount(), "no Indices output");
            if (!n.getOpType().equals("Conv") && !n.getOpType().equals("Add")) continue;
            convs += n.getOpType().equals("Conv") ? 1 : 0;
            for (NodeProto r : readers.get(n.getOutput(0))) assertEquals("QuantizeLinear", r.getOpType(), n.getName());
            for (String in : n.getInputList())
                assertEquals("DequantizeLinear", writer.get(in).getOpType(), n.getName());
            if (!n.getOpType().equals("Conv")) continue;
            NodeProto weight = writer.get(n.getInput(1)), bias = writer.get(n.getInput(2));
            assertEquals(3, init.get(weight.getInput(0)).getDataType(), "int8 weights");
            assertEquals(6, init.get(bias.getInput(0)).getDataType(), "int32 bias");
            long channels = init.get(weight.getInput(0)).getDims(0);
            assertEquals(channels, init.get(weight.getInput(1)).getDims(0), "a scale per output channel");
            assertEquals(
                    List.of(AttributeProto.newBuilder()
                            .setName("axis")
                            .setType(AttributeProto.AttributeType.INT)
                            .setI(0)
                            .build()),
                    weight.getAttributeList());
        }
        assertEquals(20, convs);
        assertEquals(
                fp32().getGraph().getOutputList().stream()
                        .map(ValueInfoProto::getName)
                        .toList(),
                q.getGraph().getOutputList().stream()
                        .map(ValueInfoProto::getName)
                        .toList());
        assertTrue(q.getMetadataPropsList().stream().anyMatch(m -> m.getKey().equals("sef.precision")));

        ModelProto inspected = QdqRewrite.rewrite(plan, fixedParams(plan), Map.of(), true);
        assertEquals(
                q.getGraph().getOutputCount() + plan.quantizedTensors().size(),
                inspected.getGraph().getOutputCount());
    }

    @Test
    void anAbsorbedReluNeedsZeroPointZero() {
        QdqPlan plan = QdqPlan.of(BatchNormFolding.fold(fp32()).model(), Set.of());
        Map<String, ActivationParams> p = fixedParams(plan);
        p.put("layer1.0.relu1", Int8Arithmetic.activation(-1, 4));
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> QdqRewrite.rewrite(plan, p, Map.of(), false));
        assertTrue(
                e.getMessage().contains("'layer1.0.relu1' is a ReLU's output, absorbed into layer1.0.conv1"),
                e.getMessage());
    }

    @Test
    void theWireScanReadsWhatProtobufReads(@TempDir Path dir) throws IOException {
        QdqPlan plan = QdqPlan.of(BatchNormFolding.fold(fp32()).model(), Set.of());
        ModelProto q = QdqRewrite.rewrite(plan, fixedParams(plan), Map.of("sef.precision", "int8", "k", "v"), false);
        Path file = dir.resolve("q.onnx");
        Files.write(file, q.toByteArray());
        Map<String, Integer> expected = new java.util.TreeMap<>();
        for (NodeProto n : q.getGraph().getNodeList())
            expected.merge(OnnxModelScan.qualified(n.getDomain(), n.getOpType()), 1, Integer::sum);
        OnnxModelScan scan = OnnxModelScan.read(file);
        assertEquals(expected, scan.operators());
        assertEquals(Map.of("sef.precision", "int8", "k", "v"), scan.metadata());
        byte[] bytes = q.toByteArray();
        Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        assertThrows(FileFormatException.class, () -> OnnxModelScan.read(file));
    }

    private static float[] floats(TensorProto t) {
        return org.sefonnx.generator.weights.OnnxWeights.floats(t, Path.of("test"));
    }
}
