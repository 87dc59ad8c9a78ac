package org.sefonnx.graphs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.sefonnx.contract.ArtifactLayout;
import org.sefonnx.contract.ModelDescriptor;
import org.sefonnx.generator.ShippedSpecs;
import org.sefonnx.generator.artifacts.ComputedDescriptor;
import org.sefonnx.generator.artifacts.TrainingTarget;
import org.sefonnx.generator.model.ModelSpec;

/** The generated typed classes agree with the graphs packed next to them and with the generator's computed descriptor. */
class ShippedModelsTest {
    @Test
    void everyShippedSpecHasATypedClassAndItsModelsOnTheClassPath() throws Exception {
        assertEquals(
                ShippedSpecs.all().stream().map(ModelSpec::id).toList(),
                ShippedModels.ALL.stream().map(ModelDescriptor::modelId).toList());
        for (ModelDescriptor d : ShippedModels.ALL) {
            assertEquals(ShippedSpecs.byId(d.modelId()), ModelSpec.parse(d.specProperties(), d.modelId()));
            ModelProto training = load(d, TrainingTarget.CUDA.modelFile());
            ModelProto cpuTraining = load(d, TrainingTarget.CPU.modelFile());
            assertEquals(
                    inputNames(training),
                    inputNames(cpuTraining),
                    d.modelId() + ": CPU and CUDA training graphs bind the same checkpoint");
            ModelProto eval = load(d, ArtifactLayout.EVAL_MODEL);
            assertNotNull(load(d, ArtifactLayout.OPTIMIZER_MODEL));
            // the graphs take the descriptor's step inputs first, then the checkpoint tensors, and return its outputs
            List<String> inputs = inputNames(training);
            assertEquals(
                    d.trainStep().inputs(),
                    inputs.subList(0, d.trainStep().inputs().size()),
                    d.modelId());
            assertEquals(
                    d.evalStep().inputs(),
                    inputNames(eval).subList(0, d.evalStep().inputs().size()),
                    d.modelId());
            assertEquals(
                    d.evalStep().outputs(),
                    eval.getGraph().getOutputList().stream()
                            .map(ValueInfoProto::getName)
                            .toList());
            assertEquals(
                    d.trainStep().outputs(),
                    training.getGraph().getOutputList().stream()
                            .map(ValueInfoProto::getName)
                            .filter(d.trainStep().outputs()::contains)
                            .toList(),
                    d.modelId());
        }
    }

    @Test
    void generatedClassesAreFrozenCopiesOfTheComputedDescriptor() {
        for (ModelDescriptor d : ShippedModels.ALL) {
            ModelDescriptor computed = new ComputedDescriptor(ShippedSpecs.byId(d.modelId()));
            assertEquals(computed.modelId(), d.modelId());
            assertEquals(computed.specProperties(), d.specProperties());
            assertEquals(computed.numClasses(), d.numClasses());
            assertArrayEquals(computed.groupChannels(), d.groupChannels(), d.modelId());
            assertEquals(computed.precision(), d.precision());
            assertEquals(computed.trainStep(), d.trainStep());
            assertEquals(computed.evalStep(), d.evalStep());
        }
    }

    @Test
    void typedConstantsCarryTheSpecAndCannotBeChanged() throws Exception {
        assertEquals("cub-r50", CubR50Model.MODEL_ID);
        assertEquals(200, CubR50Model.NUM_CLASSES);
        assertEquals(4, CubR50Model.GROUPS);
        assertEquals(List.of(512, 512, 512, 512), CubR50Model.GROUP_CHANNELS);
        assertEquals(2048, CubR50Model.FEATURE_CHANNELS);
        assertEquals(14, CubR50Model.FEATURE_MAP_SIDE_CELLS);
        assertEquals(
                List.of(200L, 2048L),
                CubR50Model.TRAINABLE_SHAPES.get(CubR50Model.TRAINABLE_NAMES.indexOf("fc.weight")));
        assertEquals(ShippedModels.byId("demo-r18"), DemoR18Model.INSTANCE);
        assertEquals(List.of(-1L, 3L, 448L, 448L), CubR50Model.IMAGES_SHAPE);
        assertEquals(List.of(-1L, 200L), CubR50Model.LOGITS_SHAPE);
        assertEquals(List.of(-1L, 3L, 48L, 48L), DemoR18Model.IMAGES_SHAPE);
        List<String> checkpoint = new ArrayList<>(DemoR18Model.TRAINABLE_NAMES);
        checkpoint.addAll(DemoR18Model.FROZEN_NAMES);
        List<String> inputs = inputNames(load(DemoR18Model.INSTANCE, TrainingTarget.CUDA.modelFile()));
        assertEquals(
                checkpoint,
                inputs.subList(2, 2 + checkpoint.size()),
                "the checkpoint tensors follow images and labels");
        long count = 0;
        for (List<Long> shape : DemoR18Model.TRAINABLE_SHAPES) {
            count += shape.stream().mapToLong(Long::longValue).reduce(1, (a, b) -> a * b);
        }
        assertEquals(DemoR18Model.TRAINABLE_PARAMETER_COUNT, count);

        assertThrows(UnsupportedOperationException.class, () -> CubR50Model.IMAGES_SHAPE.set(2, 1L));
        assertThrows(UnsupportedOperationException.class, () -> CubR50Model.GROUP_CHANNELS.set(0, 1));
        assertThrows(UnsupportedOperationException.class, () -> CubR50Model.TRAINABLE_NAMES.add("x"));
        CubR50Model.INSTANCE.groupChannels()[0] = 1;
        assertEquals(512, CubR50Model.INSTANCE.groupChannels()[0], "groupChannels() hands out a copy");
    }

    static ModelProto load(ModelDescriptor d, String file) throws Exception {
        String resource = ArtifactLayout.resourceDirectory(d.modelId()) + file;
        try (InputStream in = ShippedModelsTest.class.getClassLoader().getResourceAsStream(resource)) {
            assertNotNull(in, resource + " missing from the graphs jar");
            return ModelProto.parseFrom(in);
        }
    }

    static List<String> inputNames(ModelProto m) {
        return m.getGraph().getInputList().stream().map(ValueInfoProto::getName).toList();
    }
}
