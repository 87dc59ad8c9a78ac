package org.sefonnx.generator.quantize;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.sefonnx.generator.weights.OnnxWeights;

/**
 * Who produces and who reads each value of an ONNX graph, its initializers by name and its outputs: what the graph
 * rewrites of this package ask of a model before they change it.
 */
final class GraphIndex {
    private final GraphProto graph;
    private final Map<String, NodeProto> producers = new HashMap<>();
    private final Map<String, List<NodeProto>> consumers = new HashMap<>();
    private final Map<String, TensorProto> initializers = new LinkedHashMap<>();
    private final Set<String> graphOutputs = new HashSet<>();
    private final Set<String> graphInputs = new HashSet<>();

    GraphIndex(GraphProto graph) {
        this.graph = graph;
        for (TensorProto t : graph.getInitializerList()) initializers.put(t.getName(), t);
        for (NodeProto n : graph.getNodeList()) {
            for (String out : n.getOutputList()) if (!out.isEmpty()) producers.put(out, n);
            for (String in : n.getInputList()) {
                if (!in.isEmpty())
                    consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
            }
        }
        for (ValueInfoProto o : graph.getOutputList()) graphOutputs.add(o.getName());
        for (ValueInfoProto i : graph.getInputList()) {
            if (!initializers.containsKey(i.getName())) graphInputs.add(i.getName());
        }
    }

    GraphProto graph() {
        return graph;
    }

    /** The node writing {@code value}, or null for a graph input or an initializer. */
    NodeProto producer(String value) {
        return producers.get(value);
    }

    /** The nodes reading {@code value}, in graph order (a node reading it twice is listed twice). */
    List<NodeProto> consumers(String value) {
        return consumers.getOrDefault(value, List.of());
    }

    boolean isInitializer(String value) {
        return initializers.containsKey(value);
    }

    TensorProto initializer(String value) {
        TensorProto t = initializers.get(value);
        if (t == null) throw new IllegalArgumentException("'" + value + "' is not an initializer of the graph");
        return t;
    }

    Map<String, TensorProto> initializers() {
        return initializers;
    }

    boolean isGraphOutput(String value) {
        return graphOutputs.contains(value);
    }

    boolean isGraphInput(String value) {
        return graphInputs.contains(value);
    }

    /** A float initializer's values (raw or typed data). */
    float[] floats(String initializer) {
        return OnnxWeights.floats(initializer(initializer), Path.of("model"));
    }

    static long[] dims(TensorProto t) {
        long[] d = new long[t.getDimsCount()];
        for (int i = 0; i < d.length; i++) d[i] = t.getDims(i);
        return d;
    }

    /** The int attribute {@code name} of {@code node}, or {@code absent}. */
    static long intAttribute(NodeProto node, String name, long absent) {
        for (AttributeProto a : node.getAttributeList()) if (a.getName().equals(name)) return a.getI();
        return absent;
    }

    /** The float attribute {@code name} of {@code node}, or {@code absent}. */
    static float floatAttribute(NodeProto node, String name, float absent) {
        for (AttributeProto a : node.getAttributeList()) if (a.getName().equals(name)) return a.getF();
        return absent;
    }

    /** Whether {@code value} is read by a node or is a graph output. */
    boolean isUsed(String value) {
        return !consumers(value).isEmpty() || isGraphOutput(value);
    }

    /** {@code g} without the initializers (and their graph-input entries) that no node reads and no output names. */
    static GraphProto withoutUnusedInitializers(GraphProto g) {
        Set<String> used = new HashSet<>();
        for (NodeProto n : g.getNodeList()) used.addAll(n.getInputList());
        for (ValueInfoProto o : g.getOutputList()) used.add(o.getName());
        GraphProto.Builder b = g.toBuilder().clearInitializer().clearInput();
        Set<String> dropped = new HashSet<>();
        for (TensorProto t : g.getInitializerList()) {
            if (used.contains(t.getName())) b.addInitializer(t);
            else dropped.add(t.getName());
        }
        for (ValueInfoProto i : g.getInputList()) if (!dropped.contains(i.getName())) b.addInput(i);
        return b.build();
    }
}
