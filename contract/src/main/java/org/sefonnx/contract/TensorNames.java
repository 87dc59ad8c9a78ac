package org.sefonnx.contract;

import java.util.List;

/** The names of the graphs' inputs and outputs: the generator builds the graphs with them, the runtimes bind by them. */
public final class TensorNames {
    /** Images, float [batch, 3, H, W], ImageNet-normalised. */
    public static final String IMAGES = "images";
    /** Class indices, int64 [batch]. */
    public static final String LABELS = "labels";

    /** The total SEF loss (a scalar), and its four terms (sef-method.md). */
    public static final String LOSS = "loss";

    public static final String CROSS_ENTROPY = "cross_entropy";
    public static final String ENTROPY = "entropy";
    public static final String DISTILLATION = "distillation";
    public static final String GROUPING = "grouping";
    /** The global head's logits [batch, K] and their softmax. */
    public static final String LOGITS = "logits";

    public static final String PROBABILITIES = "probabilities";
    /** The group heads' logits [batch, G, K] in group order. */
    public static final String GROUP_LOGITS = "group_logits";
    /** The grouping loss's block sums of squared cosines, mean over the batch, [G, G]. */
    public static final String GROUP_BLOCK_SUMS = "group_block_sums";
    /** The last post-ReLU feature map X [batch, C, h, w] the groups are channel slices of. */
    public static final String FEATURE_MAP = "feature_map";
    /** Mixed precision only: TrainStep's loss-scale input (float32 scalar) and all-gradients-finite output (BOOL scalar). */
    public static final String LOSS_SCALE = "loss_scale";

    public static final String GRADIENTS_FINITE = "gradients_finite";

    /** The loss terms, total first: TrainStep's float outputs and the first outputs of EvalStep, in this order. */
    public static final List<String> LOSS_TERMS = List.of(LOSS, CROSS_ENTROPY, ENTROPY, DISTILLATION, GROUPING);

    private TensorNames() {}
}
