package org.sefonnx.generator.artifacts;

import ai.onnx.proto.OnnxMl.ModelProto;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.generator.autodiff.Autodiff;
import org.sefonnx.generator.autodiff.GradientRegistry;
import org.sefonnx.generator.model.CheckpointTensor;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.generator.model.SefModel;
import org.sefonnx.generator.onnx.DType;
import org.sefonnx.generator.onnx.Graph;
import org.sefonnx.generator.onnx.Value;
import org.sefonnx.generator.passes.GraphPass;

/**
 * A plain (inference-session) model of the training-mode forward and its backward: parameters are inputs, and the
 * outputs are the loss terms, every parameter gradient ({@code <name>.grad}) and any requested intermediate values.
 * Finite-difference and optimizer checks evaluate gradients with it at arbitrary weights. Test support (validation's
 * tests use it through the generator's test-jar); it sits in this package to share {@link TrainingArtifacts#version()}.
 */
public final class GradientCheckGraph {
    public static final String GRAD_SUFFIX = ".grad";
    /** The post-ReLU last feature map X the grouping loss reads. */
    public static final String FEATURE_MAP = TensorNames.FEATURE_MAP;
    /** Prefix of the group heads' logits outputs ({@code group_logits.0} ...). */
    public static final String GROUP_LOGITS = TensorNames.GROUP_LOGITS + ".";

    /** The model, and the trainable parameters in its input order. */
    public record Built(
            ModelProto model, List<CheckpointTensor> parameters, List<CheckpointTensor> inputs, List<String> outputs) {}

    private GradientCheckGraph() {}

    /** The graph as the CUDA target computes it: the model as built, Conv and ConvGrad. */
    public static Built build(ModelSpec spec, List<String> extraOutputs) {
        return build(spec, extraOutputs, TrainingTarget.CUDA);
    }

    /** The same computed as {@code target}'s training graph computes it: after that target's passes. */
    public static Built build(ModelSpec spec, List<String> extraOutputs, TrainingTarget target) {
        List<CheckpointTensor> tensors = SefModel.modelTensors(spec);
        List<CheckpointTensor> params =
                tensors.stream().filter(CheckpointTensor::trainable).toList();
        // running statistics are inputs too: the training-mode forward computes their next values (unused here)
        SefModel.Built fwd = SefModel.forward(spec, "sef_gradcheck_" + spec.id(), true, DType.FLOAT, tensors);
        Graph g = fwd.graph();
        List<String> outputs = new ArrayList<>();
        Value loss = g.output(fwd.terms().total(), TensorNames.LOSS);
        outputs.add(TensorNames.LOSS);
        for (var e : List.of(
                Map.entry(TensorNames.CROSS_ENTROPY, fwd.terms().crossEntropy()),
                Map.entry(TensorNames.ENTROPY, fwd.terms().entropy()),
                Map.entry(TensorNames.DISTILLATION, fwd.terms().distillation()),
                Map.entry(TensorNames.GROUPING, fwd.terms().grouping()),
                Map.entry(TensorNames.LOGITS, fwd.logits().global()))) {
            g.output(e.getValue(), e.getKey());
            outputs.add(e.getKey());
        }
        g.output(fwd.featureMap(), FEATURE_MAP);
        outputs.add(FEATURE_MAP);
        for (int i = 0; i < fwd.logits().groups().size(); i++) {
            g.output(fwd.logits().groups().get(i), GROUP_LOGITS + i);
            outputs.add(GROUP_LOGITS + i);
        }
        for (String name : extraOutputs) {
            g.output(g.value(name), "out." + name);
            outputs.add("out." + name);
        }
        List<Value> paramValues =
                params.stream().map(t -> fwd.forward().params.value(t.name())).toList();
        target.apply(GraphPass.Phase.FORWARD, g);
        Map<Value, Value> grads = new Autodiff(GradientRegistry.standard()).gradients(g, loss, paramValues);
        g.inlineComposites();
        for (Value p : paramValues) {
            g.output(grads.get(p), p.name() + GRAD_SUFFIX);
            outputs.add(p.name() + GRAD_SUFFIX);
        }
        target.apply(GraphPass.Phase.TRAINING, g);
        return new Built(
                g.toModel(TrainingArtifacts.version(), "gradient check " + spec.id()), params, tensors, outputs);
    }
}
