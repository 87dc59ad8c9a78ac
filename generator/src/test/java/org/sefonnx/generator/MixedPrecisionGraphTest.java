package org.sefonnx.generator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.sefonnx.contract.Precision;
import org.sefonnx.contract.StepSignature;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.artifacts.Checkpoint;
import org.sefonnx.generator.artifacts.TrainingArtifacts;
import org.sefonnx.generator.artifacts.TrainingTarget;
import org.sefonnx.generator.model.CheckpointTensor;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.generator.onnx.DType;
import org.sefonnx.generator.onnx.Graph;
import org.sefonnx.generator.onnx.Node;
import org.sefonnx.generator.onnx.Value;

/**
 * The fp16 mixed-precision training graph, audited value by value on the CPU (which cannot run it: ORT has no CPU
 * fp16 ConvGrad): which ops compute in fp16, that the SEF loss and all state stay float32, that every op has a CUDA
 * kernel for the type it gets, and the loss-scaling inputs and outputs.
 */
class MixedPrecisionGraphTest {
    /**
     * CUDA kernels of ORT 1.24's training build, by op and input-0 type, as registered in microsoft/onnxruntime:
     * onnxruntime/core/providers/cuda/cuda_execution_provider.cc (Conv-11, MaxPool-12, GlobalAveragePool-1, Gemm-13,
     * ReduceSum-13, Add/Sub/Mul/Div-13+, Reciprocal/Sqrt/Exp/Neg-13, Relu-13+, Cast-13+ and Equal-13 typed for float and
     * MLFloat16; Sum, Max, Expand, Reshape, Shape, Flatten, Gather, Transpose, Unsqueeze, ConstantOfShape and
     * ScatterElements registered for all fixed-size types, ScatterElements with reduction "add"), nn/batch_norm.cc
     * (BatchNormalization-15 with T1 = T2 = T, float/double/MLFloat16), and
     * orttraining/orttraining/training_ops/cuda/cuda_training_kernels.cc (ConvGrad float/double/MLFloat16;
     * BatchNormalizationGrad (T,T1,T2) = float³, double³, MLFloat16³, (MLFloat16, MLFloat16, float),
     * (MLFloat16, float, float); ReluGrad float/double/MLFloat16; SoftmaxCrossEntropyLossGrad float/MLFloat16/BFloat16;
     * LogSoftmaxGrad_13 untyped; InPlaceAccumulatorV2 (float, float) and (float, MLFloat16); SoftmaxCrossEntropyLoss
     * float/MLFloat16). Concat is registered for all fixed-size types in core/providers/cuda/tensor/concat.cc (the grouping
     * loss's Gram blocks, n:Concat:grouping.grams). Pad and Where are registered for float and MLFloat16 in cuda_execution_provider.cc, Slice by its
     * index type for any data type. No bf16 is used.
     */
    static final Map<String, Set<DType>> CUDA_KERNELS = Map.ofEntries(
            Map.entry("Conv", Set.of(DType.FLOAT, DType.FLOAT16)),
            Map.entry("ConvGrad", Set.of(DType.FLOAT, DType.FLOAT16)),
            Map.entry("BatchNormalization", Set.of(DType.FLOAT, DType.FLOAT16)),
            Map.entry("BatchNormalizationGrad", Set.of(DType.FLOAT, DType.FLOAT16)),
            Map.entry("Relu", Set.of(DType.FLOAT, DType.FLOAT16)),
            Map.entry("ReluGrad", Set.of(DType.FLOAT, DType.FLOAT16)),
            Map.entry("MaxPool", Set.of(DType.FLOAT, DType.FLOAT16)),
            Map.entry("ScatterElements", Set.of(DType.FLOAT, DType.FLOAT16)),
            Map.entry("GlobalAveragePool", Set.of(DType.FLOAT, DType.FLOAT16)),
            Map.entry("Gemm", Set.of(DType.FLOAT, DType.FLOAT16)),
            Map.entry("ReduceSum", Set.of(DType.FLOAT, DType.FLOAT16, DType.INT64)),
            Map.entry("Add", Set.of(DType.FLOAT, DType.FLOAT16)),
            Map.entry("Sub", Set.of(DType.FLOAT, DType.FLOAT16)),
            Map.entry("Mul", Set.of(DType.FLOAT, DType.FLOAT16)),
            Map.entry("Div", Set.of(DType.FLOAT, DType.FLOAT16)),
            Map.entry("Sum", Set.of(DType.FLOAT, DType.FLOAT16)),
            Map.entry("Max", Set.of(DType.FLOAT, DType.FLOAT16)),
            Map.entry("Reciprocal", Set.of(DType.FLOAT, DType.FLOAT16)),
            Map.entry("Sqrt", Set.of(DType.FLOAT, DType.FLOAT16)),
            Map.entry("Exp", Set.of(DType.FLOAT, DType.FLOAT16)),
            Map.entry("Neg", Set.of(DType.FLOAT, DType.FLOAT16)),
            Map.entry("Cast", Set.of(DType.FLOAT, DType.FLOAT16, DType.INT64)),
            Map.entry("Equal", Set.of(DType.FLOAT, DType.FLOAT16)),
            Map.entry("Where", Set.of(DType.BOOL)),
            Map.entry("Expand", Set.of(DType.FLOAT, DType.FLOAT16)),
            Map.entry("Concat", Set.of(DType.FLOAT, DType.FLOAT16)),
            Map.entry("Pad", Set.of(DType.FLOAT, DType.FLOAT16)),
            Map.entry("Slice", Set.of(DType.FLOAT, DType.FLOAT16)),
            Map.entry("Reshape", Set.of(DType.FLOAT, DType.FLOAT16, DType.INT64)),
            Map.entry("Flatten", Set.of(DType.FLOAT, DType.FLOAT16)),
            Map.entry("Transpose", Set.of(DType.FLOAT, DType.FLOAT16)),
            Map.entry("Unsqueeze", Set.of(DType.FLOAT, DType.FLOAT16)),
            Map.entry("Identity", Set.of(DType.FLOAT, DType.BOOL)),
            // shape arithmetic: ORT places these on the CPU by design (their outputs are shapes), as in fp32
            Map.entry("Shape", Set.of(DType.FLOAT, DType.FLOAT16)),
            Map.entry("Gather", Set.of(DType.INT64)),
            Map.entry("ReduceProd", Set.of(DType.INT64)),
            Map.entry("ConstantOfShape", Set.of(DType.INT64)),
            // the SEF loss, float32 only
            Map.entry("SoftmaxCrossEntropyLoss", Set.of(DType.FLOAT)),
            Map.entry("SoftmaxCrossEntropyLossGrad", Set.of(DType.FLOAT)),
            Map.entry("LogSoftmax", Set.of(DType.FLOAT)),
            Map.entry("LogSoftmaxGrad_13", Set.of(DType.FLOAT)),
            Map.entry("ReduceL2", Set.of(DType.FLOAT)),
            Map.entry("ReduceMean", Set.of(DType.FLOAT)),
            Map.entry("MatMul", Set.of(DType.FLOAT)),
            Map.entry("InPlaceAccumulatorV2", Set.of(DType.FLOAT)));

    /** Backbone and head compute: every node of these op types runs in fp16 under mixed precision. */
    static final List<String> HALF_COMPUTE = List.of(
            "Conv",
            "ConvGrad",
            "BatchNormalization",
            "BatchNormalizationGrad",
            "Relu",
            "ReluGrad",
            "MaxPool",
            "ScatterElements",
            "GlobalAveragePool",
            "Gemm");
    /** The SEF loss terms and their backward: float32 in both precisions. */
    static final List<String> LOSS_OPS = List.of(
            "SoftmaxCrossEntropyLoss",
            "SoftmaxCrossEntropyLossGrad",
            "LogSoftmax",
            "LogSoftmaxGrad_13",
            "Exp",
            "ReduceL2",
            "MatMul");

    static ModelSpec fp16(String id) {
        ModelSpec s = id.equals("r50-64") ? ModelSpec.of("r50-64", 50, 7, 3, 64) : ShippedSpecs.byId(id);
        return s.withPrecision(Precision.FP16);
    }

    static Graph training(ModelSpec spec) {
        return TrainingArtifacts.trainingGraph(spec, TrainingArtifacts.Arithmetic.of(spec), TrainingTarget.CUDA);
    }

    static Map<String, Long> countByOp(Graph g, List<String> ops) {
        return g.nodes().stream()
                .filter(n -> ops.contains(n.opType))
                .collect(Collectors.groupingBy(n -> n.opType, Collectors.counting()));
    }

    @Test
    void precisionRoundTripsThroughTheSpecTextAndFloat32TextHasNoPrecisionKey() {
        ModelSpec demo = ShippedSpecs.demo();
        assertFalse(demo.toProperties().contains("precision"), demo.toProperties());
        ModelSpec half = demo.withPrecision(Precision.FP16);
        assertTrue(half.toProperties().endsWith("precision=fp16\n"), half.toProperties());
        assertEquals(half, ModelSpec.parse(half.toProperties(), "test"));
        assertEquals(demo, ModelSpec.parse(demo.toProperties() + "precision=fp32\n", "test"));
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class,
                () -> ModelSpec.parse(demo.toProperties() + "precision=bf16\n", "spec.properties"));
        assertEquals("spec.properties: precision must be fp32 or fp16, got 'bf16'", e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"demo-r18", "r50-64"})
    void backboneAndHeadsComputeInHalfPrecision(String id) {
        ModelSpec spec = fp16(id);
        Graph half = training(spec);
        Graph full = training(spec.withPrecision(Precision.FP32));
        for (Node n : half.nodes()) {
            if (HALF_COMPUTE.contains(n.opType))
                assertEquals(DType.FLOAT16, n.input(0).dtype(), n.name);
        }
        // the same network: as many convolutions, normalisations, ... in fp16 as the float32 graph has
        Map<String, Long> counts = countByOp(half, HALF_COMPUTE);
        assertEquals(countByOp(full, HALF_COMPUTE), counts);
        int convs = spec.depth() == 50 ? 53 : 20;
        assertEquals(convs, counts.get("Conv"));
        assertEquals(convs, counts.get("ConvGrad"));
        assertEquals(convs, counts.get("BatchNormalizationGrad"));
        assertEquals(1 + spec.groups(), counts.get("Gemm") / 3, "global and group heads: forward, dX and dW Gemms");
    }

    @ParameterizedTest
    @ValueSource(strings = {"demo-r18", "r50-64"})
    void sefLossTermsAndBatchStatisticsStayInFloat32(String id) {
        Graph g = training(fp16(id));
        long lossNodes = 0;
        for (Node n : g.nodes()) {
            if (LOSS_OPS.contains(n.opType) || n.opType.equals("ReduceMean")) {
                assertEquals(DType.FLOAT, n.input(0).dtype(), n.name);
                lossNodes++;
            }
        }
        // CE + its grad, log-softmax of the global and each group head, ReduceL2 and the Gram MatMuls at least
        assertTrue(lossNodes >= 2 + 2 * (1 + fp16(id).groups()) + 1, "loss nodes: " + lossNodes);
        for (String term : TensorNames.LOSS_TERMS)
            assertEquals(DType.FLOAT, g.value(term).dtype(), term);
        assertEquals(DType.FLOAT, g.value("grouping.n").dtype());
    }

    @ParameterizedTest
    @ValueSource(strings = {"demo-r18", "r50-64"})
    void masterWeightsMomentumAndStatisticsStayFloat32WithTheSameCheckpoint(String id) {
        ModelSpec spec = fp16(id);
        Graph g = training(spec);
        List<CheckpointTensor> tensors = TrainingArtifacts.checkpointTensors(spec);
        for (CheckpointTensor t : tensors) {
            assertEquals(DType.FLOAT, g.value(t.name()).dtype(), t.name());
            if (t.trainable())
                assertEquals(
                        DType.FLOAT,
                        g.value(t.name() + TrainingArtifacts.GRAD_BUFFER_SUFFIX).dtype(),
                        t.name());
        }
        for (Node n : g.nodes()) {
            if (n.opType.equals("InPlaceAccumulatorV2")) {
                assertEquals(DType.FLOAT, n.input(0).dtype(), n.name);
                assertEquals(DType.FLOAT, n.input(1).dtype(), n.name);
            }
        }
        Checkpoint half = ArtifactWriter.initialCheckpoint(spec, 42L);
        Checkpoint full = ArtifactWriter.initialCheckpoint(spec.withPrecision(Precision.FP32), 42L);
        assertEquals(full.trainable().size(), half.trainable().size());
        assertEquals(full.frozen().size(), half.frozen().size());
        for (int i = 0; i < full.trainable().size(); i++) {
            assertEquals(full.trainable().get(i).name(), half.trainable().get(i).name());
            assertArrayEquals(
                    full.trainable().get(i).data(), half.trainable().get(i).data(), 0f);
        }
        assertEquals("fp16", half.stringProperties().get(ArtifactWriter.PROP_PRECISION));
        assertFalse(full.stringProperties().containsKey(ArtifactWriter.PROP_PRECISION));
    }

    @ParameterizedTest
    @ValueSource(strings = {"demo-r18", "r50-64"})
    void everyOpHasACudaKernelForItsTypeAndNoneIsCpuOnly(String id) {
        Graph g = training(fp16(id));
        for (Node n : g.nodes()) {
            Set<DType> types = CUDA_KERNELS.get(n.opType);
            assertTrue(types != null, "no CUDA kernel recorded for " + n.opType + " (" + n.name + ")");
            assertTrue(
                    types.contains(n.input(0).dtype()),
                    n.opType + " gets " + n.input(0).dtype() + " (" + n.name + ")");
            assertFalse(Set.of("MaxPoolGrad", "AveragePoolGrad", "IsAllFinite").contains(n.opType), n.name);
        }
    }

    @Test
    void lossScaleIsFedAndTheFiniteFlagGatesEveryMomentumWriteBack() {
        ModelSpec spec = fp16("demo-r18");
        Graph g = training(spec);
        Value scale = g.value(TensorNames.LOSS_SCALE);
        assertEquals(DType.FLOAT, scale.dtype());
        assertEquals(0, scale.requireShape().rank(), "a scalar input");
        List<String> user = g.inputs().stream()
                .map(Value::name)
                .filter(n -> TrainingArtifacts.checkpointTensors(spec).stream()
                        .noneMatch(t -> t.name().equals(n)))
                .filter(n -> !n.endsWith(TrainingArtifacts.GRAD_BUFFER_SUFFIX)
                        && !n.equals(TrainingArtifacts.LAZY_RESET_GRAD))
                .toList();
        assertEquals(
                List.of(TensorNames.IMAGES, TensorNames.LABELS, TensorNames.LOSS_SCALE),
                user,
                "TrainStep's inputs in order");
        List<String> visible = g.outputs().stream()
                .map(Value::name)
                .filter(n -> !n.endsWith(TrainingArtifacts.GRAD_OUT_SUFFIX))
                .toList();
        assertEquals(StepSignature.trainStep(true).outputs(), visible);
        assertEquals(TrainingArtifacts.trainStep(spec).outputs(), visible);
        assertEquals(DType.BOOL, g.value(TensorNames.GRADIENTS_FINITE).dtype());

        Map<String, Node> producers = new HashMap<>();
        for (Node n : g.nodes()) for (Value o : n.outputs) if (o != null) producers.put(o.name(), n);
        Value finite = g.value(TensorNames.GRADIENTS_FINITE);
        int gated = 0;
        for (Node n : g.nodes()) {
            if (!n.opType.equals("InPlaceAccumulatorV2")
                    || !n.input(0).name().endsWith(CheckpointTensor.MOMENTUM_SUFFIX)) continue;
            Node where = producers.get(n.input(1).name());
            assertEquals("Where", where.opType, n.name);
            assertEquals(finite.name(), where.input(0).name());
            assertEquals(n.input(0).name(), where.input(2).name(), "a skipped step writes the old momentum back");
            gated++;
        }
        assertEquals(
                TrainingArtifacts.checkpointTensors(spec).stream()
                        .filter(CheckpointTensor::trainable)
                        .count(),
                gated);
    }

    @Test
    void halfGradientsReachTheMasterWeightsThroughCastAndAreUnscaledInFloat32() {
        ModelSpec spec = fp16("demo-r18");
        Graph g = training(spec);
        Map<String, Node> producers = new HashMap<>();
        for (Node n : g.nodes()) for (Value o : n.outputs) if (o != null) producers.put(o.name(), n);
        for (CheckpointTensor t : TrainingArtifacts.checkpointTensors(spec)) {
            if (!t.trainable()) continue;
            Node unscale = producers.get(t.name() + ".unscaled_grad");
            assertEquals("Mul", unscale.opType);
            assertEquals(DType.FLOAT, unscale.input(0).dtype(), t.name());
            assertEquals(g.value("loss_scale.inverse").name(), unscale.input(1).name());
            // every master weight is read through one Cast to fp16, whose rule casts the fp16 gradient back
            assertEquals("Cast", producers.get(unscale.input(0).name()).opType, t.name());
        }
    }
}
