package org.sefonnx.validation;

import java.util.ArrayList;
import java.util.List;
import org.sefonnx.generator.model.Forward;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.generator.model.Parameters;
import org.sefonnx.generator.model.SefHeads;
import org.sefonnx.generator.model.SefLoss;
import org.sefonnx.generator.onnx.DType;
import org.sefonnx.generator.onnx.Graph;
import org.sefonnx.generator.onnx.Ops;
import org.sefonnx.generator.onnx.Shape;
import org.sefonnx.generator.onnx.Value;

/** The SEF loss terms alone, on feature-map and logits inputs: what the loss tests feed their own values to. */
final class LossGraph {
    static final String FEATURES = "features", GLOBAL = "global_logits", GROUP = "group_logits_", LABELS = "labels";

    final Graph graph;
    final Value features;
    final Value global;
    final List<Value> groups = new ArrayList<>();
    final SefLoss.Terms terms;

    LossGraph(ModelSpec spec, int batch) {
        this(spec, batch, DType.FLOAT);
    }

    LossGraph(ModelSpec spec, int batch, DType dtype) {
        int c = spec.featureChannels(), side = spec.featureMapSize(), k = spec.numClasses();
        graph = new Graph("loss_only");
        features = graph.input(FEATURES, dtype, Shape.fixed(batch, c, side, side));
        global = graph.input(GLOBAL, dtype, Shape.fixed(batch, k));
        for (int i = 0; i < spec.groups(); i++) groups.add(graph.input(GROUP + i, dtype, Shape.fixed(batch, k)));
        Value labels = graph.input(LABELS, DType.INT64, Shape.fixed(batch));
        Forward f = new Forward(new Ops(graph), Parameters.recording(graph, dtype), true, dtype);
        terms = SefLoss.apply(f, spec, new SefHeads.Logits(global, groups), labels, features);
    }

    /** Input names in feed order: features, global logits, group logits..., labels. */
    List<String> inputNames() {
        List<String> n = new ArrayList<>(List.of(FEATURES, GLOBAL));
        for (int i = 0; i < groups.size(); i++) n.add(GROUP + i);
        n.add(LABELS);
        return n;
    }
}
