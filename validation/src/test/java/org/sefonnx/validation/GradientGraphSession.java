package org.sefonnx.validation;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.generator.artifacts.GradientCheckGraph;
import org.sefonnx.generator.artifacts.InitialWeights;
import org.sefonnx.generator.artifacts.TrainingTarget;
import org.sefonnx.generator.model.CheckpointTensor;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.ort.OrtAdapter;

/** A {@link GradientCheckGraph} in a plain ORT session: evaluates loss terms and gradients at given weights. */
final class GradientGraphSession implements AutoCloseable {
    final ModelSpec spec;
    final GradientCheckGraph.Built built;
    final OrtAdapter.Inference session;

    GradientGraphSession(ModelSpec spec, Path dir, List<String> extraOutputs) throws IOException {
        this(spec, dir, extraOutputs, TrainingTarget.CUDA);
    }

    GradientGraphSession(ModelSpec spec, Path dir, List<String> extraOutputs, TrainingTarget target)
            throws IOException {
        this(spec, dir, extraOutputs, target, Ort.CPU);
    }

    GradientGraphSession(
            ModelSpec spec, Path dir, List<String> extraOutputs, TrainingTarget target, OrtAdapter.SessionConfig config)
            throws IOException {
        this.spec = spec;
        this.built = GradientCheckGraph.build(spec, extraOutputs, target);
        Path model = dir.resolve("gradcheck_" + spec.id() + "_" + target.label() + ".onnx");
        Files.write(model, built.model().toByteArray());
        this.session = Ort.ADAPTER.openInference(model, config);
    }

    /** PyTorch-default initial values of every input tensor (parameters and running statistics), by name. */
    Map<String, float[]> initialWeights(long seed) {
        Map<String, float[]> w = new LinkedHashMap<>();
        for (CheckpointTensor t : built.inputs()) w.put(t.name(), InitialWeights.values(t, seed));
        return w;
    }

    /** Runs the graph; returns the requested outputs by name. */
    Map<String, HostTensor> run(
            Map<String, float[]> weights, HostTensor images, HostTensor labels, List<String> outputs) {
        List<String> names = new ArrayList<>(List.of(TensorNames.IMAGES, TensorNames.LABELS));
        List<HostTensor> inputs = new ArrayList<>(List.of(images, labels));
        for (CheckpointTensor t : built.inputs()) {
            names.add(t.name());
            inputs.add(HostTensor.floats(weights.get(t.name()), t.shape()));
        }
        List<HostTensor> o = session.run(names, inputs, outputs);
        Map<String, HostTensor> r = new LinkedHashMap<>();
        for (int i = 0; i < outputs.size(); i++) r.put(outputs.get(i), o.get(i));
        return r;
    }

    List<String> gradientOutputs() {
        return built.parameters().stream()
                .map(t -> t.name() + GradientCheckGraph.GRAD_SUFFIX)
                .toList();
    }

    @Override
    public void close() {
        session.close();
    }
}
