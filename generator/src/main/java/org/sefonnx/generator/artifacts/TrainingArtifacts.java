package org.sefonnx.generator.artifacts;

import ai.onnx.proto.OnnxMl.ModelProto;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.sefonnx.contract.Precision;
import org.sefonnx.contract.StepSignature;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.generator.autodiff.Autodiff;
import org.sefonnx.generator.autodiff.GradientRegistry;
import org.sefonnx.generator.model.CheckpointTensor;
import org.sefonnx.generator.model.Forward;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.generator.model.SefModel;
import org.sefonnx.generator.model.TensorInit;
import org.sefonnx.generator.onnx.Attr;
import org.sefonnx.generator.onnx.DType;
import org.sefonnx.generator.onnx.Graph;
import org.sefonnx.generator.onnx.MsOp;
import org.sefonnx.generator.onnx.Ops;
import org.sefonnx.generator.onnx.Shape;
import org.sefonnx.generator.onnx.Value;
import org.sefonnx.generator.passes.GraphPass;

/**
 * The three ONNX models of ORT's training API for one spec (docs/ort-training.md): the training model (forward, backward,
 * optimizer-state and BatchNorm-statistics write-backs, one InPlaceAccumulatorV2 per parameter), the eval model
 * (BatchNorm on running statistics, every loss term, logits and probabilities) and the optimizer model.
 */
public final class TrainingArtifacts {
    /** Input flag ORT feeds to the gradient accumulators: true = overwrite, false = add. */
    public static final String LAZY_RESET_GRAD = "lazy_reset_grad";
    /** The suffix by which ORT recognises a parameter's gradient buffer among the inputs. */
    public static final String GRAD_BUFFER_SUFFIX = "_grad.accumulation.buffer";
    /** The suffix by which ORT hides an accumulator's output from TrainStep's outputs. */
    public static final String GRAD_OUT_SUFFIX = "_grad.accumulation.out";

    /**
     * The built models and what they were built from: one training model per {@link TrainingTarget}, all reading and
     * writing the same checkpoint tensors.
     */
    public record Models(
            ModelSpec spec,
            Map<TrainingTarget, ModelProto> training,
            ModelProto eval,
            ModelProto optimizer,
            List<CheckpointTensor> checkpointTensors) {
        public Models {
            training = Map.copyOf(training);
        }

        /** The training model for {@code target}. */
        public ModelProto training(TrainingTarget target) {
            return training.get(target);
        }

        /** The node count of {@code target}'s training graph. */
        public int trainingNodeCount(TrainingTarget target) {
            return training(target).getGraph().getNodeCount();
        }

        /** The node count of the eval graph. */
        public int evalNodeCount() {
            return eval.getGraph().getNodeCount();
        }

        /** The trainable checkpoint tensors (parameters), in graph order. */
        public List<CheckpointTensor> trainable() {
            return checkpointTensors.stream()
                    .filter(CheckpointTensor::trainable)
                    .toList();
        }

        /** The frozen checkpoint tensors (BatchNorm running statistics, momentum buffers), in graph order. */
        public List<CheckpointTensor> frozen() {
            return checkpointTensors.stream().filter(t -> !t.trainable()).toList();
        }
    }

    /**
     * How the training graph computes: the backbone's and heads' type, and whether the loss is scaled by a fed
     * {@code loss_scale} (gradients unscaled in float32, an all-finite flag gating the momentum and gradient
     * write-backs). FP16 specs get (FLOAT16, true); a float32 graph with loss scaling runs on the CPU, which has no
     * fp16 ConvGrad, and lets tests drive the skip logic numerically.
     */
    public record Arithmetic(DType compute, boolean lossScaling) {
        public static Arithmetic of(ModelSpec spec) {
            return spec.precision() == Precision.FP16
                    ? new Arithmetic(DType.FLOAT16, true)
                    : new Arithmetic(DType.FLOAT, false);
        }
    }

    private TrainingArtifacts() {}

    /** The contract's TrainStep for this spec's arithmetic: the graph built here takes and returns exactly these names. */
    public static StepSignature trainStep(ModelSpec spec) {
        return StepSignature.trainStep(Arithmetic.of(spec).lossScaling());
    }

    /** Checkpoint tensors in graph order: parameters, BN running statistics, then momentum buffers (SGD only). */
    public static List<CheckpointTensor> checkpointTensors(ModelSpec spec) {
        List<CheckpointTensor> model = SefModel.modelTensors(spec);
        List<CheckpointTensor> all = new ArrayList<>(model);
        if (spec.optimizer() == ModelSpec.Optimizer.SGD_MOMENTUM) {
            for (CheckpointTensor t : model) {
                if (t.trainable())
                    all.add(new CheckpointTensor(
                            t.name() + CheckpointTensor.MOMENTUM_SUFFIX,
                            t.shape(),
                            TensorInit.constant(0),
                            CheckpointTensor.Role.MOMENTUM));
            }
        }
        return all;
    }

    /** The artifacts of {@code spec} in its own arithmetic. */
    public static Models build(ModelSpec spec) {
        return build(spec, Arithmetic.of(spec));
    }

    /**
     * The artifacts with the training graph in the given arithmetic. The eval graph is float32 for every spec: the
     * master weights are float32, so it is exact, runs on any device, and its inference export needs no fp16 kernels.
     */
    public static Models build(ModelSpec spec, Arithmetic arithmetic) {
        List<CheckpointTensor> tensors = checkpointTensors(spec);
        // an fp16 spec trains on CUDA only (the CPU has no fp16 kernels); its CPU graph, in the same arithmetic, keeps
        // the files and their inputs and outputs uniform across specs
        Map<TrainingTarget, ModelProto> training = new EnumMap<>(TrainingTarget.class);
        for (TrainingTarget target : TrainingTarget.values())
            training.put(target, trainingModel(spec, arithmetic, target));
        SefModel.Built eval = SefModel.forward(spec, "sef_eval_" + spec.id(), false, DType.FLOAT, tensors);
        Graph eg = eval.graph();
        eg.output(eval.terms().total(), TensorNames.LOSS);
        eg.output(eval.terms().crossEntropy(), TensorNames.CROSS_ENTROPY);
        eg.output(eval.terms().entropy(), TensorNames.ENTROPY);
        eg.output(eval.terms().distillation(), TensorNames.DISTILLATION);
        eg.output(eval.terms().grouping(), TensorNames.GROUPING);
        eg.output(eval.logits().global(), TensorNames.LOGITS);
        eg.output(eval.terms().probabilities(), TensorNames.PROBABILITIES);
        // explain outputs: training graphs are untouched, EvalStep returns these besides the loss terms
        eg.output(stackedGroupLogits(new Ops(eg), eval.logits().groups()), TensorNames.GROUP_LOGITS);
        eg.output(eval.terms().groupBlockSums(), TensorNames.GROUP_BLOCK_SUMS);
        eg.output(eval.featureMap(), TensorNames.FEATURE_MAP);
        String doc = "sef-onnx " + spec.id() + "\n" + spec.toProperties();
        return new Models(
                spec, training, eg.toModel(version(), doc), optimizerGraph(spec).toModel(version(), doc), tensors);
    }

    /** [batch, K] per group to one [batch, G, K] tensor, group order kept. */
    static Value stackedGroupLogits(Ops ops, List<Value> groupLogits) {
        List<Value> rows = new ArrayList<>();
        for (int g = 0; g < groupLogits.size(); g++)
            rows.add(ops.unsqueeze("group" + g + ".logits_row", groupLogits.get(g), 1));
        return rows.size() == 1
                ? rows.get(0)
                : ops.concat("group_logits.stacked", rows, 1, org.sefonnx.generator.onnx.Dim.of(rows.size()));
    }

    static String version() {
        String v = TrainingArtifacts.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    /** The training model for one arithmetic and one target. */
    private static ModelProto trainingModel(ModelSpec spec, Arithmetic arithmetic, TrainingTarget target) {
        return trainingGraph(spec, arithmetic, target)
                .toModel(version(), "sef-onnx training graph " + spec.id() + "\n" + spec.toProperties());
    }

    /**
     * The training graph for {@code target} before serialisation, every value with its element type (what the
     * structure tests audit): the forward, the target's forward passes, autodiff, the optimizer's wiring, the target's
     * training passes.
     */
    public static Graph trainingGraph(ModelSpec spec, Arithmetic arithmetic, TrainingTarget target) {
        List<CheckpointTensor> tensors = checkpointTensors(spec);
        SefModel.Built fwd =
                SefModel.forward(spec, "sef_training_" + spec.id(), true, DType.FLOAT, arithmetic.compute(), tensors);
        Graph g = fwd.graph();
        Ops ops = new Ops(g);
        Value loss = g.output(fwd.terms().total(), TensorNames.LOSS);
        g.output(fwd.terms().crossEntropy(), TensorNames.CROSS_ENTROPY);
        g.output(fwd.terms().entropy(), TensorNames.ENTROPY);
        g.output(fwd.terms().distillation(), TensorNames.DISTILLATION);
        g.output(fwd.terms().grouping(), TensorNames.GROUPING);

        List<Value> params = new ArrayList<>();
        for (CheckpointTensor t : tensors)
            if (t.trainable()) params.add(fwd.forward().params.value(t.name()));
        target.apply(GraphPass.Phase.FORWARD, g);
        LossScaling scaling = arithmetic.lossScaling() ? new LossScaling(g, ops, loss) : null;
        boolean momentumSgd = spec.optimizer() == ModelSpec.Optimizer.SGD_MOMENTUM;
        Map<Value, Value> grads = new Autodiff(GradientRegistry.standard())
                .gradients(g, scaling == null ? loss : scaling.scaledLoss, params);
        g.inlineComposites();
        Value finite = scaling == null ? null : scaling.unscale(grads);

        Value overwrite = g.constant(DType.BOOL, Shape.fixed(1), 1);
        List<Value[]> accumulators = new ArrayList<>();
        for (Value p : params) {
            Value grad = grads.get(p);
            Value update = grad;
            if (momentumSgd) {
                // PyTorch SGD: d = g + wd·p; m = μ·m + d; the optimizer graph then does p -= lr·m. The momentum
                // buffer is a frozen checkpoint tensor overwritten in place; its only reader (μ·m) is upstream of m'.
                if (spec.weightDecay() != 0)
                    update = ops.add(
                            p.name() + ".decayed_grad",
                            grad,
                            ops.mul(p.name() + ".decay", p, g.scalar(DType.FLOAT, spec.weightDecay())));
                Value momentum = fwd.forward().params.value(p.name() + CheckpointTensor.MOMENTUM_SUFFIX);
                Value next = ops.add(
                        momentum.name() + ".next",
                        ops.mul(momentum.name() + ".scaled", momentum, g.scalar(DType.FLOAT, spec.momentum())),
                        update);
                // a skipped step (GradScaler found inf/NaN) writes the old momentum back: the buffer keeps its value
                if (finite != null) next = ops.where(momentum.name() + ".kept_if_skipped", finite, next, momentum);
                writeBack(g, ops, momentum, next, overwrite);
                update = next;
            } else if (finite != null) {
                update = ops.where(p.name() + ".grad_or_zero", finite, grad, g.scalar(DType.FLOAT, 0));
            }
            accumulators.add(new Value[] {p, update});
        }
        // BatchNorm statistics are updated on skipped steps too, as in PyTorch, where the forward pass updates them
        for (Forward.StateUpdate u : fwd.forward().stateUpdates())
            writeBack(g, ops, u.state(), u.newValue(), overwrite);
        // gradient buffers and the reset flag come after every checkpoint tensor in the input list
        List<Value> buffers = new ArrayList<>();
        for (Value[] a : accumulators)
            buffers.add(g.input(a[0].name() + GRAD_BUFFER_SUFFIX, DType.FLOAT, a[0].shape()));
        Value reset = g.input(LAZY_RESET_GRAD, DType.BOOL, Shape.fixed(1));
        for (int i = 0; i < accumulators.size(); i++) {
            Value p = accumulators.get(i)[0];
            Value out = ops.ms(
                            MsOp.IN_PLACE_ACCUMULATOR_V2,
                            List.of(buffers.get(i), accumulators.get(i)[1], reset),
                            List.of(new Value(p.name() + GRAD_OUT_SUFFIX, DType.BOOL, Shape.fixed(1))))
                    .get(0);
            g.output(out);
        }
        target.apply(GraphPass.Phase.TRAINING, g);
        return g;
    }

    /**
     * torch.cuda.amp.GradScaler inside the graph: the backward starts from loss·scale (scale fed each step, so the
     * runtime owns the dynamic schedule), every parameter gradient is multiplied by 1/scale in float32 (exact: the
     * scale is a power of two), and one flag says whether all of them are finite.
     */
    private static final class LossScaling {
        final Value scaledLoss;
        private final Graph g;
        private final Ops ops;
        private final Value inverseScale;

        LossScaling(Graph g, Ops ops, Value loss) {
            this.g = g;
            this.ops = ops;
            Value scale = g.input(TensorNames.LOSS_SCALE, DType.FLOAT, Shape.SCALAR);
            this.scaledLoss = ops.mul("loss.scaled", loss, scale);
            this.inverseScale = ops.reciprocal("loss_scale.inverse", scale);
        }

        /**
         * Replaces each gradient by its unscaled value and returns the all-finite flag: one sum over every gradient
         * element is inf or NaN exactly when some element is (unscaled gradients of a finite step are far below
         * float32's 3.4e38, so a sum of finite ones does not overflow).
         */
        Value unscale(Map<Value, Value> grads) {
            List<Value> sums = new ArrayList<>();
            for (Map.Entry<Value, Value> e : grads.entrySet()) {
                Value unscaled = ops.mul(e.getKey().name() + ".unscaled_grad", e.getValue(), inverseScale);
                e.setValue(unscaled);
                sums.add(ops.reduceSum(e.getKey().name() + ".grad_sum", unscaled, Ops.allAxes(unscaled), false));
            }
            Value total = ops.sum("gradients.sum", sums);
            // x − x is 0 for every finite x and NaN for ±inf and NaN: Sub and Equal have float CUDA kernels, so the
            // flag never leaves the device (IsInf/IsNaN would add a host round trip where a provider lacks them)
            Value finite = ops.equal(
                    "gradients.finite", ops.sub("gradients.sum_minus_itself", total, total), g.scalar(DType.FLOAT, 0));
            return g.output(finite, TensorNames.GRADIENTS_FINITE);
        }
    }

    /** state ← next, in place; the BOOL output carries ORT's hidden-output suffix so TrainStep does not return it. */
    private static void writeBack(Graph g, Ops ops, Value state, Value next, Value overwrite) {
        Value out = ops.ms(
                        MsOp.IN_PLACE_ACCUMULATOR_V2,
                        List.of(state, next, overwrite),
                        List.of(new Value(state.name() + GRAD_OUT_SUFFIX, DType.BOOL, Shape.fixed(1))))
                .get(0);
        g.output(out);
    }

    /** The optimizer op's flag, as ORT's schema for SGDOptimizerV2 and AdamWOptimizer infers it: a scalar. */
    private static Value optimizerFlag() {
        return new Value("update_completed.flag", DType.BOOL, Shape.SCALAR);
    }

    /**
     * The graph output update_completed: the op's flag reshaped to the {1} its kernel allocates. ORT's schema infers a
     * scalar where the CPU kernel makes {1}, so either declaration of the op's own output drew a warning: {1} a
     * MergeShapeInfo one at every session's load, a scalar a VerifyOutputSizes one at every optimizer step
     * (OrtLogTest). The Reshape's inferred, declared and actual shapes all agree.
     */
    private static Value updateCompleted(Ops ops, Value flag) {
        return ops.reshape("update_completed", flag, 1);
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
            done = ops.ms(MsOp.SGD_OPTIMIZER_V2, List.of(lr, params, gradients), List.of(optimizerFlag()))
                    .get(0);
        } else {
            Value second = o.sequenceInput("second_order_moments", DType.FLOAT);
            done = ops.ms(
                            MsOp.ADAMW_OPTIMIZER,
                            List.of(lr, step, params, gradients, first, second),
                            List.of(optimizerFlag()),
                            Attr.f("alpha", 0.9f),
                            Attr.f("beta", 0.999f),
                            Attr.f("epsilon", 1e-8f),
                            Attr.f("weight_decay", (float) spec.weightDecay()),
                            Attr.i("correct_bias", 1),
                            Attr.i("adam_mode", 1))
                    .get(0);
        }
        o.output(updateCompleted(ops, done));
        return o;
    }
}
