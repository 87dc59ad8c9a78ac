package org.sefonnx.train.run.session;

import org.sefonnx.contract.ModelDescriptor;
import org.sefonnx.contract.Precision;
import org.sefonnx.contract.StepSignature;
import org.sefonnx.graphs.DemoR18Model;

/** The demo spec's descriptor with other step signatures: what graphs of another sef-onnx version would declare. */
final class DemoDescriptor {
    private DemoDescriptor() {}

    static ModelDescriptor withSteps(StepSignature trainStep, StepSignature evalStep) {
        return new ModelDescriptor() {
            @Override
            public String modelId() {
                return DemoR18Model.MODEL_ID;
            }

            @Override
            public String specProperties() {
                return DemoR18Model.SPEC_PROPERTIES;
            }

            @Override
            public int numClasses() {
                return DemoR18Model.NUM_CLASSES;
            }

            @Override
            public int[] groupChannels() {
                return DemoR18Model.INSTANCE.groupChannels();
            }

            @Override
            public Precision precision() {
                return DemoR18Model.PRECISION;
            }

            @Override
            public StepSignature trainStep() {
                return trainStep;
            }

            @Override
            public StepSignature evalStep() {
                return evalStep;
            }
        };
    }
}
