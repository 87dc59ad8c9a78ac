package org.sefonnx.contract;

/**
 * What the runtime binds one SEF model spec's graphs through: its identity, its label space, its arithmetic and its
 * two steps. The build generates one implementation per shipped spec (module {@code graphs}, {@code ShippedModels});
 * for any other spec the generator computes the same values from the spec ({@code ComputedDescriptor}), and the
 * generated classes are frozen copies of that computation. File names are not here: they are the same for every spec
 * ({@link ArtifactLayout}).
 */
public interface ModelDescriptor {
    String modelId();

    /** The spec as {@code key=value} lines (ModelSpec#toProperties), stored in checkpoints' property bags. */
    String specProperties();

    /** K, the number of classes. */
    int numClasses();

    /** Channels of each contiguous group of the last feature map, in group order (a fresh array on every call). */
    int[] groupChannels();

    /** Training arithmetic: float32, or fp16 mixed precision (TrainStep then also takes a loss scale). */
    Precision precision();

    /** TrainStep of the training graph (CUDA's and the CPU's take and return the same names). */
    StepSignature trainStep();

    /** EvalStep of the eval graph. */
    StepSignature evalStep();
}
