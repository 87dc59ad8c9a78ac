package org.sefonnx.infer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.sefonnx.contract.ExportLayout;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.generator.artifacts.InferenceGraph;
import org.sefonnx.generator.model.CheckpointTensor;
import org.sefonnx.generator.model.SefModel;

/** The generator's inference graph holds the backbone and the global head only (validation checks ORT's export too). */
class InferenceGraphTest {
    /** torchvision resnet18 without its fc: 11,689,512 parameters - (512 * 1000 + 1000). */
    static final long RESNET18_BACKBONE_PARAMETERS = 11_176_512L;

    @Test
    void prunedGraphHasNoTrainingOnlyNodeAndResNet18PlusGlobalHeadParameters() {
        ModelProto model = InferenceGraph.build(GoldenModel.SPEC, GoldenModel.tensors());
        Set<String> lossOps = Set.of(
                "SoftmaxCrossEntropyLoss",
                "InPlaceAccumulatorV2",
                "SGDOptimizerV2",
                "AdamWOptimizer",
                "ReduceMean",
                "ReduceSum",
                "Slice",
                "Sum",
                "MatMul",
                "Mul",
                "Div");
        Map<String, Integer> ops = new HashMap<>();
        for (NodeProto n : model.getGraph().getNodeList()) {
            ops.merge(n.getOpType(), 1, Integer::sum);
            assertEquals("", n.getDomain(), n.getName());
            assertFalse(
                    lossOps.contains(n.getOpType()) || n.getOpType().endsWith("Grad"),
                    "training-only node " + n.getName());
            for (String in : n.getInputList())
                assertFalse(in.startsWith("group"), n.getName() + " reads group tensor " + in);
        }
        assertEquals(20, ops.get("Conv")); // 1 + 16 block convs + 3 downsamples
        assertEquals(20, ops.get("BatchNormalization"));
        assertEquals(1, ops.get("Gemm"));
        assertEquals(
                List.of(TensorNames.IMAGES),
                model.getGraph().getInputList().stream().map(v -> v.getName()).toList());
        assertEquals(
                List.of(TensorNames.LOGITS, TensorNames.PROBABILITIES),
                model.getGraph().getOutputList().stream().map(v -> v.getName()).toList());

        Set<String> trainable = new HashSet<>();
        for (CheckpointTensor t : SefModel.modelTensors(GoldenModel.SPEC)) if (t.trainable()) trainable.add(t.name());
        long parameters = 0;
        for (TensorProto t : model.getGraph().getInitializerList()) {
            assertFalse(t.getName().startsWith("group_fc") || t.getName().endsWith(".momentum"), t.getName());
            if (!trainable.contains(t.getName())) continue;
            long count = 1;
            for (long d : t.getDimsList()) count *= d;
            parameters += count;
        }
        int c = GoldenModel.SPEC.featureChannels(), k = GoldenModel.SPEC.numClasses();
        assertEquals(RESNET18_BACKBONE_PARAMETERS + (long) c * k + k, parameters);
        assertTrue(model.getGraph().getInitializerList().stream()
                .anyMatch(t -> t.getName().equals("layer4.1.bn2.running_var")));
    }

    /**
     * The generator's graphs have exactly the input and outputs the export layout promises SefClassifier: the explain
     * graph those of model.onnx, the plain one those of an older export's model.onnx (the prediction outputs).
     */
    @Test
    void exportContractNamesAreTheGeneratedGraphsNames() {
        ModelProto model = InferenceGraph.buildExplain(GoldenModel.SPEC, GoldenModel.tensors());
        assertEquals(
                List.of(ExportLayout.MODEL_INPUT),
                model.getGraph().getInputList().stream().map(v -> v.getName()).toList());
        assertEquals(
                ExportLayout.MODEL_OUTPUTS,
                model.getGraph().getOutputList().stream().map(v -> v.getName()).toList());
        assertEquals(
                ExportLayout.PREDICTION_OUTPUTS,
                InferenceGraph.build(GoldenModel.SPEC, GoldenModel.tensors()).getGraph().getOutputList().stream()
                        .map(v -> v.getName())
                        .toList());
    }

    @Test
    void missingOrMisshapenTensorIsNamed() {
        Map<String, float[]> tensors = GoldenModel.tensors();
        tensors.put("fc.bias", new float[3]);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> InferenceGraph.build(GoldenModel.SPEC, tensors));
        assertTrue(e.getMessage().contains("fc.bias has 3 values, shape [5] needs 5"), e.getMessage());
        tensors.remove("fc.bias");
        e = assertThrows(IllegalArgumentException.class, () -> InferenceGraph.build(GoldenModel.SPEC, tensors));
        assertTrue(e.getMessage().contains("no value for checkpoint tensor fc.bias"), e.getMessage());
    }
}
