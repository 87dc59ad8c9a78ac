package org.sefonnx.generator.quantize;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.sefonnx.generator.onnx.DType;
import org.sefonnx.generator.quantize.Int8Arithmetic.ActivationParams;

/**
 * A {@link QdqPlan} written out as a QDQ model: each uint8 tensor gets one QuantizeLinear after the node that writes it
 * and one DequantizeLinear per reader (ORT fuses DQ → op → Q groups only when each DQ has one reader); each int8
 * convolution reads its weight as int8 per output channel and its bias as int32 through DequantizeLinear. The model
 * stays a valid float model to any ONNX runtime; ORT's CPU provider replaces the groups by QLinearConv, QLinearAdd and
 * a uint8 MaxPool (docs/int8.md). Tensor names of the float model are kept where they survive.
 */
public final class QdqRewrite {
    private static final String QUANTIZED = ".q", DEQUANTIZED = ".dq", SCALE = ".qscale", ZERO_POINT = ".qzero";
    private static final String INT8_WEIGHT = ".int8", INT32_BIAS = ".int32";
    /** The suffix of the extra outputs {@link #rewrite} adds with {@code inspect}: tensor T comes out as T + this. */
    public static final String INSPECTED = ".int8_value";

    private static final int UINT8 = 2, INT8 = 3, INT32 = 6;

    private QdqRewrite() {}

    /**
     * The QDQ model of {@code plan} with the calibrated {@code params} (one per {@link QdqPlan#calibratedTensors}),
     * {@code metadata} added to the model's. With {@code inspect}, every uint8 tensor T is also a float graph output
     * T{@value #INSPECTED} (its dequantized value), for the per-layer comparison with the float model.
     */
    public static ModelProto rewrite(
            QdqPlan plan, Map<String, ActivationParams> params, Map<String, String> metadata, boolean inspect) {
        ModelProto model = plan.model();
        GraphProto g = model.getGraph();
        GraphIndex index = new GraphIndex(g);
        Map<String, ActivationParams> all = new LinkedHashMap<>();
        for (String t : plan.quantizedTensors()) {
            String source = t;
            while (plan.inheritsFrom(source) != null) source = plan.inheritsFrom(source);
            ActivationParams p = params.get(source);
            if (p == null) throw new IllegalArgumentException("no calibrated range for tensor '" + source + "'");
            all.put(t, p);
        }
        Map<NodeProto, QdqPlan.Unit> units = new java.util.IdentityHashMap<>();
        Set<NodeProto> absorbed = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (QdqPlan.Unit u : plan.units()) {
            units.put(u.node(), u);
            if (u.absorbedRelu() == null) continue;
            absorbed.add(u.absorbedRelu());
            // the ReLU is gone: only a zero point at the bottom of the uint8 range still clamps negatives to 0
            if (all.get(u.output()).zeroPoint() != Int8Arithmetic.U8_MIN) {
                throw new IllegalArgumentException("'" + u.output() + "' is a ReLU's output, absorbed into "
                        + u.layer() + ": its range must start at 0 (zero point 0), got zero point "
                        + all.get(u.output()).zeroPoint());
            }
        }

        Emitter e = new Emitter(index);
        for (Map.Entry<String, ActivationParams> t : all.entrySet()) e.activationParams(t.getKey(), t.getValue());
        // a uint8 tensor that is a graph input is quantized before anything reads it
        for (String t : all.keySet()) if (index.isGraphInput(t)) e.quantize(t, t, plan, inspect);
        for (NodeProto n : g.getNodeList()) {
            if (absorbed.contains(n)) continue;
            QdqPlan.Unit u = units.get(n);
            NodeProto.Builder b = n.toBuilder().clearInput();
            for (int i = 0; i < n.getInputCount(); i++) {
                String in = n.getInput(i);
                boolean quantizedReader = u != null && u.activations().contains(in);
                if (all.containsKey(in) && (quantizedReader || plan.unitWriting(in) != null)) in = e.dequantized(in);
                else if (u != null && u.kind() == QdqPlan.Kind.CONV && i == 1)
                    in = e.convWeight(n, all.get(n.getInput(0)));
                else if (u != null && u.kind() == QdqPlan.Kind.CONV && i == 2 && !in.isEmpty())
                    in = e.convBias(n, all.get(n.getInput(0)));
                b.addInput(in);
            }
            if (u != null) {
                String written = e.nodeOutputFor(u.output(), u.nodeOutput());
                // a MaxPool loses its Indices output, which the uint8 kernel lacks (the plan checked nothing reads it)
                if (u.kind() == QdqPlan.Kind.MAX_POOL) b.clearOutput().addOutput(written);
                else b.setOutput(0, written);
                e.node(b.build());
                e.quantize(u.output(), written, plan, inspect);
            } else {
                e.node(b.build());
                for (String out : n.getOutputList()) {
                    if (all.containsKey(out) && plan.unitWriting(out) == null) e.quantize(out, out, plan, inspect);
                }
            }
        }
        GraphProto.Builder out = g.toBuilder().clearNode().addAllNode(e.nodes).addAllInitializer(e.initializers);
        for (String t : e.inspected) out.addOutput(floatOutput(t));
        ModelProto.Builder m = model.toBuilder().setGraph(GraphIndex.withoutUnusedInitializers(out.build()));
        for (Map.Entry<String, String> kv : metadata.entrySet()) {
            for (int i = m.getMetadataPropsCount() - 1; i >= 0; i--)
                if (m.getMetadataProps(i).getKey().equals(kv.getKey())) m.removeMetadataProps(i);
            m.addMetadataProps(
                    StringStringEntryProto.newBuilder().setKey(kv.getKey()).setValue(kv.getValue()));
        }
        return m.build();
    }

    /** {@code model} with {@code tensors} (values its nodes write) as extra float outputs, for calibration. */
    public static ModelProto withOutputs(ModelProto model, List<String> tensors) {
        GraphProto.Builder g = model.getGraph().toBuilder();
        Set<String> present = new HashSet<>();
        for (ValueInfoProto o : g.getOutputList()) present.add(o.getName());
        for (String t : tensors) if (present.add(t)) g.addOutput(floatOutput(t));
        return model.toBuilder().setGraph(g).build();
    }

    private static ValueInfoProto floatOutput(String name) {
        return ValueInfoProto.newBuilder()
                .setName(name)
                .setType(TypeProto.newBuilder()
                        .setTensorType(TypeProto.Tensor.newBuilder().setElemType(DType.FLOAT.onnxCode)))
                .build();
    }

    /** The nodes and initializers of the rewritten graph, in order. */
    private static final class Emitter {
        final GraphIndex index;
        final List<NodeProto> nodes = new ArrayList<>();
        final List<TensorProto> initializers = new ArrayList<>();
        final List<String> inspected = new ArrayList<>();
        final Map<String, Integer> readers = new LinkedHashMap<>();
        final Set<String> names = new HashSet<>();
        final Map<NodeProto, WeightQuantization> weights = new java.util.IdentityHashMap<>();

        Emitter(GraphIndex index) {
            this.index = index;
            for (NodeProto n : index.graph().getNodeList()) {
                names.addAll(n.getInputList());
                names.addAll(n.getOutputList());
            }
            names.addAll(index.initializers().keySet());
        }

        String fresh(String name) {
            if (!names.add(name)) throw new IllegalStateException("the model already has a value named " + name);
            return name;
        }

        void node(NodeProto n) {
            nodes.add(n);
        }

        void activationParams(String tensor, ActivationParams p) {
            initializers.add(scalar(fresh(tensor + SCALE), DType.FLOAT.onnxCode, floatBytes(new float[] {p.scale()})));
            initializers.add(scalar(fresh(tensor + ZERO_POINT), UINT8, new byte[] {(byte) p.zeroPoint()}));
        }

        /**
         * What the int8 node writing {@code tensor} writes: its own output, or, when {@code tensor} is a graph output
         * the node wrote directly, a new name (the graph output then comes out of a DequantizeLinear).
         */
        String nodeOutputFor(String tensor, String nodeOutput) {
            return nodeOutput.equals(tensor) && index.isGraphOutput(tensor) ? fresh(tensor + ".float") : nodeOutput;
        }

        /** The QuantizeLinear of {@code tensor} reading {@code source}; a graph-output tensor written by an int8 node gets its DequantizeLinear. */
        void quantize(String tensor, String source, QdqPlan plan, boolean inspect) {
            nodes.add(qdq("QuantizeLinear", tensor, source, fresh(tensor + QUANTIZED)));
            if (plan.unitWriting(tensor) != null && index.isGraphOutput(tensor))
                nodes.add(qdq("DequantizeLinear", tensor, tensor + QUANTIZED, tensor));
            if (inspect) {
                inspected.add(fresh(tensor + INSPECTED));
                nodes.add(qdq("DequantizeLinear", tensor, tensor + QUANTIZED, tensor + INSPECTED));
            }
        }

        /** A new DequantizeLinear of {@code tensor} for one reader. */
        String dequantized(String tensor) {
            int k = readers.merge(tensor, 1, Integer::sum) - 1;
            String out = fresh(tensor + DEQUANTIZED + k);
            nodes.add(qdq("DequantizeLinear", tensor, tensor + QUANTIZED, out));
            return out;
        }

        private NodeProto qdq(String op, String tensor, String in, String out) {
            return NodeProto.newBuilder()
                    .setOpType(op)
                    .setName(out + "." + op)
                    .addInput(in)
                    .addInput(tensor + SCALE)
                    .addInput(tensor + ZERO_POINT)
                    .addOutput(out)
                    .build();
        }

        /** The int8 per-channel weight of {@code conv} and its DequantizeLinear; returns the float value it gives. */
        String convWeight(NodeProto conv, ActivationParams input) {
            WeightQuantization q = weights.computeIfAbsent(conv, c -> WeightQuantization.of(index, c, input));
            String w = conv.getInput(1);
            TensorProto weight = index.initializer(w);
            TensorProto.Builder t = TensorProto.newBuilder()
                    .setName(fresh(w + INT8_WEIGHT))
                    .setDataType(INT8)
                    .setRawData(ByteString.copyFrom(q.weights()));
            for (long d : weight.getDimsList()) t.addDims(d);
            initializers.add(t.build());
            initializers.add(vector(
                    fresh(w + SCALE), DType.FLOAT.onnxCode, floatBytes(q.weightScales()), q.weightScales().length));
            initializers.add(
                    vector(fresh(w + ZERO_POINT), INT8, new byte[q.weightScales().length], q.weightScales().length));
            return perChannelDequantize(w, INT8_WEIGHT);
        }

        /** The int32 bias of {@code conv} (scale x_scale · w_scale[c]) and its DequantizeLinear. */
        String convBias(NodeProto conv, ActivationParams input) {
            WeightQuantization q = weights.computeIfAbsent(conv, c -> WeightQuantization.of(index, c, input));
            String bias = conv.getInput(2);
            int channels = q.biases().length;
            ByteBuffer ints = ByteBuffer.allocate(4 * channels).order(ByteOrder.LITTLE_ENDIAN);
            for (int v : q.biases()) ints.putInt(v);
            initializers.add(vector(fresh(bias + INT32_BIAS), INT32, ints.array(), channels));
            initializers.add(vector(fresh(bias + SCALE), DType.FLOAT.onnxCode, floatBytes(q.biasScales()), channels));
            initializers.add(vector(fresh(bias + ZERO_POINT), INT32, new byte[4 * channels], channels));
            return perChannelDequantize(bias, INT32_BIAS);
        }

        private String perChannelDequantize(String name, String storedSuffix) {
            String out = fresh(name + DEQUANTIZED);
            nodes.add(NodeProto.newBuilder()
                    .setOpType("DequantizeLinear")
                    .setName(out + ".DequantizeLinear")
                    .addInput(name + storedSuffix)
                    .addInput(name + SCALE)
                    .addInput(name + ZERO_POINT)
                    .addOutput(out)
                    .addAttribute(AttributeProto.newBuilder()
                            .setName("axis")
                            .setType(AttributeProto.AttributeType.INT)
                            .setI(0))
                    .build());
            return out;
        }
    }

    /** A conv's weights and bias in int8/int32 for an input quantized with {@code input}'s scale. */
    record WeightQuantization(byte[] weights, float[] weightScales, int[] biases, float[] biasScales) {
        static WeightQuantization of(GraphIndex index, NodeProto conv, ActivationParams input) {
            float[] w = index.floats(conv.getInput(1));
            int channels = (int) index.initializer(conv.getInput(1)).getDims(0);
            float[] scales = Int8Arithmetic.weightScales(w, channels);
            boolean hasBias = conv.getInputCount() > 2 && !conv.getInput(2).isEmpty();
            float[] bias = hasBias ? index.floats(conv.getInput(2)) : new float[channels];
            Int8Arithmetic.fitBiasInInt32(bias, input.scale(), scales);
            float[] biasScales = Int8Arithmetic.biasScales(input.scale(), scales);
            return new WeightQuantization(
                    Int8Arithmetic.quantizeWeights(w, scales),
                    scales,
                    Int8Arithmetic.quantizeBias(bias, biasScales),
                    biasScales);
        }
    }

    private static byte[] floatBytes(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) b.putFloat(v);
        return b.array();
    }

    private static TensorProto scalar(String name, int type, byte[] raw) {
        return TensorProto.newBuilder()
                .setName(name)
                .setDataType(type)
                .setRawData(ByteString.copyFrom(raw))
                .build();
    }

    private static TensorProto vector(String name, int type, byte[] raw, int length) {
        return TensorProto.newBuilder()
                .setName(name)
                .setDataType(type)
                .addDims(length)
                .setRawData(ByteString.copyFrom(raw))
                .build();
    }
}
