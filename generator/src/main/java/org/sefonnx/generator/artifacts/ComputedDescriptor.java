package org.sefonnx.generator.artifacts;

import org.sefonnx.contract.ModelDescriptor;
import org.sefonnx.contract.Precision;
import org.sefonnx.contract.StepSignature;
import org.sefonnx.generator.model.ModelSpec;

/**
 * The one computation of a spec's {@link ModelDescriptor}, from the same functions that build its graphs: custom specs
 * (e.g. 37 classes, G=3) use it at run time, and the typed classes of the shipped specs are frozen copies of it
 * (ModelClassEmitter emits each value from here).
 */
public record ComputedDescriptor(ModelSpec spec) implements ModelDescriptor {
    @Override
    public String modelId() {
        return spec.id();
    }

    @Override
    public String specProperties() {
        return spec.toProperties();
    }

    @Override
    public int numClasses() {
        return spec.numClasses();
    }

    @Override
    public int[] groupChannels() {
        return spec.groupChannels();
    }

    @Override
    public Precision precision() {
        return spec.precision();
    }

    @Override
    public StepSignature trainStep() {
        return TrainingArtifacts.trainStep(spec);
    }

    @Override
    public StepSignature evalStep() {
        return StepSignature.evalStep();
    }
}
