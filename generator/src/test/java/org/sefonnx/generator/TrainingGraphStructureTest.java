package org.sefonnx.generator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.sefonnx.contract.StepSignature;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.generator.artifacts.TrainingArtifacts;
import org.sefonnx.generator.artifacts.TrainingTarget;
import org.sefonnx.generator.model.CheckpointTensor;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.generator.passes.LowerSmallConvolutions;

/** The artifact contract of docs/ort-training.md, checked on the generated protos. */
class TrainingGraphStructureTest {
    static TrainingArtifacts.Models build(String id) {
        return TrainingArtifacts.build(
                id.equals("adamw")
                        ? ModelSpec.of("adamw", 18, 5, 2, 64).withOptimizer(ModelSpec.Optimizer.ADAMW, 0, 0)
                        : ShippedSpecs.byId(id));
    }

    /** Every target's training graph, CUDA's (ConvGrad) and the CPU's (small-map convolutions as Gemms). */
    static List<GraphProto> trainingGraphs(TrainingArtifacts.Models m) {
        return List.of(
                m.training(TrainingTarget.CUDA).getGraph(),
                m.training(TrainingTarget.CPU).getGraph());
    }

    @ParameterizedTest
    @ValueSource(strings = {"demo-r18", "cub-r50", "aircraft-r18"})
    void noCpuOnlyGradientKernelInTheTrainingGraph(String id) {
        for (GraphProto g : trainingGraphs(build(id))) {
            for (NodeProto n : g.getNodeList()) {
                assertFalse(
                        List.of("MaxPoolGrad", "AveragePoolGrad", "GlobalAveragePoolGrad")
                                .contains(n.getOpType()),
                        n.getName());
            }
        }
    }

    /**
     * The CPU graph keeps Conv/ConvGrad exactly for the convolutions whose output map is larger than
     * {@link LowerSmallConvolutions#MAX_MAP_CELLS} (none at 32 px; at 448 px ResNet-50's stem and first two stages) and
     * lowers the rest to Gemms (im2col, or Winograd's F(2×2, 3×3)); the CUDA graph keeps every one.
     */
    @ParameterizedTest
    @ValueSource(strings = {"demo-r18", "cub-r50"})
    void cpuGraphLowersExactlyTheSmallMapConvolutions(String id) {
        TrainingArtifacts.Models m = build(id);
        long convs = m.eval().getGraph().getNodeList().stream()
                .filter(n -> n.getOpType().equals("Conv"))
                .count();
        long cudaGrads = m.training(TrainingTarget.CUDA).getGraph().getNodeList().stream()
                .filter(n -> n.getOpType().equals("ConvGrad"))
                .count();
        long cpuConvs = m.training(TrainingTarget.CPU).getGraph().getNodeList().stream()
                .filter(n -> n.getOpType().equals("Conv"))
                .count();
        long cpuGrads = m.training(TrainingTarget.CPU).getGraph().getNodeList().stream()
                .filter(n -> n.getOpType().equals("ConvGrad"))
                .count();
        assertEquals(convs, cudaGrads);
        assertEquals(cpuConvs, cpuGrads);
        if (id.equals("demo-r18")) assertEquals(0, cpuGrads);
        else
            assertTrue(
                    cpuGrads > 0 && cpuGrads < convs,
                    id + ": " + cpuGrads + " of " + convs + " convolutions kept (448 px maps above 32×32)");
        long im2col = m.training(TrainingTarget.CPU).getGraph().getNodeList().stream()
                .filter(n -> n.getOpType().equals("Gemm") && n.getOutput(0).endsWith(".y_mat"))
                .count();
        long winograd = m.training(TrainingTarget.CPU).getGraph().getNodeList().stream()
                .filter(n -> n.getOpType().equals("MatMul") && n.getOutput(0).endsWith(".out.m"))
                .count();
        assertEquals(convs - cpuGrads, im2col + winograd);
        // Winograd takes the 3×3 stride-1 ones on lowered maps of 3×3 and up: demo (48 px) layer1 12×12 (4), layer2
        // 6×6 (3; its first conv has stride 2), layer3 3×3 (3), not layer4's 2×2; ResNet-50 at 448 px the stride-1
        // conv2 of layer3 (28×28, 5 of 6) and layer4 (14×14, 2 of 3)
        assertEquals(id.equals("demo-r18") ? 10 : 7, winograd, id + ": Winograd convolutions");
    }

    /**
     * Momentum SGD's μ·m: in the CPU graph every lowered convolution whose weight gradient is an untransposed Gemm
     * reads its momentum buffer as that Gemm's C with beta μ (and gets no Mul/Add of its own); every other parameter,
     * and every parameter of the CUDA graph, has the Mul (μ·m) and Add (+ gradient).
     */
    @ParameterizedTest
    @ValueSource(strings = {"demo-r18", "cub-r50"})
    void momentumIsAddedOncePerParameterByAGemmOrAMulAndAdd(String id) {
        TrainingArtifacts.Models m = build(id);
        float mu = (float) m.spec().momentum();
        for (GraphProto g : trainingGraphs(m)) {
            boolean cpu = g == m.training(TrainingTarget.CPU).getGraph();
            Map<String, String> producer = new HashMap<>();
            for (NodeProto n : g.getNodeList()) for (String o : n.getOutputList()) producer.put(o, n.getOpType());
            Set<String> byGemm = new HashSet<>(), byMul = new HashSet<>();
            for (NodeProto n : g.getNodeList()) {
                // (a Gemm with C and no beta is a linear layer's bias)
                if (n.getOpType().equals("Gemm")
                        && n.getInputCount() == 3
                        && n.getAttributeList().stream()
                                .anyMatch(a -> a.getName().equals("beta"))) {
                    String c = n.getInput(2);
                    assertEquals("Reshape", producer.get(c), n.getName() + ": C is the reshaped momentum buffer");
                    String buffer = g.getNodeList().stream()
                            .filter(r -> r.getOutputList().contains(c))
                            .findFirst()
                            .orElseThrow()
                            .getInput(0);
                    assertTrue(buffer.endsWith(CheckpointTensor.MOMENTUM_SUFFIX), n.getName() + " reads " + buffer);
                    float beta = n.getAttributeList().stream()
                            .filter(a -> a.getName().equals("beta"))
                            .findFirst()
                            .orElseThrow()
                            .getF();
                    assertEquals(mu, beta, n.getName());
                    byGemm.add(buffer);
                }
                if (n.getOpType().equals("Mul")
                        && n.getOutput(0).endsWith(CheckpointTensor.MOMENTUM_SUFFIX + ".scaled"))
                    byMul.add(n.getInput(0));
            }
            Set<String> overlap = new HashSet<>(byGemm);
            overlap.retainAll(byMul);
            assertTrue(overlap.isEmpty(), "μ·m added twice for " + overlap);
            long momenta = m.checkpointTensors().stream()
                    .filter(t -> t.role() == CheckpointTensor.Role.MOMENTUM)
                    .count();
            assertEquals(momenta, byGemm.size() + byMul.size(), "every momentum buffer read once for μ·m");
            if (cpu) assertTrue(byGemm.size() >= 16, id + ": " + byGemm.size() + " momenta folded into Gemms");
            else assertEquals(0, byGemm.size(), "the CUDA graph keeps ConvGrad and the Mul + Add");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"demo-r18", "cub-r50", "adamw"})
    void everyParameterHasOneAccumulatorAndEveryStateOneWriteBack(String id) {
        TrainingArtifacts.Models m = build(id);
        for (GraphProto g : trainingGraphs(m)) {
            Map<String, Integer> writes = new HashMap<>();
            for (NodeProto n : g.getNodeList()) {
                if (n.getOpType().equals("InPlaceAccumulatorV2")) {
                    assertEquals("com.microsoft", n.getDomain());
                    writes.merge(n.getInput(0), 1, Integer::sum);
                }
            }
            for (CheckpointTensor t : m.checkpointTensors()) {
                String target = t.trainable() ? t.name() + TrainingArtifacts.GRAD_BUFFER_SUFFIX : t.name();
                assertEquals(1, writes.getOrDefault(target, 0), "exactly one InPlaceAccumulatorV2 into " + target);
            }
            assertEquals(m.checkpointTensors().size(), writes.size());
        }
        boolean sgd = m.spec().optimizer() == ModelSpec.Optimizer.SGD_MOMENTUM;
        assertEquals(sgd, m.checkpointTensors().stream().anyMatch(t -> t.role() == CheckpointTensor.Role.MOMENTUM));
    }

    @ParameterizedTest
    @ValueSource(strings = {"demo-r18", "cub-r50"})
    void parametersAreInputsInOneOrderInBothGraphsAndNeverInitializers(String id) {
        TrainingArtifacts.Models m = build(id);
        List<String> expected =
                m.checkpointTensors().stream().map(CheckpointTensor::name).toList();
        List<String> train = m.training(TrainingTarget.CUDA).getGraph().getInputList().stream()
                .map(ValueInfoProto::getName)
                .toList();
        assertEquals(
                train,
                m.training(TrainingTarget.CPU).getGraph().getInputList().stream()
                        .map(ValueInfoProto::getName)
                        .toList());
        List<String> eval = m.eval().getGraph().getInputList().stream()
                .map(ValueInfoProto::getName)
                .toList();
        assertEquals(expected, train.subList(2, 2 + expected.size()));
        assertEquals(expected, eval.subList(2, eval.size()));
        Set<String> names = new HashSet<>(expected);
        for (ModelProto p : List.of(m.training(TrainingTarget.CUDA), m.training(TrainingTarget.CPU), m.eval())) {
            for (TensorProto init : p.getGraph().getInitializerList())
                assertFalse(names.contains(init.getName()), init.getName());
        }
        assertEquals(TrainingArtifacts.LAZY_RESET_GRAD, train.get(train.size() - 1));
    }

    @ParameterizedTest
    @ValueSource(strings = {"demo-r18", "cub-r50"})
    void opsetsAndOutputsFollowTheContract(String id) {
        TrainingArtifacts.Models m = build(id);
        for (ModelProto p :
                List.of(m.training(TrainingTarget.CUDA), m.training(TrainingTarget.CPU), m.eval(), m.optimizer())) {
            assertEquals(8, p.getIrVersion());
            for (var o : p.getOpsetImportList())
                assertEquals(o.getDomain().isEmpty() ? 17 : 1, o.getVersion(), o.getDomain());
        }
        for (GraphProto g : trainingGraphs(m)) {
            List<String> visible = g.getOutputList().stream()
                    .map(ValueInfoProto::getName)
                    .filter(n -> !n.endsWith(TrainingArtifacts.GRAD_OUT_SUFFIX))
                    .toList();
            assertEquals(TensorNames.LOSS_TERMS, visible);
        }
        assertEquals(
                StepSignature.evalStep().outputs(),
                m.eval().getGraph().getOutputList().stream()
                        .map(ValueInfoProto::getName)
                        .toList());
    }

    /**
     * ORT orders an in-place write only by data dependencies: a reader of a state tensor that is not upstream of the
     * written value may see the old or the new value. Every reader must be an ancestor of the write-back.
     */
    @ParameterizedTest
    @ValueSource(strings = {"demo-r18", "cub-r50"})
    void everyReaderOfAStateTensorIsUpstreamOfItsWriteBack(String id) {
        for (GraphProto g : trainingGraphs(build(id))) readersUpstream(g);
    }

    static void readersUpstream(GraphProto g) {
        Map<String, NodeProto> producer = new HashMap<>();
        for (NodeProto n : g.getNodeList()) for (String o : n.getOutputList()) producer.put(o, n);
        for (NodeProto write : g.getNodeList()) {
            if (!write.getOpType().equals("InPlaceAccumulatorV2")
                    || write.getInput(0).endsWith(TrainingArtifacts.GRAD_BUFFER_SUFFIX)) continue;
            String state = write.getInput(0);
            Set<NodeProto> ancestors = new HashSet<>();
            ArrayDeque<String> todo = new ArrayDeque<>(List.of(write.getInput(1)));
            while (!todo.isEmpty()) {
                NodeProto p = producer.get(todo.pop());
                if (p != null && ancestors.add(p)) todo.addAll(p.getInputList());
            }
            int readers = 0;
            for (NodeProto n : g.getNodeList()) {
                if (n == write || !n.getInputList().contains(state)) continue;
                readers++;
                assertTrue(
                        ancestors.contains(n),
                        n.getName() + " reads " + state + " but is not upstream of its write-back");
            }
            assertEquals(1, readers, state + " has one reader (μ·m or 0.9·r)");
        }
    }
}
