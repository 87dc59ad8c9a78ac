package org.sefonnx.generator.passes;

import org.sefonnx.generator.onnx.Graph;

/**
 * A named rewrite of a graph, as ONNX Runtime's graph transformers are (core/optimizer/graph_transformer.h): it
 * changes how a graph computes, never what. Which training targets a pass applies to is declared where the passes are
 * listed, artifacts.TrainingTarget, as GenerateTransformers tags each transformer with its execution providers.
 */
public interface GraphPass {
    /** When a pass runs. */
    enum Phase {
        /** On the forward graph, before autodiff: the backward is derived from what the pass made. */
        FORWARD,
        /** On the training graph: after autodiff and the optimizer's wiring, before serialisation. */
        TRAINING
    }

    /** The pass's name, as the generation report and the tests spell it. */
    String name();

    /** When it runs. */
    Phase phase();

    /** Rewrites {@code graph} in place. */
    void apply(Graph graph);
}
