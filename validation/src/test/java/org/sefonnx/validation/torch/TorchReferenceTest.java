package org.sefonnx.validation.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.sefonnx.validation.torch.TorchReferenceInputs.BATCH;
import static org.sefonnx.validation.torch.TorchReferenceInputs.SPEC;
import static org.sefonnx.validation.torch.TorchReferenceInputs.STEPS;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.sefonnx.contract.ArtifactLayout;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.artifacts.GradientCheckGraph;
import org.sefonnx.generator.artifacts.TrainingTarget;
import org.sefonnx.generator.model.CheckpointTensor;
import org.sefonnx.generator.weights.SafeTensors;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.ort.OrtAdapter;

/**
 * Our graphs on ORT's CPU provider against PyTorch (torchvision's ResNet-18 + SEF heads + the SEF loss written from
 * docs/sef-method.md, {@code validation/torch-reference/sef_reference.py}) in float64: logits, loss terms and gradients
 * at the initial weights through the gradient-check graph, then parameters and BatchNorm running statistics after
 * three momentum-SGD steps through the training artifacts. Both sides start from the bytes
 * {@link TorchReferenceInputs} writes; the golden file records their SHA-256.
 *
 * <p>Tolerances are relative L2 distances per tensor, ‖ours − f64‖ / ‖f64‖, about 20 times what was measured
 * (ORT 1.24 CPU against PyTorch 1.13 CPU float64): forward values and every gradient at step 0 within 5e-6, so 1e-4;
 * after three steps everything but the stem within 2e-6, so 1e-4; the stem (conv1, bn1) within 1.3e-3, so 3e-3 (a
 * discrete switch, not 20x headroom: see STEPPED_STEM_TOLERANCE). At random initialisation, with batch 4 and a 2x2
 * last feature map, each training-mode BatchNorm backward cancels most of its input gradient, and the stem's three
 * large updates amplify rounding further. The golden's own float32 run is
 * printed beside ours for scale; it is not what we compare with (PyTorch's CPU float32 missed float64 by 7e-4 on
 * conv1's gradient and 8e-3 on bn1.bias after three steps: a float32 reference would hide real errors).
 */
class TorchReferenceTest {
    static final OrtAdapter ORT = OrtAdapter.create("sef-onnx-torch-reference");
    /** Overrides the classpath golden, to check a freshly produced file before it is copied into the resources. */
    static final String GOLDEN_PROPERTY = "sef.torchGolden";

    static final String HOW_TO_PRODUCE = "the PyTorch golden file is missing: validation/src/test/resources"
            + TorchReferenceInputs.GOLDEN_RESOURCE + ". Produce it with\n"
            + "  mvn -q -pl validation exec:java -Dexec.mainClass=org.sefonnx.validation.torch.TorchReferenceInputs -Dexec.args=inputs.safetensors\n"
            + "  python3 validation/torch-reference/sef_reference.py inputs.safetensors golden.safetensors   (torch + torchvision; a GPU adds the f32 run)\n"
            + "  cp golden.safetensors validation/src/test/resources" + TorchReferenceInputs.GOLDEN_RESOURCE + "\n"
            + "(see validation/torch-reference/README.md; -D" + GOLDEN_PROPERTY + "=FILE tests a file in place)";

    /** Logits, loss terms and every gradient at the initial weights (measured: at most 5e-6). */
    static final double STEP0_TOLERANCE = 1e-4;
    /**
     * conv1 and bn1 after three steps. Measured on bn1.bias: 2.6e-4 (ConvGrad graph), 1.3e-3 (CPU graph, whose
     * BatchNorms sum their N·H·W values in batch-last order); PyTorch's own float32 run 6.2e-3. Only those two values
     * were ever seen, whatever the summation order tried (the variance as a ReduceSumSquare moved the ConvGrad graph to
     * 1.3e-3 too): a discrete switch — most likely max-pool's argmax where two cells are within float32 rounding of
     * each other — not a drift, while the step-0 gradients agree within 3.4e-6 either way. So 3e-3.
     */
    static final double STEPPED_STEM_TOLERANCE = 3e-3;
    /** Every other parameter, running statistic and step loss after three steps (measured: at most 2e-6). */
    static final double STEPPED_TOLERANCE = 1e-4;

    @TempDir
    Path dir;

    @Test
    void goldenWasComputedFromTheseInputs() throws Exception {
        SafeTensors.Contents golden = golden();
        String ours =
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(TorchReferenceInputs.toBytes()));
        assertEquals(
                ours,
                golden.metadata().get("inputs_sha256"),
                golden.source() + " was computed from other inputs than TorchReferenceInputs writes now "
                        + "(the initial weights, batch or spec changed): regenerate it.\n" + HOW_TO_PRODUCE);
        assertEquals(Integer.toString(STEPS), golden.metadata().get("steps"));
    }

    @ParameterizedTest(name = "{0} graph")
    @EnumSource(TrainingTarget.class)
    void logitsLossTermsAndGradientsMatchPyTorchFloat64(TrainingTarget target) throws Exception {
        SafeTensors.Contents golden = golden();
        GradientCheckGraph.Built built = GradientCheckGraph.build(SPEC, List.of(), target);
        Path model = dir.resolve("gradcheck.onnx");
        Files.write(model, built.model().toByteArray());
        Map<String, float[]> weights = TorchReferenceInputs.weights();
        List<String> names = new ArrayList<>(List.of(TensorNames.IMAGES, TensorNames.LABELS));
        List<HostTensor> inputs = new ArrayList<>(List.of(images(), labels()));
        for (CheckpointTensor t : built.inputs()) {
            names.add(t.name());
            inputs.add(HostTensor.floats(weights.get(t.name()), t.shape()));
        }
        Map<String, String> outputs = new LinkedHashMap<>(); // golden name -> graph output
        outputs.put("logits", TensorNames.LOGITS);
        for (int g = 0; g < SPEC.groups(); g++) outputs.put("group_logits." + g, GradientCheckGraph.GROUP_LOGITS + g);
        for (String term : List.of(
                TensorNames.LOSS,
                TensorNames.CROSS_ENTROPY,
                TensorNames.ENTROPY,
                TensorNames.DISTILLATION,
                TensorNames.GROUPING)) outputs.put(term, term);
        for (String p : checkedParameters(golden)) outputs.put("grad." + p, p + GradientCheckGraph.GRAD_SUFFIX);

        List<HostTensor> results;
        try (OrtAdapter.Inference session = ORT.openInference(model, OrtAdapter.SessionConfig.cpu(1))) {
            results = session.run(names, inputs, new ArrayList<>(outputs.values()));
        }
        GoldenComparison report = new GoldenComparison(golden);
        int i = 0;
        for (String key : outputs.keySet()) {
            float[] ours = results.get(i++).toFloats();
            report.compare(key, ours, STEP0_TOLERANCE);
        }
        report.finish("step 0 (" + target.label() + " graph): logits, loss terms, gradients");
    }

    @ParameterizedTest(name = "training graph for {0}")
    @EnumSource(TrainingTarget.class)
    void threeMomentumSgdStepsMatchPyTorchFloat64(TrainingTarget target) throws Exception {
        SafeTensors.Contents golden = golden();
        Path artifacts = dir.resolve("artifacts");
        ArtifactWriter.generate(SPEC, artifacts, TorchReferenceInputs.SEED); // the same seeded weights the inputs carry
        List<float[]> losses = new ArrayList<>();
        Map<String, float[]> after = new LinkedHashMap<>();
        List<String> stepped = new ArrayList<>();
        for (String p : checkedParameters(golden)) stepped.add(p);
        for (String bn :
                golden.metadata().getOrDefault("tracked_batch_norms", "bn1").split(",")) {
            stepped.add(bn + ".running_mean");
            stepped.add(bn + ".running_var");
        }
        try (OrtAdapter.Training t = ORT.openTraining(
                artifacts.resolve(ArtifactLayout.CHECKPOINT),
                artifacts.resolve(target.modelFile()),
                artifacts.resolve(ArtifactLayout.EVAL_MODEL),
                artifacts.resolve(ArtifactLayout.OPTIMIZER_MODEL),
                OrtAdapter.SessionConfig.cpu(1))) {
            t.setLearningRate((float) SPEC.learningRate());
            HostTensor x = images(), y = labels();
            for (int step = 0; step < STEPS; step++) {
                losses.add(t.trainStep(List.of(x, y)).get(0).toFloats());
                t.optimizerStep();
                t.lazyResetGrad();
            }
            for (String name : stepped) after.put(name, t.tensor(name).toFloats());
        }
        GoldenComparison report = new GoldenComparison(golden);
        float[] stepLosses = new float[STEPS];
        for (int s = 0; s < STEPS; s++) stepLosses[s] = losses.get(s)[0];
        report.compare("step_losses", stepLosses, STEPPED_TOLERANCE);
        for (Map.Entry<String, float[]> e : after.entrySet()) {
            String key = "step" + STEPS + "." + e.getKey();
            report.compare(
                    key,
                    e.getValue(),
                    isStem(key) && !e.getKey().contains("running_") ? STEPPED_STEM_TOLERANCE : STEPPED_TOLERANCE);
        }
        report.finish(STEPS + " momentum-SGD steps (" + target.modelFile() + "): parameters and running statistics");
    }

    /** conv1 and bn1 (the stem): behind every BatchNorm backward of the net, and the largest relative updates. */
    static boolean isStem(String key) {
        String name = key.replaceFirst("^(grad|step\\d+)\\.", "");
        return name.startsWith("conv1.") || name.startsWith("bn1.");
    }

    /** The parameters whose gradients the golden holds (grad.<name>), in its order. */
    static List<String> checkedParameters(SafeTensors.Contents golden) {
        List<String> r = new ArrayList<>();
        for (String k : golden.tensors().keySet())
            if (k.startsWith("f64/grad.")) r.add(k.substring("f64/grad.".length()));
        if (r.isEmpty()) fail(golden.source() + " holds no f64/grad.* tensors: not a golden of sef_reference.py");
        return r;
    }

    static HostTensor images() {
        return HostTensor.floats(TorchReferenceInputs.images(), TorchReferenceInputs.imageShape());
    }

    static HostTensor labels() {
        return HostTensor.longs(TorchReferenceInputs.LABELS.clone(), BATCH);
    }

    static SafeTensors.Contents golden() throws IOException {
        String override = System.getProperty(GOLDEN_PROPERTY);
        if (override != null && !override.isBlank()) return SafeTensors.read(Path.of(override));
        try (InputStream in = TorchReferenceTest.class.getResourceAsStream(TorchReferenceInputs.GOLDEN_RESOURCE)) {
            if (in == null) fail(HOW_TO_PRODUCE);
            return SafeTensors.read(in.readAllBytes(), "classpath:" + TorchReferenceInputs.GOLDEN_RESOURCE);
        }
    }
}
