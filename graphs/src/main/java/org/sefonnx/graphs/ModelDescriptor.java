package org.sefonnx.graphs;

import java.util.List;

/**
 * The contract between a generated graph and the runtime: names, shapes and defaults of one SEF model spec. The
 * build generates one implementation per shipped spec (see {@code ShippedModels}); runtime code binds tensors
 * through it instead of spelling names as string literals.
 */
public interface ModelDescriptor {
    String modelId();

    int backboneDepth();

    int numClasses();

    int groups();

    /** Channels of each contiguous group of the last feature map. */
    int[] groupChannels();

    int featureChannels();

    int imageSizePx();

    /** The spec as {@code key=value} lines (ModelSpec#toProperties), stored in checkpoints' property bags. */
    String specProperties();

    String imagesInput();

    String labelsInput();

    /** TrainStep outputs: total loss first, then each term (fp16: then the all-gradients-finite flag). */
    List<String> trainOutputs();

    /** EvalStep outputs: the loss terms, logits and probabilities. */
    List<String> evalOutputs();

    /** Outputs kept by ExportModelForInferencing: logits and probabilities. */
    List<String> inferenceOutputs();

    /** Trainable parameters in graph (and CopyParametersToBuffer) order. */
    List<String> trainableNames();

    List<long[]> trainableShapes();

    /** Frozen checkpoint tensors (BatchNorm running statistics, momentum buffers) in graph order. */
    List<String> frozenNames();

    List<long[]> frozenShapes();

    long trainableParameterCount();

    /** The training model for CUDA sessions (ConvGrad backward). */
    String trainingModelFile();

    /** The training model for CPU sessions (small-map convolutions as whole-batch Gemms; same checkpoint tensors). */
    String cpuTrainingModelFile();

    String evalModelFile();

    String optimizerModelFile();

    String checkpointFile();

    /** Class-path folder holding the three models and model.properties, ending in '/'. */
    String resourceDirectory();

    double learningRate();

    int lrStepEpochs();

    int epochs();

    int batchSize();

    /** Training arithmetic: {@code fp32}, or {@code fp16} mixed precision (TrainStep then also takes a loss scale). */
    String precision();
}
