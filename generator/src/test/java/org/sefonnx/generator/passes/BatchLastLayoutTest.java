package org.sefonnx.generator.passes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.sefonnx.generator.ShippedSpecs;
import org.sefonnx.generator.autodiff.Autodiff;
import org.sefonnx.generator.autodiff.GradientRegistry;
import org.sefonnx.generator.composite.BatchNormTraining;
import org.sefonnx.generator.model.CheckpointTensor;
import org.sefonnx.generator.model.SefModel;
import org.sefonnx.generator.onnx.DType;
import org.sefonnx.generator.onnx.Dim;
import org.sefonnx.generator.onnx.Graph;
import org.sefonnx.generator.onnx.MsOp;
import org.sefonnx.generator.onnx.Node;
import org.sefonnx.generator.onnx.Ops;
import org.sefonnx.generator.onnx.Shape;
import org.sefonnx.generator.onnx.Value;

class BatchLastLayoutTest {
    static final Dim N = Dim.sym("N");

    private static List<Node> ofType(Graph g, String opType) {
        return g.nodes().stream().filter(n -> n.opType.equals(opType)).toList();
    }

    /** Transposes between [N, C, H, W] and [C, H, W, N]. */
    private static long layoutTransposes(Graph g) {
        return ofType(g, "Transpose").stream()
                .filter(n -> Arrays.equals(n.attrInts("perm", null), BatchLastLayout.TO_NCHW)
                        || Arrays.equals(n.attrInts("perm", null), BatchLastLayout.TO_BATCH_LAST))
                .count();
    }

    /** A batch-last input x' and x = x' as [N, C, H, W], what a lowered convolution gives. */
    private static Value nchwOfBatchLastInput(Graph g, Ops ops) {
        Value batchLast = g.input("x_chwn", DType.FLOAT, Shape.of(2L, 4L, 4L, N));
        return ops.transpose("x", batchLast, BatchLastLayout.TO_NCHW);
    }

    @Test
    void aTransposeToNchwAndOneBackCancelThroughElementwiseOpsAndPerChannelOperands() {
        Graph g = new Graph("chain");
        Ops ops = new Ops(g);
        Value x = nchwOfBatchLastInput(g, ops);
        Value shift = g.input("shift", DType.FLOAT, Shape.fixed(2));
        Value y = ops.sub("y", ops.relu("r", x), ops.reshape("shift4", shift, 1, 2, 1, 1));
        g.output(ops.transpose("y_chwn", ops.mul("z", y, g.scalar(DType.FLOAT, 2)), BatchLastLayout.TO_BATCH_LAST));
        new BatchLastLayout().apply(g);
        assertEquals(0, layoutTransposes(g));
        assertEquals("x_chwn", ofType(g, "Relu").get(0).input(0).name());
        Node sub = ofType(g, "Sub").get(0);
        assertEquals(Shape.of(2L, 4L, 4L, N), sub.output(0).shape());
        assertEquals(Shape.fixed(2, 1, 1, 1), sub.input(1).shape(), "the per-channel operand broadcasts batch-last");
        assertEquals("shift", ofType(g, "Reshape").get(0).input(0).name(), "reshaped from what it was reshaped from");
        assertEquals("y_chwn", g.outputs().get(0).name(), "the graph output keeps its name");
        assertEquals(Shape.of(2L, 4L, 4L, N), g.outputs().get(0).shape());
    }

    @Test
    void aMapGoesBackToNchwOnceWhereAnOpNeedsIt() {
        Graph g = new Graph("pool");
        Ops ops = new Ops(g);
        Value r = ops.relu("r", nchwOfBatchLastInput(g, ops));
        g.output(ops.maxPoolWithIndices("pool", r, 3, 2, 1).get(0));
        g.output(ops.globalAveragePool("gap", r));
        new BatchLastLayout().apply(g);
        List<Node> transposes = ofType(g, "Transpose");
        assertEquals(1, transposes.size());
        assertEquals("r", transposes.get(0).output(0).name());
        assertEquals(Shape.of(2L, 4L, 4L, N), ofType(g, "Relu").get(0).output(0).shape());
    }

    @Test
    void trainingBatchNormRunsOnTheMapReadAsOneRowPerChannelWithItsStatisticsOverTheTwinsAxes() {
        Graph g = new Graph("bn");
        Ops ops = new Ops(g);
        Value x = nchwOfBatchLastInput(g, ops);
        Value scale = g.input("scale", DType.FLOAT, Shape.fixed(2)),
                bias = g.input("bias", DType.FLOAT, Shape.fixed(2));
        BatchNormTraining.Normalized bn = BatchNormTraining.apply(ops, "bn", x, scale, bias, 1e-5f);
        g.output(ops.transpose("y_chwn", ops.relu("r", bn.output()), BatchLastLayout.TO_BATCH_LAST));
        g.output(bn.batchVar());
        g.inlineComposites();
        new BatchLastLayout().apply(g);
        assertEquals(0, layoutTransposes(g));
        Node normalization = ofType(g, "BatchNormalization").get(0);
        assertEquals(
                Shape.of(1L, 2L, Dim.sym("x_chwn_d2")), normalization.input(0).shape(), "[1, C, H·W·N]");
        List<Node> means = ofType(g, "ReduceMean");
        assertEquals(2, means.size(), "mean and variance");
        for (Node mean : means) {
            assertEquals(Shape.of(2L, 4L, 4L, N), mean.input(0).shape(), mean.toString());
            assertTrue(Arrays.equals(new long[] {1, 2, 3}, mean.attrInts("axes", null)), mean.toString());
        }
        assertEquals("x_chwn", means.get(0).input(0).name());
    }

    @Test
    void aBackwardOpThatCostsOneTransposeEitherWayFollowsWhereItsResultFlows() {
        for (boolean toBatchLast : new boolean[] {true, false}) {
            Graph g = new Graph("tie");
            Ops ops = new Ops(g);
            Value x = nchwOfBatchLastInput(g, ops);
            Value dy = g.input("dy", DType.FLOAT, Shape.of(N, 2L, 4L, 4L));
            Value scale = g.input("scale", DType.FLOAT, Shape.fixed(2)),
                    mean = g.input("mean", DType.FLOAT, Shape.fixed(2));
            Value invStd = g.input("inv_std", DType.FLOAT, Shape.fixed(2));
            Value dx = ops.ms(
                            MsOp.BATCH_NORMALIZATION_GRAD,
                            List.of(dy, x, scale, mean, invStd),
                            List.of(
                                    new Value("dx", DType.FLOAT, x.shape()),
                                    new Value("dscale", DType.FLOAT, scale.shape()),
                                    new Value("dbias", DType.FLOAT, scale.shape())))
                    .get(0);
            if (toBatchLast) g.output(ops.transpose("dx_chwn", dx, BatchLastLayout.TO_BATCH_LAST));
            else g.output(ops.maxPoolWithIndices("pool", dx, 3, 2, 1).get(0));
            new BatchLastLayout().apply(g);
            Node grad = ofType(g, MsOp.BATCH_NORMALIZATION_GRAD.opType).get(0);
            assertEquals(toBatchLast ? 3 : 4, grad.input(1).requireShape().rank());
            assertEquals(1, layoutTransposes(g), toBatchLast ? "dy to batch-last" : "x back to NCHW");
        }
    }

    @Test
    void theDemoSpecsCpuGraphKeepsSevenLayoutTransposesOfAllItsLoweredConvolutions() {
        List<CheckpointTensor> tensors = SefModel.modelTensors(ShippedSpecs.demo());
        SefModel.Built fwd = SefModel.forward(ShippedSpecs.demo(), "demo", true, DType.FLOAT, tensors);
        Graph g = fwd.graph();
        Value loss = g.output(fwd.terms().total(), "loss");
        new LowerSmallConvolutions().apply(g);
        List<Value> params = tensors.stream()
                .filter(CheckpointTensor::trainable)
                .map(t -> g.value(t.name()))
                .toList();
        var grads = new Autodiff(GradientRegistry.standard()).gradients(g, loss, params);
        g.inlineComposites();
        for (Value p : params) g.output(grads.get(p), p.name() + ".grad");
        List<String> outputs = g.outputs().stream().map(Value::name).toList();
        long before = layoutTransposes(g);
        new BatchLastLayout().apply(g);
        // forward: the images, the stem's max-pool (in and out), the last map; backward: the same three places
        assertEquals(7, layoutTransposes(g), "of " + before);
        assertTrue(before > 70, before + " before the pass: two per lowered convolution, forward and backward");
        for (Node n : g.nodes())
            if (n.opType.equals("BatchNormalization") || n.opType.equals(MsOp.BATCH_NORMALIZATION_GRAD.opType))
                assertEquals(3, n.input(0).requireShape().rank(), n.toString());
        assertEquals(outputs, g.outputs().stream().map(Value::name).toList());
    }
}
