package org.sefonnx.validation;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sefonnx.generator.ShippedSpecs;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.ort.OrtAdapter;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ArtifactsLoadInOrtTest {
    @TempDir
    Path dir;

    @Test
    void demoSpecRunsTrainStepAndOptimizerStep() throws Exception {
        ModelSpec spec = ShippedSpecs.demo();
        runOneStep(spec, 4);
    }

    void runOneStep(ModelSpec spec, int batch) throws Exception {
        try (OrtAdapter.Training t = Ort.open(spec, dir, 7)) {
            t.setLearningRate(0.01f);
            System.out.println("train inputs " + t.trainInputNames() + " outputs " + t.trainOutputNames());
            HostTensor x = Ort.images(batch, spec.imageSize(), 1);
            HostTensor y = Ort.labels(batch, spec.numClasses());
            List<HostTensor> out = t.trainStep(List.of(x, y));
            System.out.println("loss terms " + out.stream().map(HostTensor::scalar).toList());
            assertEquals(5, out.size());
            for (HostTensor o : out) assertTrue(Float.isFinite(o.scalar()));
            t.optimizerStep();
            t.lazyResetGrad();
            List<HostTensor> ev = t.evalStep(List.of(x, y));
            System.out.println("eval " + ev.subList(0, 5).stream().map(HostTensor::scalar).toList());
        }
    }
}
