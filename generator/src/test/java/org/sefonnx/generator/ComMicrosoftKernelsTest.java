package org.sefonnx.generator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.sefonnx.generator.autodiff.Autodiff;
import org.sefonnx.generator.autodiff.GradientRegistry;
import org.sefonnx.generator.composite.BatchNormTraining;
import org.sefonnx.generator.onnx.Attr;
import org.sefonnx.generator.onnx.DType;
import org.sefonnx.generator.onnx.Graph;
import org.sefonnx.generator.onnx.MsOp;
import org.sefonnx.generator.onnx.Node;
import org.sefonnx.generator.onnx.Ops;
import org.sefonnx.generator.onnx.Shape;
import org.sefonnx.generator.onnx.Value;

/** The com.microsoft schema table and the gradient rules that forward to its kernels. */
class ComMicrosoftKernelsTest {
    private static Value lossOf(Ops ops, Value y) {
        return ops.reduceSum("loss", y, Ops.allAxes(y), false);
    }

    private static List<NodeProto> nodes(Graph g, String opType) {
        return g.toGraphProto().getNodeList().stream()
                .filter(n -> n.getOpType().equals(opType))
                .toList();
    }

    @Test
    void convGradCarriesTheConvsOwnAttributes() {
        Graph g = new Graph("conv");
        Ops ops = new Ops(g);
        Value x = g.input("x", DType.FLOAT, Shape.of(2, 3, 7, 7)), w = g.input("w", DType.FLOAT, Shape.of(4, 3, 3, 3));
        Value y = ops.conv("y", x, w, null, 2, 1);
        new Autodiff(GradientRegistry.standard()).gradients(g, lossOf(ops, y), List.of(x, w));
        NodeProto conv = nodes(g, "Conv").get(0);
        List<NodeProto> grads = nodes(g, "ConvGrad");
        assertEquals(1, grads.size());
        assertEquals(Graph.MS_DOMAIN, grads.get(0).getDomain());
        assertEquals(conv.getAttributeList(), grads.get(0).getAttributeList());
        assertEquals(
                List.of(2L, 2L),
                grads.get(0).getAttributeList().stream()
                        .filter(a -> a.getName().equals("strides"))
                        .findFirst()
                        .orElseThrow()
                        .getIntsList());
        // a bias-free Conv: dX and dW only
        assertEquals(List.of("grad.y.dx", "grad.y.dw"), grads.get(0).getOutputList());
    }

    @Test
    void convGradOmitsTheInputGradientNobodyNeeds() {
        Graph g = new Graph("stem");
        Ops ops = new Ops(g);
        Value images = g.input("images", DType.FLOAT, Shape.of(2, 3, 7, 7)),
                w = g.input("w", DType.FLOAT, Shape.of(4, 3, 3, 3));
        new Autodiff(GradientRegistry.standard())
                .gradients(g, lossOf(ops, ops.conv("y", images, w, null, 1, 1)), List.of(w));
        assertEquals(List.of("", "grad.y.dw"), nodes(g, "ConvGrad").get(0).getOutputList());
    }

    @Test
    void trainingBatchNormIsSerialisedAsBatchNormalizationAndDifferentiatedByItsOwnRule() {
        Graph g = new Graph("bn");
        Ops ops = new Ops(g);
        Value x = g.input("x", DType.FLOAT, Shape.of(3, 4, 2, 2));
        Value scale = g.input("scale", DType.FLOAT, Shape.of(4)), bias = g.input("bias", DType.FLOAT, Shape.of(4));
        Value y = BatchNormTraining.apply(ops, "bn", x, scale, bias, 1e-3f).output();
        List<Node> applications = g.nodes().stream()
                .filter(n -> n.opType.equals(BatchNormTraining.NAME))
                .toList();
        assertEquals(1, applications.size());
        assertEquals(
                List.of("BatchNormalization"),
                applications.get(0).body().stream().map(n -> n.opType).toList());
        assertEquals(0, nodes(g, BatchNormTraining.NAME).size(), "the serialised graph holds the body");
        new Autodiff(GradientRegistry.standard()).gradients(g, lossOf(ops, y), List.of(x, scale, bias));
        assertEquals(1, nodes(g, "BatchNormalization").size());
        List<NodeProto> grads = nodes(g, "BatchNormalizationGrad");
        assertEquals(1, grads.size());
        assertEquals(List.of(Attr.f("epsilon", 1e-3f)), grads.get(0).getAttributeList());
        assertEquals(3, grads.get(0).getOutputCount());
    }

    @Test
    void passThroughKeepsOnlyTheAttributesTheKernelDeclares() {
        AttributeProto[] kept =
                MsOp.BATCH_NORMALIZATION_GRAD.declaredOf(List.of(Attr.f("momentum", 0.9f), Attr.f("epsilon", 1e-3f)));
        assertEquals(List.of(Attr.f("epsilon", 1e-3f)), Arrays.asList(kept));
        assertEquals(0, MsOp.RELU_GRAD.declaredOf(List.of(Attr.i("axis", 1))).length);
    }

    @Test
    void aKernelNodeThatDoesNotFitItsSchemaIsRefusedWithTheReason() {
        Graph g = new Graph("bad");
        Ops ops = new Ops(g);
        Value a = g.input("a", DType.FLOAT, Shape.of(2, 3)), b = g.input("b", DType.FLOAT, Shape.of(2, 3));
        Value out = new Value("dx", DType.FLOAT, Shape.of(2, 3));
        var unknown = assertThrows(
                IllegalArgumentException.class,
                () -> ops.ms(MsOp.RELU_GRAD, List.of(a, b), List.of(out), Attr.i("axis", 1)));
        assertTrue(
                unknown.getMessage().contains("com.microsoft::ReluGrad has no attribute 'axis'"), unknown.getMessage());
        var type = assertThrows(
                IllegalArgumentException.class,
                () -> ops.ms(MsOp.SOFTMAX_GRAD_13, List.of(a, b), List.of(out), Attr.f("axis", 1f)));
        assertTrue(type.getMessage().contains("'axis' is INT, got FLOAT"), type.getMessage());
        var arity =
                assertThrows(IllegalArgumentException.class, () -> ops.ms(MsOp.RELU_GRAD, List.of(a), List.of(out)));
        assertTrue(
                arity.getMessage().contains("1 inputs, its schema has 2 required and 2 at most"), arity.getMessage());
        var required = assertThrows(
                IllegalArgumentException.class,
                () -> ops.ms(MsOp.IN_PLACE_ACCUMULATOR_V2, List.of(a, b), Arrays.asList(null, out)));
        assertTrue(required.getMessage().contains("output 0 is required"), required.getMessage());
        var bypass = assertThrows(
                IllegalArgumentException.class,
                () -> ops.node("ReluGrad", Graph.MS_DOMAIN, List.of(a, b), List.of(out)));
        assertTrue(bypass.getMessage().contains("Ops.ms"), bypass.getMessage());
        assertEquals(0, g.nodeCount(), "a refused node is not added");
    }

    @Test
    void rulesAreFoundByTheOpTypeOfStandardDomainNodesOnly() {
        GradientRegistry r = GradientRegistry.standard();
        Graph g = new Graph("lookup");
        Value x = g.input("x", DType.FLOAT, Shape.of(2, 3));
        g.addNode("Relu", "", List.of(x), List.of(new Value("y", DType.FLOAT, Shape.of(2, 3))), List.of());
        g.addNode("Relu", Graph.MS_DOMAIN, List.of(x), List.of(new Value("z", DType.FLOAT, Shape.of(2, 3))), List.of());
        List<Node> n = g.nodes();
        assertTrue(r.rule("Relu") != null);
        assertEquals(r.rule("Relu"), r.rule(n.get(0)));
        assertEquals(null, r.rule(n.get(1)));
    }
}
