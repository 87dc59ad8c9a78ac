package org.sefonnx.generator.artifacts;

import ai.onnx.proto.OnnxMl.ModelProto;
import org.sefonnx.generator.autodiff.Autodiff;
import org.sefonnx.generator.model.ConvLowering;
import org.sefonnx.generator.autodiff.GradientRegistry;
import org.sefonnx.generator.model.CheckpointTensor;
import org.sefonnx.generator.model.Forward;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.generator.model.SefModel;
import org.sefonnx.generator.model.TensorInit;
import org.sefonnx.generator.onnx.Attr;
import org.sefonnx.generator.onnx.DType;
import org.sefonnx.generator.onnx.Graph;
import org.sefonnx.generator.onnx.Ops;
import org.sefonnx.generator.onnx.Shape;
import org.sefonnx.generator.onnx.Value;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The three ONNX models of ORT's training API for one spec (ort-training.md): the training model (forward, backward,
 * optimizer-state and BatchNorm-statistics write-backs, one InPlaceAccumulatorV2 per parameter), the eval model
 * (BatchNorm on running statistics, every loss term, logits and probabilities) and the optimizer model.
 */
public final class TrainingArtifacts {
    /** Input flag ORT feeds to the gradient accumulators: true = overwrite, false = add. */
    public static final String LAZY_RESET_GRAD = "lazy_reset_grad";
    /** ORT recognises gradient buffers and hides accumulator outputs by these suffixes. */
    public static final String GRAD_BUFFER_SUFFIX = "_grad.accumulation.buffer";
    public static final String GRAD_OUT_SUFFIX = "_grad.accumulation.out";

    public static final List<String> TRAIN_OUTPUTS = List.of(SefModel.LOSS, SefModel.CROSS_ENTROPY, SefModel.ENTROPY,
            SefModel.DISTILLATION, SefModel.GROUPING);
    public static final List<String> EVAL_OUTPUTS = List.of(SefModel.LOSS, SefModel.CROSS_ENTROPY, SefModel.ENTROPY,
            SefModel.DISTILLATION, SefModel.GROUPING, SefModel.LOGITS, SefModel.PROBABILITIES);
    /** What ExportModelForInferencing keeps: the backbone and the global head. */
    public static final List<String> INFERENCE_OUTPUTS = List.of(SefModel.LOGITS, SefModel.PROBABILITIES);

    /**
     * The built models and what they were built from: {@code training} with {@link ConvLowering#CONV} (for CUDA),
     * {@code cpuTraining} with {@link ConvLowering#GEMM} (for the CPU); both read and write the same checkpoint tensors.
     */
    public record Models(ModelSpec spec, ModelProto training, ModelProto cpuTraining, ModelProto eval, ModelProto optimizer,
                         List<CheckpointTensor> checkpointTensors, int trainingNodeCount, int evalNodeCount) {
        public List<CheckpointTensor> trainable() {
            return checkpointTensors.stream().filter(CheckpointTensor::trainable).toList();
        }

        public List<CheckpointTensor> frozen() {
            return checkpointTensors.stream().filter(t -> !t.trainable()).toList();
        }
    }

    private TrainingArtifacts() {}

    /** Checkpoint tensors in graph order: parameters, BN running statistics, then momentum buffers (SGD only). */
    public static List<CheckpointTensor> checkpointTensors(ModelSpec spec) {
        List<CheckpointTensor> model = SefModel.modelTensors(spec);
        List<CheckpointTensor> all = new ArrayList<>(model);
        if (spec.optimizer() == ModelSpec.Optimizer.SGD_MOMENTUM) {
            for (CheckpointTensor t : model) {
                if (t.trainable()) all.add(new CheckpointTensor(t.name() + CheckpointTensor.MOMENTUM_SUFFIX, t.shape(),
                        TensorInit.constant(0), CheckpointTensor.Role.MOMENTUM));
            }
        }
        return all;
    }

    public static Models build(ModelSpec spec) {
        List<CheckpointTensor> tensors = checkpointTensors(spec);
        ModelProto training = trainingGraph(spec, tensors, ConvLowering.CONV);
        SefModel.Built eval = SefModel.forward(spec, "sef_eval_" + spec.id(), false, DType.FLOAT, tensors);
        Graph eg = eval.graph();
        eg.output(eval.terms().total(), SefModel.LOSS);
        eg.output(eval.terms().crossEntropy(), SefModel.CROSS_ENTROPY);
        eg.output(eval.terms().entropy(), SefModel.ENTROPY);
        eg.output(eval.terms().distillation(), SefModel.DISTILLATION);
        eg.output(eval.terms().grouping(), SefModel.GROUPING);
        eg.output(eval.logits().global(), SefModel.LOGITS);
        eg.output(eval.terms().probabilities(), SefModel.PROBABILITIES);
        String doc = "sef-onnx " + spec.id() + "\n" + spec.toProperties();
        return new Models(spec, training, trainingGraph(spec, tensors, ConvLowering.GEMM), eg.toModel(version(), doc), optimizerGraph(spec).toModel(version(), doc),
                tensors, training.getGraph().getNodeCount(), eg.nodeCount());
    }

    static String version() {
        String v = TrainingArtifacts.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    /** The training model alone, convolutions' backward lowered for a target device. */
    public static ModelProto trainingGraph(ModelSpec spec, ConvLowering lowering) {
        return trainingGraph(spec, checkpointTensors(spec), lowering);
    }

    private static ModelProto trainingGraph(ModelSpec spec, List<CheckpointTensor> tensors, ConvLowering lowering) {
        SefModel.Built fwd = SefModel.forward(spec, "sef_training_" + spec.id(), true, DType.FLOAT, tensors, lowering);
        Graph g = fwd.graph();
        Ops ops = new Ops(g);
        Value loss = g.output(fwd.terms().total(), SefModel.LOSS);
        g.output(fwd.terms().crossEntropy(), SefModel.CROSS_ENTROPY);
        g.output(fwd.terms().entropy(), SefModel.ENTROPY);
        g.output(fwd.terms().distillation(), SefModel.DISTILLATION);
        g.output(fwd.terms().grouping(), SefModel.GROUPING);

        List<Value> params = new ArrayList<>();
        for (CheckpointTensor t : tensors) if (t.trainable()) params.add(fwd.forward().params.value(t.name()));
        Map<Value, Value> grads = new Autodiff(GradientRegistry.standard()).gradients(g, loss, params);

        Value overwrite = g.constant(DType.BOOL, Shape.fixed(1), 1);
        List<Value[]> accumulators = new ArrayList<>();
        for (Value p : params) {
            Value grad = grads.get(p);
            Value update = grad;
            if (spec.optimizer() == ModelSpec.Optimizer.SGD_MOMENTUM) {
                // PyTorch SGD: d = g + wd·p; m = μ·m + d; the optimizer graph then does p -= lr·m. The momentum
                // buffer is a frozen checkpoint tensor overwritten in place; its only reader (μ·m) is upstream of m'.
                if (spec.weightDecay() != 0) update = ops.add(p.name() + ".decayed_grad", grad, ops.mul(p.name() + ".decay", p, g.scalar(DType.FLOAT, spec.weightDecay())));
                Value momentum = fwd.forward().params.value(p.name() + CheckpointTensor.MOMENTUM_SUFFIX);
                Value next = ops.add(momentum.name() + ".next", ops.mul(momentum.name() + ".scaled", momentum, g.scalar(DType.FLOAT, spec.momentum())), update);
                writeBack(g, ops, momentum, next, overwrite);
                update = next;
            }
            accumulators.add(new Value[]{p, update});
        }
        for (Forward.StateUpdate u : fwd.forward().stateUpdates()) writeBack(g, ops, u.state(), u.newValue(), overwrite);
        // gradient buffers and the reset flag come after every checkpoint tensor in the input list
        List<Value> buffers = new ArrayList<>();
        for (Value[] a : accumulators) buffers.add(g.input(a[0].name() + GRAD_BUFFER_SUFFIX, DType.FLOAT, a[0].shape()));
        Value reset = g.input(LAZY_RESET_GRAD, DType.BOOL, Shape.fixed(1));
        for (int i = 0; i < accumulators.size(); i++) {
            Value p = accumulators.get(i)[0];
            Value out = ops.node("InPlaceAccumulatorV2", Graph.MS_DOMAIN, List.of(buffers.get(i), accumulators.get(i)[1], reset),
                    List.of(new Value(p.name() + GRAD_OUT_SUFFIX, DType.BOOL, Shape.fixed(1))), null).get(0);
            g.output(out);
        }
        return g.toModel(version(), "sef-onnx training graph " + spec.id() + "\n" + spec.toProperties());
    }

    /** state ← next, in place; the BOOL output carries ORT's hidden-output suffix so TrainStep does not return it. */
    private static void writeBack(Graph g, Ops ops, Value state, Value next, Value overwrite) {
        Value out = ops.node("InPlaceAccumulatorV2", Graph.MS_DOMAIN, List.of(state, next, overwrite),
                List.of(new Value(state.name() + GRAD_OUT_SUFFIX, DType.BOOL, Shape.fixed(1))), null).get(0);
        g.output(out);
    }

    /** One com.microsoft optimizer node over the sequence inputs ORT feeds (one parameter group). */
    static Graph optimizerGraph(ModelSpec spec) {
        Graph o = new Graph("optimizer_" + spec.id());
        Ops ops = new Ops(o);
        Value lr = o.input("learning_rate", DType.FLOAT, Shape.fixed(1));
        Value step = o.input("step", DType.INT64, Shape.fixed(1));
        Value params = o.sequenceInput("params", DType.FLOAT);
        Value gradients = o.sequenceInput("gradients", DType.FLOAT);
        Value first = o.sequenceInput("first_order_moments", DType.FLOAT);
        Value done;
        if (spec.optimizer() == ModelSpec.Optimizer.SGD_MOMENTUM) {
            // plain w -= lr·g; the gradient buffer already holds the momentum m'. The moments input is required by
            // ORT's optimizer input check although SGDOptimizerV2 does not read it.
            done = ops.node("SGDOptimizerV2", Graph.MS_DOMAIN, List.of(lr, params, gradients),
                    List.of(new Value("update_completed", DType.BOOL, Shape.fixed(1))), null).get(0);
        } else {
            Value second = o.sequenceInput("second_order_moments", DType.FLOAT);
            done = ops.node("AdamWOptimizer", Graph.MS_DOMAIN, List.of(lr, step, params, gradients, first, second),
                    List.of(new Value("update_completed", DType.BOOL, Shape.fixed(1))), null,
                    Attr.f("alpha", 0.9f), Attr.f("beta", 0.999f),
                    Attr.f("epsilon", 1e-8f), Attr.f("weight_decay", (float) spec.weightDecay()),
                    Attr.i("correct_bias", 1), Attr.i("adam_mode", 1)).get(0);
        }
        o.output(done);
        return o;
    }
}
