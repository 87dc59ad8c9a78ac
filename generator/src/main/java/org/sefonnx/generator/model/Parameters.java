package org.sefonnx.generator.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sefonnx.generator.onnx.DType;
import org.sefonnx.generator.onnx.Graph;
import org.sefonnx.generator.onnx.Shape;
import org.sefonnx.generator.onnx.Value;

/**
 * Hands checkpoint tensors to the model builders. In recording mode it declares each tensor as a graph input the
 * first time a builder asks for it and remembers the order; {@link #declareAll} then declares a known list up front,
 * so the training and eval graphs list every checkpoint tensor in one and the same order (ORT feeds the eval graph
 * by position, and a different order is silently wrong).
 */
public final class Parameters {
    private final Graph graph;
    private final DType dtype;
    private final boolean recording;
    private final Map<String, Value> values = new LinkedHashMap<>();
    private final List<CheckpointTensor> recorded = new ArrayList<>();

    private Parameters(Graph graph, DType dtype, boolean recording) {
        this.graph = graph;
        this.dtype = dtype;
        this.recording = recording;
    }

    public static Parameters recording(Graph graph, DType dtype) {
        return new Parameters(graph, dtype, true);
    }

    /** Declares {@code tensors} as graph inputs in order; later requests must name one of them. */
    public static Parameters declareAll(Graph graph, DType dtype, List<CheckpointTensor> tensors) {
        Parameters p = new Parameters(graph, dtype, false);
        for (CheckpointTensor t : tensors) {
            p.values.put(t.name(), graph.input(t.name(), dtype, Shape.fixed(t.shape())));
            p.recorded.add(t);
        }
        return p;
    }

    public Value get(String name, long[] shape, TensorInit init, CheckpointTensor.Role role) {
        Value v = values.get(name);
        if (v != null) {
            if (!java.util.Arrays.equals(v.shape().sizes(), shape))
                throw new IllegalStateException("tensor " + name + " requested with two shapes");
            return v;
        }
        if (!recording) throw new IllegalStateException("tensor " + name + " was not declared");
        v = graph.input(name, dtype, Shape.fixed(shape));
        values.put(name, v);
        recorded.add(new CheckpointTensor(name, shape, init, role));
        return v;
    }

    public Value parameter(String name, TensorInit init, long... shape) {
        return get(name, shape, init, CheckpointTensor.Role.PARAMETER);
    }

    public Value runningStat(String name, TensorInit init, long... shape) {
        return get(name, shape, init, CheckpointTensor.Role.RUNNING_STAT);
    }

    public Value value(String name) {
        Value v = values.get(name);
        if (v == null) throw new IllegalArgumentException("no checkpoint tensor " + name);
        return v;
    }

    public List<CheckpointTensor> tensors() {
        return List.copyOf(recorded);
    }
}
