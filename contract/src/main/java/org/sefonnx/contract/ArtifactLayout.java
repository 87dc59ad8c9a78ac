package org.sefonnx.contract;

/**
 * The files of a generated artifact directory (a run's {@code artifacts/}, or a shipped spec's class-path folder
 * {@link #resourceDirectory}): the graphs ORT's training API opens, the initial checkpoint and the spec.
 */
public final class ArtifactLayout {
    /** The training model for CUDA sessions (the generator's TrainingTarget.CUDA: Conv and ConvGrad). */
    public static final String CUDA_TRAINING_MODEL = "training_model.onnx";
    /** The training model for CPU sessions (TrainingTarget.CPU: small-map convolutions as whole-batch products). */
    public static final String CPU_TRAINING_MODEL = "training_model_cpu.onnx";
    /** The eval model: EvalStep, and what the inference export is pruned from. */
    public static final String EVAL_MODEL = "eval_model.onnx";
    /** The optimizer model: OptimizerStep. */
    public static final String OPTIMIZER_MODEL = "optimizer_model.onnx";
    /** The initial checkpoint (the seeded or imported weights a run starts from). */
    public static final String CHECKPOINT = "checkpoint";
    /** The spec as {@code key=value} lines. */
    public static final String SPEC = "model.properties";
    /** Class-path root of the shipped specs' folders (the graphs jar). */
    public static final String RESOURCE_ROOT = "sef-onnx/graphs/";

    private ArtifactLayout() {}

    /** Class-path folder of a shipped spec's models, ending in '/'. */
    public static String resourceDirectory(String modelId) {
        return RESOURCE_ROOT + modelId + "/";
    }
}
