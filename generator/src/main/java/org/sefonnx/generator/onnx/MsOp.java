package org.sefonnx.generator.onnx;

import static ai.onnx.proto.OnnxMl.AttributeProto.AttributeType.FLOAT;
import static ai.onnx.proto.OnnxMl.AttributeProto.AttributeType.INT;
import static ai.onnx.proto.OnnxMl.AttributeProto.AttributeType.INTS;
import static ai.onnx.proto.OnnxMl.AttributeProto.AttributeType.STRING;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.AttributeProto.AttributeType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The com.microsoft ops sef-onnx emits, as their schemas in ONNX Runtime's training_op_defs.cc (FusedMatMul:
 * contrib_defs.cc) declare them: how many inputs and outputs it requires and takes at most (the optional ones come
 * last; a null entry omits one) and which attributes, of which type.
 * {@link Ops#ms} checks every such node against this table, so a misspelt attribute or a missing input fails while the
 * graph is built rather than when ORT loads it.
 */
public enum MsOp {
    /** dY, X, W → dX, dW, dB, each optional; the attributes are Conv's own. */
    CONV_GRAD(
            "ConvGrad",
            3,
            3,
            0,
            3,
            Map.of(
                    "auto_pad",
                    STRING,
                    "dilations",
                    INTS,
                    "group",
                    INT,
                    "kernel_shape",
                    INTS,
                    "pads",
                    INTS,
                    "strides",
                    INTS)),
    /** dY, Y (or X: both are positive at the same places) → dX. */
    RELU_GRAD("ReluGrad", 2, 2, 1, 1, Map.of()),
    /** dY, Y → dX, opset-13 semantics (softmax along one axis, not over the flattened trailing ones). */
    SOFTMAX_GRAD_13("SoftmaxGrad_13", 2, 2, 1, 1, Map.of("axis", INT)),
    /** dY, log-probabilities → dX, opset-13 semantics. */
    LOG_SOFTMAX_GRAD_13("LogSoftmaxGrad_13", 2, 2, 1, 1, Map.of("axis", INT)),
    /** dLoss, log_prob, labels [, weights] → dScores. */
    SOFTMAX_CROSS_ENTROPY_LOSS_GRAD(
            "SoftmaxCrossEntropyLossGrad", 3, 4, 1, 1, Map.of("reduction", STRING, "ignore_index", INT)),
    /** dY, X, scale, batch mean, 1/sqrt(batch variance + ε) → dX, dScale, dBias, through the batch statistics. */
    BATCH_NORMALIZATION_GRAD("BatchNormalizationGrad", 5, 5, 3, 3, Map.of("epsilon", FLOAT)),
    /** A, B → op(A)·op(B), batched like MatMul, either side transposed in MLAS's kernel (contrib_defs.cc). */
    FUSED_MAT_MUL(
            "FusedMatMul",
            2,
            2,
            1,
            1,
            Map.of("alpha", FLOAT, "transA", INT, "transB", INT, "transBatchA", INT, "transBatchB", INT)),
    /** buffer, value [, overwrite] → updated flag [, buffer]: buffer ← value (overwrite) or buffer + value, in place. */
    IN_PLACE_ACCUMULATOR_V2("InPlaceAccumulatorV2", 2, 3, 1, 2, Map.of()),
    /** lr, params, gradients [, update signal] → done [, params]: plain w ← w − lr·g over sequences. */
    SGD_OPTIMIZER_V2("SGDOptimizerV2", 3, 4, 1, 2, Map.of()),
    /** lr, step, params, gradients, first and second moments [, update signal] → done [, params, moments]. */
    ADAMW_OPTIMIZER(
            "AdamWOptimizer",
            6,
            7,
            1,
            4,
            Map.of(
                    "alpha",
                    FLOAT,
                    "beta",
                    FLOAT,
                    "epsilon",
                    FLOAT,
                    "weight_decay",
                    FLOAT,
                    "correct_bias",
                    INT,
                    "adam_mode",
                    INT));

    /** The op type in the {@link Graph#MS_DOMAIN} domain. */
    public final String opType;

    private final int requiredInputs, maxInputs, requiredOutputs, maxOutputs;
    private final Map<String, AttributeType> attributes;

    MsOp(
            String opType,
            int requiredInputs,
            int maxInputs,
            int requiredOutputs,
            int maxOutputs,
            Map<String, AttributeType> attributes) {
        this.opType = opType;
        this.requiredInputs = requiredInputs;
        this.maxInputs = maxInputs;
        this.requiredOutputs = requiredOutputs;
        this.maxOutputs = maxOutputs;
        this.attributes = attributes;
    }

    /**
     * The attributes of {@code source} that this op declares, in their order: ORT's gradient builders pass the forward
     * node's attributes through (SrcNodeAttributes()), and keep only what the kernel reads (BatchNormalizationGrad
     * takes a BatchNormalization's epsilon, not its momentum).
     */
    public AttributeProto[] declaredOf(List<AttributeProto> source) {
        List<AttributeProto> kept = new ArrayList<>();
        for (AttributeProto a : source) if (attributes.containsKey(a.getName())) kept.add(a);
        return kept.toArray(AttributeProto[]::new);
    }

    /** Throws unless {@code in}, {@code outs} and {@code attrs} fit this op's schema (a null entry omits an optional one). */
    void check(List<Value> in, List<Value> outs, List<AttributeProto> attrs) {
        checkArity("input", in, requiredInputs, maxInputs);
        checkArity("output", outs, requiredOutputs, maxOutputs);
        if (outs.stream().allMatch(o -> o == null)) throw new IllegalArgumentException(this + ": every output omitted");
        for (AttributeProto a : attrs) {
            AttributeType expected = attributes.get(a.getName());
            if (expected == null) {
                throw new IllegalArgumentException(
                        this + " has no attribute '" + a.getName() + "'; it takes " + attributes.keySet());
            }
            if (a.getType() != expected) {
                throw new IllegalArgumentException(
                        this + ": attribute '" + a.getName() + "' is " + expected + ", got " + a.getType());
            }
        }
    }

    private void checkArity(String what, List<Value> values, int required, int max) {
        if (values.size() < required || values.size() > max) {
            throw new IllegalArgumentException(this + ": " + values.size() + " " + what + "s, its schema has "
                    + required + " required and " + max + " at most");
        }
        for (int i = 0; i < required; i++) {
            if (values.get(i) == null)
                throw new IllegalArgumentException(this + ": " + what + " " + i + " is required");
        }
    }

    @Override
    public String toString() {
        return Graph.MS_DOMAIN + "::" + opType;
    }
}
