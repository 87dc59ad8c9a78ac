package org.sefonnx.train.train;

import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.artifacts.TrainingArtifacts;
import org.sefonnx.generator.codegen.ModelClassEmitter;
import org.sefonnx.generator.model.CheckpointTensor;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.generator.model.SefModel;
import org.sefonnx.graphs.ModelDescriptor;
import org.sefonnx.graphs.ShippedModels;

import java.util.List;

/**
 * The typed contract of a spec at run time: the generated class for a shipped spec, or the same contract computed
 * from the generator for a custom one (e.g. 37 classes, G=3).
 */
public final class SpecDescriptor implements ModelDescriptor {
    private final ModelSpec spec;
    private final List<CheckpointTensor> tensors;

    private SpecDescriptor(ModelSpec spec) {
        this.spec = spec;
        this.tensors = TrainingArtifacts.checkpointTensors(spec);
    }

    /** The shipped class when the spec is exactly a shipped one, else a computed descriptor. */
    public static ModelDescriptor of(ModelSpec spec) {
        for (ModelDescriptor d : ShippedModels.ALL) {
            if (d.modelId().equals(spec.id()) && ModelSpec.parse(d.specProperties(), d.modelId()).equals(spec)) return d;
        }
        return new SpecDescriptor(spec);
    }

    /** True when the descriptor's graphs are packed in the graphs jar (no generation needed). */
    public static boolean isShipped(ModelDescriptor d) {
        return !(d instanceof SpecDescriptor);
    }

    @Override public String modelId() { return spec.id(); }
    @Override public int backboneDepth() { return spec.depth(); }
    @Override public int numClasses() { return spec.numClasses(); }
    @Override public int groups() { return spec.groups(); }
    @Override public int[] groupChannels() { return spec.groupChannels(); }
    @Override public int featureChannels() { return spec.featureChannels(); }
    @Override public int imageSizePx() { return spec.imageSize(); }
    @Override public String specProperties() { return spec.toProperties(); }
    @Override public String imagesInput() { return SefModel.IMAGES; }
    @Override public String labelsInput() { return SefModel.LABELS; }
    @Override public List<String> trainOutputs() { return TrainingArtifacts.trainOutputs(spec); }
    @Override public List<String> evalOutputs() { return TrainingArtifacts.EVAL_OUTPUTS; }
    @Override public List<String> inferenceOutputs() { return TrainingArtifacts.INFERENCE_OUTPUTS; }
    @Override public List<String> trainableNames() { return tensors.stream().filter(CheckpointTensor::trainable).map(CheckpointTensor::name).toList(); }
    @Override public List<long[]> trainableShapes() { return tensors.stream().filter(CheckpointTensor::trainable).map(CheckpointTensor::shape).toList(); }
    @Override public List<String> frozenNames() { return tensors.stream().filter(t -> !t.trainable()).map(CheckpointTensor::name).toList(); }
    @Override public List<long[]> frozenShapes() { return tensors.stream().filter(t -> !t.trainable()).map(CheckpointTensor::shape).toList(); }
    @Override public long trainableParameterCount() { return tensors.stream().filter(CheckpointTensor::trainable).mapToLong(CheckpointTensor::numel).sum(); }
    @Override public String trainingModelFile() { return ArtifactWriter.TRAINING_MODEL_FILE; }
    @Override public String cpuTrainingModelFile() { return ArtifactWriter.CPU_TRAINING_MODEL_FILE; }
    @Override public String evalModelFile() { return ArtifactWriter.EVAL_MODEL_FILE; }
    @Override public String optimizerModelFile() { return ArtifactWriter.OPTIMIZER_MODEL_FILE; }
    @Override public String checkpointFile() { return ArtifactWriter.CHECKPOINT_FILE; }
    @Override public String resourceDirectory() { return ModelClassEmitter.resourceDirectory(spec); }
    @Override public double learningRate() { return spec.learningRate(); }
    @Override public int lrStepEpochs() { return spec.lrStepEpochs(); }
    @Override public int epochs() { return spec.epochs(); }
    @Override public int batchSize() { return spec.batchSize(); }
    @Override public String precision() { return spec.precision().label(); }
}
