package org.sefonnx.contract;

import java.util.List;

/** The names of the graphs' inputs and outputs: the generator builds the graphs with them, the runtimes bind by them. */
public final class TensorNames {
    /** Images, float [batch, 3, H, W], ImageNet-normalised. */
    public static final String IMAGES = "images";
    /** Class indices, int64 [batch]. */
    public static final String LABELS = "labels";

    /** The total SEF loss CE + λ·E + γ·S + φ·L_group, a scalar (docs/sef-method.md). */
    public static final String LOSS = "loss";
    /** Its term CE: the global head's cross-entropy, a scalar. */
    public static final String CROSS_ENTROPY = "cross_entropy";
    /** Its term E: the negative entropy of the global prediction, a scalar. */
    public static final String ENTROPY = "entropy";
    /** Its term S: the mean cross-entropy from the global prediction to each group head's, a scalar. */
    public static final String DISTILLATION = "distillation";
    /** Its term L_group: the grouping loss over the last feature map's channel groups, a scalar. */
    public static final String GROUPING = "grouping";
    /** The global head's logits [batch, K]. */
    public static final String LOGITS = "logits";
    /** The softmax of {@link #LOGITS}, [batch, K]. */
    public static final String PROBABILITIES = "probabilities";
    /** The group heads' logits [batch, G, K] in group order. */
    public static final String GROUP_LOGITS = "group_logits";
    /** The grouping loss's block sums of squared cosines, mean over the batch, [G, G]. */
    public static final String GROUP_BLOCK_SUMS = "group_block_sums";
    /** The last post-ReLU feature map X [batch, C, h, w] the groups are channel slices of. */
    public static final String FEATURE_MAP = "feature_map";
    /** Mixed precision only: TrainStep's loss-scale input, a float32 scalar. */
    public static final String LOSS_SCALE = "loss_scale";
    /** Mixed precision only: TrainStep's all-gradients-finite output, a BOOL scalar. */
    public static final String GRADIENTS_FINITE = "gradients_finite";

    /** The loss terms, total first: TrainStep's float outputs and the first outputs of EvalStep, in this order. */
    public static final List<String> LOSS_TERMS = List.of(LOSS, CROSS_ENTROPY, ENTROPY, DISTILLATION, GROUPING);

    private TensorNames() {}
}
