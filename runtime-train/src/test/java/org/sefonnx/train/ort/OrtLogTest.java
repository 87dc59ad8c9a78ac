package org.sefonnx.train.ort;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sefonnx.generator.ShippedSpecs;
import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.train.run.options.TrainOptions;
import org.sefonnx.train.run.session.ModelArtifacts;
import org.sefonnx.train.run.session.Sessions;
import org.sefonnx.train.run.session.SpecDescriptor;

/** ORT's own log: plain lines on the sink sef-onnx gives it, and no warning from the generated graphs. */
class OrtLogTest {
    @Test
    void aLogRecordIsOnePlainLineWithoutColourCodes() {
        String line = OrtAdapter.logLine(
                2, "graph.cc:126 MergeShapeInfo", "Error merging shape info for output. 'x' source:{} target:{1}.\n");
        assertEquals(
                "onnxruntime warning (graph.cc:126 MergeShapeInfo): Error merging shape info for output. 'x' source:{} target:{1}.",
                line);
        assertFalse(line.contains("\u001b"));
    }

    @Test
    void trainingStepsAndOptimizerStepsLogNoWarning(@TempDir Path dir) throws Exception {
        // the shipped demo (SGD) and a generated AdamW spec: both optimizer graphs declare what their op makes, at
        // load (shape inference) and at every step (ORT checks each graph output against its declared shape)
        ModelSpec adamw = ModelSpec.of("log-adamw", 18, 2, 2, 32).withOptimizer(ModelSpec.Optimizer.ADAMW, 0.9, 1e-4);
        for (ModelSpec spec : List.of(ShippedSpecs.demo(), adamw)) {
            Path artifacts = dir.resolve(spec.id());
            java.nio.file.Files.createDirectories(artifacts);
            ModelArtifacts.materialize(spec, SpecDescriptor.of(spec), artifacts);
            ArtifactWriter.writeInitialCheckpoint(spec, 1, artifacts);
            List<String> logged = new CopyOnWriteArrayList<>();
            Consumer<String> previous = OrtAdapter.routeLog(logged::add);
            try (OrtAdapter ort = OrtAdapter.create("log-test");
                    OrtAdapter.Training session = Sessions.open(
                            ort,
                            SpecDescriptor.of(spec),
                            artifacts,
                            artifacts.resolve(org.sefonnx.contract.ArtifactLayout.CHECKPOINT),
                            TrainOptions.Device.CPU,
                            1,
                            OrtAdapter.CudaOptions.defaults(),
                            new PrintStream(PrintStream.nullOutputStream()))) {
                session.setLearningRate(0.01f);
                int batch = 2, size = spec.imageSize();
                HostTensor images = HostTensor.floats(new float[batch * 3 * size * size], batch, 3, size, size),
                        labels = HostTensor.longs(new long[] {0, 1}, batch);
                for (int step = 0; step < 2; step++) {
                    session.trainStep(List.of(images, labels));
                    session.optimizerStep();
                    session.lazyResetGrad();
                }
            } finally {
                OrtAdapter.routeLog(previous);
            }
            assertEquals(List.of(), logged, spec.id());
        }
    }
}
