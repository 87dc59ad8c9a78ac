package org.sefonnx.graphs;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import org.junit.jupiter.api.Test;
import org.sefonnx.generator.ShippedSpecs;
import org.sefonnx.generator.model.ModelSpec;

import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** The generated typed classes agree with the graphs packed next to them. */
class ShippedModelsTest {
    @Test
    void everyShippedSpecHasATypedClassAndItsThreeModelsOnTheClassPath() throws Exception {
        assertEquals(ShippedSpecs.all().stream().map(ModelSpec::id).toList(), ShippedModels.ALL.stream().map(ModelDescriptor::modelId).toList());
        for (ModelDescriptor d : ShippedModels.ALL) {
            assertEquals(ShippedSpecs.byId(d.modelId()), ModelSpec.parse(d.specProperties(), d.modelId()));
            ModelProto training = load(d, d.trainingModelFile());
            ModelProto cpuTraining = load(d, d.cpuTrainingModelFile());
            assertEquals(inputNames(training), inputNames(cpuTraining), d.modelId() + ": CPU and CUDA training graphs bind the same checkpoint");
            ModelProto eval = load(d, d.evalModelFile());
            assertNotNull(load(d, d.optimizerModelFile()));
            List<String> inputs = training.getGraph().getInputList().stream().map(ValueInfoProto::getName).toList();
            List<String> checkpoint = new ArrayList<>(d.trainableNames());
            checkpoint.addAll(d.frozenNames());
            assertEquals(List.of(d.imagesInput(), d.labelsInput()), inputs.subList(0, 2));
            assertEquals(checkpoint, inputs.subList(2, 2 + checkpoint.size()));
            assertEquals(d.evalOutputs(), eval.getGraph().getOutputList().stream().map(ValueInfoProto::getName).toList());
            long count = 0;
            for (long[] s : d.trainableShapes()) {
                long n = 1;
                for (long x : s) n *= x;
                count += n;
            }
            assertEquals(d.trainableParameterCount(), count);
        }
    }

    @Test
    void typedConstantsCarryTheSpec() {
        assertEquals("cub-r50", CubR50Model.MODEL_ID);
        assertEquals(200, CubR50Model.NUM_CLASSES);
        assertEquals(4, CubR50Model.GROUPS);
        assertArrayEquals(new int[]{512, 512, 512, 512}, CubR50Model.INSTANCE.groupChannels());
        assertEquals(2048, CubR50Model.FEATURE_CHANNELS);
        assertEquals(14, CubR50Model.FEATURE_MAP_SIZE_PX);
        assertArrayEquals(new long[]{200, 2048}, CubR50Model.TRAINABLE_SHAPES.get(CubR50Model.TRAINABLE_NAMES.indexOf("fc.weight")));
        assertEquals(ShippedModels.byId("demo-r18"), DemoR18Model.INSTANCE);
        assertArrayEquals(new long[]{-1, 3, 448, 448}, CubR50Model.IMAGES_SHAPE);
        assertArrayEquals(new long[]{-1, 200}, CubR50Model.LOGITS_SHAPE);
        assertArrayEquals(new long[]{-1, 3, 48, 48}, DemoR18Model.IMAGES_SHAPE);
    }

    static ModelProto load(ModelDescriptor d, String file) throws Exception {
        try (InputStream in = ShippedModelsTest.class.getClassLoader().getResourceAsStream(d.resourceDirectory() + file)) {
            assertNotNull(in, d.resourceDirectory() + file + " missing from the graphs jar");
            return ModelProto.parseFrom(in);
        }
    }

    static List<String> inputNames(ModelProto m) {
        return m.getGraph().getInputList().stream().map(ValueInfoProto::getName).toList();
    }
}
