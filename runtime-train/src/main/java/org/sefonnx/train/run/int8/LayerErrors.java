package org.sefonnx.train.run.int8;

import ai.onnx.proto.OnnxMl.ModelProto;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.generator.quantize.QdqPlan;
import org.sefonnx.generator.quantize.QdqRewrite;
import org.sefonnx.train.data.Sample;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.ort.OrtAdapter;
import org.sefonnx.train.run.loop.RunSplits;

/**
 * Where the int8 model departs from the float one: every uint8 tensor of the int8 model (dequantized) against the same
 * tensor of the folded float model on the same images, as the relative error ‖q − f‖ / ‖f‖. Errors accumulate through
 * the network, so a layer is judged by what it adds: its output's error less the largest error of its inputs. The
 * layers adding most are the ones to keep in float32.
 */
final class LayerErrors {
    /** One int8 layer: its output's relative error and the part of it the layer added. */
    record LayerError(String layer, String tensor, double relativeError, double addedError) {}

    private LayerErrors() {}

    /** The int8 layers of {@code plan}, worst (most added error) first, measured on {@code images}. */
    static List<LayerError> measure(
            OrtAdapter ort, QdqPlan plan, ModelProto inspectedInt8, List<Sample> images, RunSplits splits, Path work)
            throws IOException {
        List<String> tensors = new ArrayList<>(plan.quantizedTensors());
        List<String> int8Outputs =
                tensors.stream().map(t -> t + QdqRewrite.INSPECTED).toList();
        Path floatModel = work.resolve("inspect-float.onnx"), int8Model = work.resolve("inspect-int8.onnx");
        Files.write(floatModel, QdqRewrite.withOutputs(plan.model(), tensors).toByteArray());
        Files.write(int8Model, inspectedInt8.toByteArray());
        double[] squaredError = new double[tensors.size()], squaredValue = new double[tensors.size()];
        try (OrtAdapter.Inference f = ImagePass.open(ort, floatModel, splits, null);
                OrtAdapter.Inference q = ImagePass.open(ort, int8Model, splits, null)) {
            ImagePass.forEach(images, splits, 1, (b, input) -> {
                List<HostTensor> fv = f.run(List.of(TensorNames.IMAGES), List.of(input), tensors);
                List<HostTensor> qv = q.run(List.of(TensorNames.IMAGES), List.of(input), int8Outputs);
                for (int t = 0; t < tensors.size(); t++) {
                    float[] a = fv.get(t).toFloats(), c = qv.get(t).toFloats();
                    for (int i = 0; i < a.length; i++) {
                        double d = c[i] - a[i];
                        squaredError[t] += d * d;
                        squaredValue[t] += (double) a[i] * a[i];
                    }
                }
            });
        } finally {
            Files.deleteIfExists(floatModel);
            Files.deleteIfExists(int8Model);
        }
        Map<String, Double> error = new LinkedHashMap<>();
        for (int t = 0; t < tensors.size(); t++) {
            error.put(tensors.get(t), squaredValue[t] > 0 ? Math.sqrt(squaredError[t] / squaredValue[t]) : 0.0);
        }
        List<LayerError> layers = new ArrayList<>();
        for (QdqPlan.Unit u : plan.units()) {
            if (u.kind() == QdqPlan.Kind.MAX_POOL)
                continue; // it picks among its input's values, adding no error of its own
            double inherited = 0;
            for (String in : u.activations()) inherited = Math.max(inherited, error.getOrDefault(in, 0.0));
            double own = error.getOrDefault(u.output(), 0.0);
            layers.add(new LayerError(u.layer(), u.output(), own, own - inherited));
        }
        layers.sort(Comparator.comparingDouble(LayerError::addedError).reversed());
        return layers;
    }
}
