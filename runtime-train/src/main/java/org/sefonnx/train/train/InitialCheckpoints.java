package org.sefonnx.train.train;

import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.artifacts.Checkpoint;
import org.sefonnx.generator.model.ModelSpec;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;

/** The checkpoint a new run starts from: PyTorch-default initial weights from the seed, or imported pretrained ones. */
final class InitialCheckpoints {
    private InitialCheckpoints() {}

    static Checkpoint create(ModelSpec spec, long seed, Path pretrained, PrintStream log) throws IOException {
        if (pretrained == null) {
            log.println("init: PyTorch-default initialisation from seed " + seed + " (no --pretrained: training from scratch)");
            return ArtifactWriter.initialCheckpoint(spec, seed);
        }
        throw new IllegalArgumentException("--pretrained is not available in this build");
    }
}
