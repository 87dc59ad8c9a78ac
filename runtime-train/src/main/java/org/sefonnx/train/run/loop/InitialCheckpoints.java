package org.sefonnx.train.run.loop;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.artifacts.Checkpoint;
import org.sefonnx.generator.model.ModelSpec;
import org.sefonnx.generator.weights.PretrainedImport;

/** The checkpoint a new run starts from: PyTorch-default initial weights from the seed, or imported pretrained ones. */
final class InitialCheckpoints {
    private InitialCheckpoints() {}

    static Checkpoint create(ModelSpec spec, long seed, Path pretrained, PrintStream log) throws IOException {
        if (pretrained == null) {
            log.println("init: PyTorch-default initialisation from seed " + seed
                    + " (no --pretrained: training from scratch)");
            return ArtifactWriter.initialCheckpoint(spec, seed);
        }
        Checkpoint ck = PretrainedImport.initialCheckpoint(spec, seed, pretrained);
        log.println("init: ImageNet backbone from " + pretrained + " (sha256 "
                + ck.stringProperties().get(PretrainedImport.PROP_PRETRAINED_SHA256)
                + "); global and group heads fresh from seed " + seed);
        return ck;
    }
}
