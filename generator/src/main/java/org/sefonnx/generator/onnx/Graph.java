package org.sefonnx.generator.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * A mutable ONNX graph under construction: typed graph inputs, nodes in topological order (every builder appends
 * after its inputs exist, and a pass's {@link #rewrite} keeps it so), constant initializers and outputs. Parameters
 * are always graph inputs, never initializers, because ORT's training API feeds them from the checkpoint.
 */
public final class Graph {
    /** ONNX IR version 8: what ORT 1.24.1's training API was measured with, as are the two opsets below. */
    public static final long IR_VERSION = 8;
    /** The standard domain's opset. */
    public static final int ONNX_OPSET = 17;
    /** The domain of ORT's contrib kernels (gradients, optimizers, accumulators), imported at version 1. */
    public static final String MS_DOMAIN = "com.microsoft";

    private final String name;
    private final List<Value> inputs = new ArrayList<>();
    private final List<Value> outputs = new ArrayList<>();
    private final List<Node> nodes = new ArrayList<>();
    private final Map<String, TensorProto> initializers = new LinkedHashMap<>();
    private final Map<String, Value> constantsByKey = new HashMap<>();
    private final Map<String, Value> values = new HashMap<>();
    private final Map<String, Integer> nameCounters = new HashMap<>();
    private final Map<String, double[]> constantData = new HashMap<>();
    private final Set<String> sequenceInputs = new HashSet<>();

    public Graph(String name) {
        this.name = name;
    }

    public String name() {
        return name;
    }

    public List<Value> inputs() {
        return List.copyOf(inputs);
    }

    public List<Value> outputs() {
        return List.copyOf(outputs);
    }

    /** The nodes in order, a composite application as one node (what autodiff and the forward passes see). */
    public List<Node> nodes() {
        return List.copyOf(nodes);
    }

    /** The value with this name (an input, constant or node output). */
    public Value value(String valueName) {
        Value v = values.get(valueName);
        if (v == null) throw new IllegalArgumentException("graph " + name + " has no value '" + valueName + "'");
        return v;
    }

    /** The number of nodes of the serialised graph (composite applications counted by their bodies). */
    public int nodeCount() {
        return flattened().size();
    }

    public boolean isConstant(Value v) {
        return v != null && constantData.containsKey(v.name());
    }

    /** The values of a constant made by {@link #constant}; gradient rules read axes and pads from here. */
    public double[] constantValues(Value v) {
        double[] d = constantData.get(v.name());
        if (d == null) throw new IllegalArgumentException(v.name() + " is not a constant of graph " + name);
        return d.clone();
    }

    public long[] constantLongs(Value v) {
        double[] d = constantValues(v);
        long[] l = new long[d.length];
        for (int i = 0; i < l.length; i++) l[i] = (long) d[i];
        return l;
    }

    /** Returns {@code hint} if unused, else {@code hint_2}, {@code hint_3}, ... */
    public String freshName(String hint) {
        if (!values.containsKey(hint) && !nameCounters.containsKey(hint)) {
            nameCounters.put(hint, 1);
            return hint;
        }
        int n = nameCounters.getOrDefault(hint, 1);
        String candidate;
        do {
            n++;
            candidate = hint + "_" + n;
        } while (values.containsKey(candidate));
        nameCounters.put(hint, n);
        return candidate;
    }

    private Value register(Value v) {
        if (values.containsKey(v.name())) throw new IllegalStateException("value name used twice: " + v.name());
        values.put(v.name(), v);
        nameCounters.putIfAbsent(v.name(), 1);
        return v;
    }

    public Value input(String inputName, DType dtype, Shape shape) {
        Value v = register(new Value(inputName, dtype, shape));
        inputs.add(v);
        return v;
    }

    /** A graph input of type seq(tensor(dtype)), as the optimizer model's params/gradients/moments. */
    public Value sequenceInput(String inputName, DType dtype) {
        Value v = input(inputName, dtype, null);
        sequenceInputs.add(inputName);
        return v;
    }

    public void output(Value v) {
        if (!values.containsKey(v.name())) throw new IllegalArgumentException("unknown value " + v.name());
        outputs.add(v);
    }

    /** Renames a value on its way out by an Identity node, so that graph outputs carry stable names. */
    public Value output(Value v, String outputName) {
        if (v.name().equals(outputName)) {
            output(v);
            return v;
        }
        Value out = addNode("Identity", "", List.of(v), List.of(new Value(outputName, v.dtype(), v.shape())), List.of())
                .get(0);
        output(out);
        return out;
    }

    /**
     * Applies {@code composite} to {@code compositeInputs}: runs its forward, whose nodes become the body of one node
     * that stands for them (autodiff differentiates that node by the composite's backward; the serialised graph holds
     * the body). Returns the application's outputs, named after {@code valueName}.
     */
    public List<Value> composite(Composite composite, String valueName, List<Value> compositeInputs) {
        int first = nodes.size();
        Composite.Applied applied = composite.forward(new Ops(this), valueName, compositeInputs);
        List<Node> body = new ArrayList<>(nodes.subList(first, nodes.size()));
        nodes.subList(first, nodes.size()).clear();
        List<Value> in = new ArrayList<>(compositeInputs);
        in.addAll(applied.saved());
        nodes.add(new Node(freshName("composite:" + composite.name()), composite, in, applied.outputs(), body));
        return applied.outputs();
    }

    /** Replaces every composite application by its nodes: once differentiated, a composite is what it computes. */
    public void inlineComposites() {
        List<Node> flat = flattened();
        nodes.clear();
        nodes.addAll(flat);
    }

    private List<Node> flattened() {
        List<Node> flat = new ArrayList<>();
        for (Node n : nodes) addFlattened(n, flat);
        return flat;
    }

    private static void addFlattened(Node n, List<Node> into) {
        if (n.composite() == null) into.add(n);
        else for (Node b : n.body()) addFlattened(b, into);
    }

    /**
     * Rebuilds the node list for a graph pass: {@code pass} sees each node in order, its inputs already rewired by the
     * {@link Rewrite#replace}s made so far, and keeps it or emits other nodes in its place; a replaced graph output is
     * defined as an Identity of its replacement, so that the outputs keep their names. Afterwards every node reads only
     * values defined before it, and constants nothing reads are gone.
     */
    public void rewrite(BiConsumer<Node, Rewrite> pass) {
        List<Node> old = new ArrayList<>(nodes);
        nodes.clear();
        Rewrite r = new Rewrite(this);
        for (Node n : old) pass.accept(n.withInputs(r::current), r);
        // a replaced graph output keeps its name, which is part of the graph's contract
        for (Value v : outputs) {
            Value now = r.current(v);
            if (now != v) r.define("Identity", "", List.of(now), List.of(v), List.of());
        }
        Set<String> read = new HashSet<>();
        for (Node n : flattened()) for (Value v : n.inputs) if (v != null) read.add(v.name());
        for (Value v : outputs) read.add(v.name());
        initializers.keySet().retainAll(read);
        constantData.keySet().retainAll(read);
        constantsByKey.values().removeIf(v -> !read.contains(v.name()));
        values.keySet().retainAll(requireTopologicalOrder());
    }

    /** Checks that each node reads values defined before it and defines its outputs once; returns what is defined. */
    private Set<String> requireTopologicalOrder() {
        Set<String> defined = new HashSet<>(initializers.keySet());
        for (Value v : inputs) defined.add(v.name());
        for (Node n : flattened()) {
            for (Value v : n.inputs)
                if (v != null && !defined.contains(v.name()))
                    throw new IllegalStateException(
                            "graph " + name + ": " + n.name + " reads " + v.name() + " before it is defined");
            for (Value v : n.outputs)
                if (v != null && !defined.add(v.name()))
                    throw new IllegalStateException("graph " + name + ": " + v.name() + " is defined twice");
        }
        for (Value v : outputs)
            if (!defined.contains(v.name()))
                throw new IllegalStateException("graph " + name + ": output " + v.name() + " is not defined");
        return defined;
    }

    /** Appends a node whose outputs are values of this graph already (a pass's replacement). */
    void append(Node n) {
        nodes.add(n);
    }

    /** The registered value of that name is {@code v} itself. */
    boolean isRegistered(Value v) {
        return values.get(v.name()) == v;
    }

    /** A new value like {@code hint}, under a fresh name derived from its name. */
    Value declare(Value hint) {
        return register(new Value(freshName(hint.name()), hint.dtype(), hint.shape()));
    }

    /**
     * Removes every node none of whose outputs is read by a later node or is a graph output (what a pass left
     * behind), and the constants only they read.
     */
    public void removeUnreadNodes() {
        Set<String> read = new HashSet<>();
        for (Value v : outputs) read.add(v.name());
        Set<String> live = new HashSet<>();
        for (int i = nodes.size() - 1; i >= 0; i--) {
            Node n = nodes.get(i);
            if (n.outputs.stream().noneMatch(o -> o != null && read.contains(o.name()))) continue;
            live.add(n.name);
            for (Value v : n.inputs) if (v != null) read.add(v.name());
        }
        if (live.size() == nodes.size()) return;
        rewrite((n, r) -> {
            if (live.contains(n.name)) r.keep(n);
        });
    }

    /**
     * Appends a node. Output values must carry unique names (use {@link #freshName}). Returns the outputs.
     */
    public List<Value> addNode(
            String opType, String domain, List<Value> in, List<Value> out, List<AttributeProto> attrs) {
        for (Value v : in) {
            if (v != null && values.get(v.name()) != v && !values.containsKey(v.name())) {
                throw new IllegalArgumentException(opType + ": input " + v.name() + " is not defined in graph " + name);
            }
        }
        List<Value> registered = new ArrayList<>();
        for (Value v : out) registered.add(v == null ? null : register(v));
        String nodeName = freshName("n:" + opType
                + (out.isEmpty() || out.get(0) == null ? "" : ":" + out.get(0).name()));
        nodes.add(new Node(opType, domain, nodeName, new ArrayList<>(in), registered, attrs));
        return registered;
    }

    // ---- constants ---------------------------------------------------------------------------------------------

    /** A float/half/double constant (deduplicated by content), stored as an initializer. */
    public Value constant(DType dtype, Shape shape, double... data) {
        String key = dtype + shape.toString() + Arrays.toString(data);
        Value cached = constantsByKey.get(key);
        if (cached != null) return cached;
        ByteBuffer bb = ByteBuffer.allocate(data.length * dtype.bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (double d : data) {
            switch (dtype) {
                case FLOAT -> bb.putFloat((float) d);
                case DOUBLE -> bb.putDouble(d);
                case FLOAT16 -> bb.putShort(DType.toHalfBits((float) d));
                case INT64 -> bb.putLong((long) d);
                case BOOL -> bb.put((byte) (d != 0 ? 1 : 0));
            }
        }
        String cname = freshName("const_" + dtype.name().toLowerCase() + "_" + constantsByKey.size());
        TensorProto.Builder t = TensorProto.newBuilder()
                .setName(cname)
                .setDataType(dtype.onnxCode)
                .setRawData(ByteString.copyFrom(bb.array()));
        for (long d : shape.sizes()) t.addDims(d);
        Value v = register(new Value(cname, dtype, shape));
        initializers.put(cname, t.build());
        constantData.put(cname, data.clone());
        constantsByKey.put(key, v);
        return v;
    }

    public Value scalar(DType dtype, double v) {
        return constant(dtype, Shape.SCALAR, v);
    }

    public Value longs(long... data) {
        double[] d = new double[data.length];
        for (int i = 0; i < d.length; i++) d[i] = data[i];
        return constant(DType.INT64, Shape.fixed(data.length), d);
    }

    // ---- serialisation -----------------------------------------------------------------------------------------

    public static ValueInfoProto valueInfo(Value v) {
        TypeProto.Tensor.Builder tt = TypeProto.Tensor.newBuilder().setElemType(v.dtype().onnxCode);
        if (v.shape() != null) {
            TensorShapeProto.Builder sb = TensorShapeProto.newBuilder();
            for (Dim d : v.shape().dims()) {
                sb.addDim(
                        d.isFixed()
                                ? TensorShapeProto.Dimension.newBuilder().setDimValue(d.size())
                                : TensorShapeProto.Dimension.newBuilder().setDimParam(d.symbol()));
            }
            tt.setShape(sb);
        }
        return ValueInfoProto.newBuilder()
                .setName(v.name())
                .setType(TypeProto.newBuilder().setTensorType(tt))
                .build();
    }

    static ValueInfoProto sequenceInfo(Value v) {
        TypeProto elem = TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(v.dtype().onnxCode))
                .build();
        return ValueInfoProto.newBuilder()
                .setName(v.name())
                .setType(TypeProto.newBuilder()
                        .setSequenceType(TypeProto.Sequence.newBuilder().setElemType(elem)))
                .build();
    }

    public GraphProto toGraphProto() {
        GraphProto.Builder g = GraphProto.newBuilder().setName(name);
        for (Value v : inputs) g.addInput(sequenceInputs.contains(v.name()) ? sequenceInfo(v) : valueInfo(v));
        for (Value v : outputs) g.addOutput(valueInfo(v));
        g.addAllInitializer(initializers.values());
        for (Node n : flattened()) {
            var nb = ai.onnx.proto.OnnxMl.NodeProto.newBuilder()
                    .setOpType(n.opType)
                    .setName(n.name)
                    .setDomain(n.domain);
            for (Value v : n.inputs) nb.addInput(v == null ? "" : v.name());
            for (Value v : n.outputs) nb.addOutput(v == null ? "" : v.name());
            nb.addAllAttribute(n.attributes);
            g.addNode(nb);
        }
        return g.build();
    }

    public ModelProto toModel(String producerVersion, String docString) {
        boolean usesMs = flattened().stream().anyMatch(n -> n.domain.equals(MS_DOMAIN));
        ModelProto.Builder m = ModelProto.newBuilder()
                .setIrVersion(IR_VERSION)
                .setProducerName("sef-onnx")
                .setProducerVersion(producerVersion)
                .setDocString(docString == null ? "" : docString)
                .setGraph(toGraphProto())
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(ONNX_OPSET));
        if (usesMs)
            m.addOpsetImport(
                    OperatorSetIdProto.newBuilder().setDomain(MS_DOMAIN).setVersion(1));
        return m.build();
    }
}
