package org.sefonnx.train.run.session;

import java.util.List;
import java.util.Map;
import org.sefonnx.contract.ModelDescriptor;
import org.sefonnx.contract.StepSignature;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.ort.OrtAdapter;

/**
 * TrainStep and EvalStep of a session, bound through the model descriptor: inputs are given by name and outputs read
 * by name, the descriptor's step signatures turning names into the positions ORT binds. {@link Sessions#open} has
 * checked the session against those signatures, so a name found here is where the graph has it.
 */
public final class ModelSteps {
    private final OrtAdapter.Training session;
    private final StepSignature train, eval;

    public ModelSteps(ModelDescriptor d, OrtAdapter.Training session) {
        this.session = session;
        this.train = d.trainStep();
        this.eval = d.evalStep();
    }

    /** TrainStep on {@code inputs} by name (images, labels and, under mixed precision, the loss scale). */
    public Outputs train(Map<String, HostTensor> inputs) {
        return new Outputs(train, session.trainStep(train.arrangeInputs(inputs)));
    }

    /** EvalStep on a batch. */
    public Outputs eval(HostTensor images, HostTensor labels) {
        return new Outputs(
                eval,
                session.evalStep(eval.arrangeInputs(Map.of(TensorNames.IMAGES, images, TensorNames.LABELS, labels))));
    }

    /** One step's outputs, read by name. */
    public record Outputs(StepSignature signature, List<HostTensor> values) {
        public HostTensor get(String name) {
            return values.get(signature.outputIndex(name));
        }

        public float scalar(String name) {
            return get(name).scalar();
        }

        public float[] floats(String name) {
            return get(name).toFloats();
        }
    }
}
