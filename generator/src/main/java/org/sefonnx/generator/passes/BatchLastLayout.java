package org.sefonnx.generator.passes;

import ai.onnx.proto.OnnxMl.AttributeProto;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.sefonnx.generator.onnx.Attr;
import org.sefonnx.generator.onnx.DType;
import org.sefonnx.generator.onnx.Dim;
import org.sefonnx.generator.onnx.Graph;
import org.sefonnx.generator.onnx.MsOp;
import org.sefonnx.generator.onnx.Node;
import org.sefonnx.generator.onnx.Rewrite;
import org.sefonnx.generator.onnx.Shape;
import org.sefonnx.generator.onnx.Value;

/**
 * Keeps maps batch-last, [C, H, W, N], between the CPU graph's lowered convolutions, forward and backward: transpose
 * sinking on the training graph. Each lowered convolution computes batch-last between a transpose from and one back
 * to [N, C, H, W] ({@link LowerSmallConvolutions}); this pass moves every transpose back to NCHW down through the ops
 * that do not care about the layout — element-wise ones (ReLU, the residual Add, ReluGrad, the gradient sums), the
 * BatchNorm statistics' reductions, BatchNormalization and BatchNormalizationGrad (on the map read as
 * [1, C, H·W·N], the same per-channel values), the batch size read from a map's shape — until it meets a transpose to
 * batch-last, and both go. A map goes back to NCHW, once, only where an op needs that layout (the stem's max-pool, the
 * last map's pooling and grouping loss, a graph output). The demo spec's graph (ResNet-18, 48 px, every convolution
 * lowered) then runs 7 layout transposes a step instead of 79 (Winograd's tile transposes are inside its composites).
 */
public final class BatchLastLayout implements GraphPass {
    /** The permutation of a Transpose from [C, H, W, N] to [N, C, H, W]. */
    static final long[] TO_NCHW = {3, 0, 1, 2};
    /** The permutation of a Transpose from [N, C, H, W] to [C, H, W, N]. */
    static final long[] TO_BATCH_LAST = {1, 2, 3, 0};

    /** How many ops deep a tie looks for where a map flows. */
    private static final int LOOKAHEAD = 8;

    /** Standard ops that compute each output element from the same element of each (broadcast) input. */
    private static final Set<String> ELEMENTWISE =
            Set.of("Relu", "Add", "Sub", "Mul", "Div", "Sum", "Identity", "Cast", "Neg", "Sqrt", "Reciprocal");

    @Override
    public String name() {
        return "batch-last-layout";
    }

    @Override
    public Phase phase() {
        return Phase.TRAINING;
    }

    @Override
    public void apply(Graph graph) {
        Sinking sinking = new Sinking(graph);
        graph.rewrite(sinking::visit);
        graph.removeUnreadNodes();
    }

    /** One application's state: which NCHW maps have a batch-last twin, and which exist only as that twin. */
    private static final class Sinking {
        private final Graph graph;
        private final Set<String> graphOutputs = new HashSet<>();
        private final Map<String, List<Node>> readers = new HashMap<>();
        private final Map<String, Node> producers = new HashMap<>();
        /** An NCHW map → the same map batch-last (map = Transpose(twin, TO_NCHW)). */
        private final Map<Value, Value> twin = new HashMap<>();
        /** NCHW maps whose node was dropped: they exist as their twin until an op needs them ({@link #need}). */
        private final Set<Value> virtual = new HashSet<>();
        /** The dropped transpose that defined a virtual map, kept again if the map is needed. */
        private final Map<Value, Node> droppedTranspose = new HashMap<>();
        /** A shape [N, C, H, W] of a virtual map → the shape of its twin, [C, H, W, N]. */
        private final Map<Value, Value> twinShape = new HashMap<>();
        /** A [1, C, 1, 1] operand → the same values as [C, 1, 1, 1], which broadcasts over a batch-last map. */
        private final Map<Value, Value> channelsFirst = new HashMap<>();

        Sinking(Graph graph) {
            this.graph = graph;
            for (Value v : graph.outputs()) graphOutputs.add(v.name());
            for (Node n : graph.nodes()) {
                for (Value v : n.inputs)
                    if (v != null)
                        readers.computeIfAbsent(v.name(), k -> new ArrayList<>())
                                .add(n);
                for (Value v : n.outputs) if (v != null) producers.put(v.name(), n);
            }
        }

        void visit(Node n, Rewrite r) {
            if (isTranspose(n, TO_NCHW)) {
                Value map = n.output(0);
                twin.put(map, n.input(0));
                virtual.add(map);
                droppedTranspose.put(map, n);
                if (graphOutputs.contains(map.name())) need(map, r);
            } else if (isTranspose(n, TO_BATCH_LAST) && twin.containsKey(n.input(0))) {
                r.replace(n.output(0), twin.get(n.input(0)));
            } else if (isTranspose(n, TO_BATCH_LAST)) {
                r.keep(n);
                twin.put(n.input(0), n.output(0));
            } else if (!sunk(n, r)) {
                for (Value v : n.inputs) if (v != null) need(v, r);
                r.keep(n);
            }
        }

        /** Emits {@code n} on batch-last maps where it can run there and reads one; false where it stays as it is. */
        private boolean sunk(Node n, Rewrite r) {
            boolean standard = n.domain.isEmpty();
            if (standard && ELEMENTWISE.contains(n.opType)) return elementwise(n, r);
            if (!standard && n.opType.equals(MsOp.RELU_GRAD.opType)) return elementwise(n, r);
            if (standard && (n.opType.equals("ReduceMean") || n.opType.equals("ReduceSum"))) return reduce(n, r);
            if (standard && n.opType.equals("BatchNormalization")) return batchNormalization(n, r);
            if (!standard && n.opType.equals(MsOp.BATCH_NORMALIZATION_GRAD.opType)) return batchNormalizationGrad(n, r);
            if (standard && n.opType.equals("Shape")) return shape(n, r);
            if (standard && n.opType.equals("Gather")) return gatherFromShape(n, r);
            return false;
        }

        /**
         * An element-wise op whose inputs are maps of its output's shape, [1, C, 1, 1] per-channel operands or
         * scalars, at least one map virtual: the same op on the twins; its output becomes virtual.
         */
        private boolean elementwise(Node n, Rewrite r) {
            Value out = n.output(0);
            if (n.outputs.size() != 1 || !isMap(out)) return false;
            Shape map = out.requireShape();
            List<Value> maps = new ArrayList<>();
            for (Value v : n.inputs) {
                if (v == null || v.shape() == null) return false;
                Shape s = v.shape();
                if (s.equals(map)) maps.add(v);
                else if (!isPerChannel(s, map) && s.rank() != 0) return false;
            }
            if (!worthSinking(maps, out)) return false;
            List<Value> in = new ArrayList<>();
            for (Value v : n.inputs) {
                Shape s = v.requireShape();
                in.add(s.equals(map) ? batchLast(v, r) : s.rank() == 0 ? v : channelsFirst(v, r));
            }
            Value sunkOut = r.define(n.opType, n.domain, in, List.of(batchLastLike(out)), n.attributes)
                    .get(0);
            becomesVirtual(out, sunkOut, r);
            return true;
        }

        /**
         * A reduction of a virtual map to the values of its kept axes, in the same order (keepdims 0): the same
         * reduction of the twin over the twin's axes; the output is the very value.
         */
        private boolean reduce(Node n, Rewrite r) {
            Value x = n.input(0);
            if (!virtual.contains(x) || n.attrInt("keepdims", 1) != 0) return false;
            boolean axesInput = n.opType.equals("ReduceSum");
            long[] axes = axesInput
                    ? (n.input(1) == null ? new long[] {0, 1, 2, 3} : graph.constantLongs(n.input(1)))
                    : n.attrInts("axes", new long[] {0, 1, 2, 3});
            long[] moved = new long[axes.length];
            for (int i = 0; i < axes.length; i++) moved[i] = TO_NCHW[(int) (axes[i] < 0 ? axes[i] + 4 : axes[i])];
            Arrays.sort(moved);
            long last = -1;
            for (int a = 0; a < 4; a++) {
                if (contains(axes, a)) continue;
                if (TO_NCHW[a] < last) return false; // the kept axes would come out in another order
                last = TO_NCHW[a];
            }
            Value twinMap = twin.get(x);
            if (axesInput) {
                r.define(n.opType, "", List.of(twinMap, graph.longs(moved)), n.outputs, n.attributes);
            } else {
                List<AttributeProto> attrs = new ArrayList<>();
                for (AttributeProto a : n.attributes)
                    attrs.add(a.getName().equals("axes") ? Attr.ints("axes", moved) : a);
                r.define(n.opType, "", List.of(twinMap), n.outputs, attrs);
            }
            return true;
        }

        /**
         * BatchNormalization of a virtual map: of its twin read as [1, C, H·W·N] (a reshape, no copy), the same
         * per-channel statistics over the same N·H·W values, reshaped back; the output becomes virtual.
         */
        private boolean batchNormalization(Node n, Rewrite r) {
            Value x = n.input(0), out = n.output(0);
            if (!isMap(x) || n.outputs.size() != 1 || !worthSinking(List.of(x), out)) return false;
            List<Value> in = new ArrayList<>(n.inputs);
            in.set(0, channelMatrix(batchLast(x, r), r));
            Value flat = r.define(n.opType, "", in, List.of(like(out.name() + ".flat", in.get(0))), n.attributes)
                    .get(0);
            becomesVirtual(out, unflatten(flat, batchLastLike(out), r), r);
            return true;
        }

        /** BatchNormalizationGrad of a virtual dY or X: both read as [1, C, H·W·N]; dX becomes virtual. */
        private boolean batchNormalizationGrad(Node n, Rewrite r) {
            Value dy = n.input(0), x = n.input(1), dx = n.output(0);
            if (!isMap(dy) || !isMap(x) || !worthSinking(List.of(dy, x), dx)) return false;
            List<Value> in = new ArrayList<>(n.inputs);
            in.set(0, channelMatrix(batchLast(dy, r), r));
            in.set(1, channelMatrix(batchLast(x, r), r));
            List<Value> out = new ArrayList<>(n.outputs);
            if (dx != null) out.set(0, like(dx.name() + ".flat", in.get(1)));
            Value flat = r.define(n.opType, n.domain, in, out, n.attributes).get(0);
            if (dx != null) becomesVirtual(dx, unflatten(flat, batchLastLike(dx), r), r);
            return true;
        }

        /** The shape of a virtual map, read only by Gathers of single axes: the twin's shape, the Gathers' axes moved. */
        private boolean shape(Node n, Rewrite r) {
            Value x = n.input(0), out = n.output(0);
            if (!virtual.contains(x) || graphOutputs.contains(out.name())) return false;
            for (Node reader : readers.getOrDefault(out.name(), List.of()))
                if (!reader.opType.equals("Gather")
                        || !reader.domain.isEmpty()
                        || !out.equals(reader.input(0))
                        || reader.attrInt("axis", 0) != 0
                        || !graph.isConstant(reader.input(1))) return false;
            Value shape = r.define(
                            "Shape", "", List.of(twin.get(x)), List.of(like(out.name() + ".chwn", out)), List.of())
                    .get(0);
            twinShape.put(out, shape);
            return true;
        }

        private boolean gatherFromShape(Node n, Rewrite r) {
            Value shape = twinShape.get(n.input(0));
            if (shape == null) return false;
            long[] axes = graph.constantLongs(n.input(1));
            double[] moved = new double[axes.length];
            for (int i = 0; i < axes.length; i++) moved[i] = TO_NCHW[(int) axes[i]];
            Value index = graph.constant(DType.INT64, n.input(1).requireShape(), moved);
            r.define("Gather", "", List.of(shape, index), n.outputs, n.attributes);
            return true;
        }

        /**
         * Whether an op reading these maps runs batch-last: where that needs fewer new transposes (of maps that have no
         * twin) than keeping it in NCHW needs (of virtual maps); on a tie, where what its output flows into prefers it.
         */
        private boolean worthSinking(List<Value> maps, Value out) {
            int toBatchLast = 0, toNchw = 0;
            for (Value v : new HashSet<>(maps)) {
                if (virtual.contains(v)) toNchw++;
                else if (!twin.containsKey(v)) toBatchLast++;
            }
            if (toNchw == 0) return false;
            if (toBatchLast != toNchw) return toBatchLast < toNchw;
            return out != null && preference(out, LOOKAHEAD) > 0;
        }

        /**
         * Where {@code v} flows, looking through ops that could run batch-last: +1 for each transpose to batch-last it
         * reaches (a lowered convolution's input, or the backward of one's output), −1 for each op that needs NCHW.
         */
        private int preference(Value v, int depth) {
            int score = 0;
            for (Node reader : readers.getOrDefault(v.name(), List.of())) {
                if (isTranspose(reader, TO_BATCH_LAST)) score++;
                else if (!layoutFree(reader)) score--;
                else if (depth > 0 && reader.output(0) != null && isMap(reader.output(0)))
                    score += preference(reader.output(0), depth - 1);
            }
            return score;
        }

        /** An op that can run on either layout: one of the ops this pass sinks transposes through. */
        private static boolean layoutFree(Node n) {
            return n.domain.isEmpty()
                    ? ELEMENTWISE.contains(n.opType)
                            || n.opType.equals("BatchNormalization")
                            || n.opType.equals("ReduceMean")
                            || n.opType.equals("ReduceSum")
                            || n.opType.equals("Shape")
                    : n.opType.equals(MsOp.RELU_GRAD.opType) || n.opType.equals(MsOp.BATCH_NORMALIZATION_GRAD.opType);
        }

        /** The NCHW map {@code v} as it is needed by an op that stays in NCHW: made real again if it is virtual. */
        private void need(Value v, Rewrite r) {
            if (!virtual.remove(v)) return;
            Node dropped = droppedTranspose.get(v);
            if (dropped != null) r.keep(dropped);
            else r.define("Transpose", "", List.of(twin.get(v)), List.of(v), List.of(Attr.ints("perm", TO_NCHW)));
        }

        /** {@code map}'s twin, made by one Transpose of a real map that has none yet. */
        private Value batchLast(Value map, Rewrite r) {
            return twin.computeIfAbsent(map, m -> r.ops().transpose(m.name() + ".chwn", m, TO_BATCH_LAST));
        }

        /** A [1, C, 1, 1] operand as [C, 1, 1, 1]: a reshape (of what it is a reshape of, where it is one). */
        private Value channelsFirst(Value v, Rewrite r) {
            return channelsFirst.computeIfAbsent(v, k -> {
                Node p = producers.get(k.name());
                Value source = p != null && p.opType.equals("Reshape") && p.domain.isEmpty() ? p.input(0) : k;
                return r.ops()
                        .reshape(k.name() + ".c111", source, k.requireShape().size(1), 1, 1, 1);
            });
        }

        /** A batch-last map [C, H, W, N] as [1, C, H·W·N]. */
        private Value channelMatrix(Value batchLast, Rewrite r) {
            return r.ops()
                    .reshape(
                            batchLast.name() + ".1c",
                            batchLast,
                            1,
                            batchLast.requireShape().size(0),
                            -1);
        }

        /** [1, C, H·W·N] back to the batch-last map {@code like}, its batch size declared so later ops stay typed. */
        private Value unflatten(Value flat, Value like, Rewrite r) {
            Shape s = like.requireShape();
            return r.define(
                            "Reshape",
                            "",
                            List.of(flat, graph.longs(s.size(0), s.size(1), s.size(2), -1)),
                            List.of(like),
                            List.of())
                    .get(0);
        }

        private void becomesVirtual(Value map, Value batchLast, Rewrite r) {
            twin.put(map, batchLast);
            virtual.add(map);
            if (graphOutputs.contains(map.name())) need(map, r);
        }

        private static boolean isTranspose(Node n, long[] perm) {
            return n.opType.equals("Transpose") && n.domain.isEmpty() && Arrays.equals(n.attrInts("perm", null), perm);
        }

        private static boolean isMap(Value v) {
            return v.shape() != null && v.shape().rank() == 4;
        }

        private static boolean isPerChannel(Shape s, Shape map) {
            return s.rank() == 4
                    && s.dim(0).equals(Dim.of(1))
                    && s.dim(1).equals(map.dim(1))
                    && s.dim(2).equals(Dim.of(1))
                    && s.dim(3).equals(Dim.of(1));
        }

        private static boolean contains(long[] axes, int axis) {
            for (long a : axes) if (a == axis || a + 4 == axis) return true;
            return false;
        }

        /** A new value named {@code name}, of {@code of}'s type and shape. */
        private static Value like(String name, Value of) {
            return new Value(name, of.dtype(), of.shape());
        }

        /** A new value for the batch-last twin of the NCHW map {@code map}: [C, H, W, N]. */
        private static Value batchLastLike(Value map) {
            Shape s = map.requireShape();
            return new Value(map.name() + ".chwn", map.dtype(), Shape.of(s.dim(1), s.dim(2), s.dim(3), s.dim(0)));
        }
    }
}
