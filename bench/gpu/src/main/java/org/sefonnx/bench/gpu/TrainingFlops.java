package org.sefonnx.bench.gpu;

import org.sefonnx.generator.artifacts.TrainingArtifacts;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.generator.model.SefModel;
import org.sefonnx.generator.onnx.DType;
import org.sefonnx.generator.onnx.Node;
import org.sefonnx.generator.onnx.Shape;

/**
 * Training FLOP per image of a spec, counted on its generated forward graph: 2 FLOP per multiply-add of every Conv,
 * Gemm and MatMul (the grouping loss's C×C Gram matrix included), times 3 for the step (the backward computes dX and
 * dW, each as costly as the forward), the usual convention of published training throughputs. ResNet-50 + SEF at
 * 448 px (cub-r50): 103.1 GFLOP, of which the grouping loss's Gram matrix is 4.9.
 */
final class TrainingFlops {
    private TrainingFlops() {}

    static double perImage(ModelSpec spec) {
        var built = SefModel.forward(spec, "flops", true, DType.FLOAT, TrainingArtifacts.checkpointTensors(spec));
        double macs = 0;
        for (Node n : built.graph().nodes()) {
            switch (n.opType) {
                case "Conv" -> {
                    Shape w = n.input(1).requireShape(), y = n.output(0).requireShape();
                    macs += (double) w.size(0) * w.size(1) * w.size(2) * w.size(3) * y.size(2) * y.size(3);
                }
                case "Gemm" ->
                    macs += (double) n.input(0).requireShape().size(1)
                            * n.output(0).requireShape().size(1);
                case "MatMul" -> {
                    Shape y = n.output(0).requireShape(), a = n.input(0).requireShape();
                    double perImage = a.size(a.rank() - 1);
                    for (int i = 1; i < y.rank(); i++) perImage *= y.size(i); // dimension 0 is the batch
                    macs += perImage;
                }
                default -> {}
            }
        }
        return 3 * 2 * macs;
    }
}
