package org.sefonnx.train.run.state;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.sefonnx.contract.ArtifactLayout;
import org.sefonnx.contract.LabelFile;
import org.sefonnx.generator.artifacts.Checkpoint;
import org.sefonnx.generator.artifacts.CheckpointReader;
import org.sefonnx.train.data.ValidationSplit;

/** Where a run keeps its files; every writer goes through a temp file and an atomic rename (AtomicFiles). */
public record RunDirectory(Path root) {
    public Path artifacts() {
        return root.resolve("artifacts");
    }

    /** The initial weights a new run starts from (ArtifactLayout.CHECKPOINT); deleted after epoch 1 unless kept. */
    public Path initialCheckpoint() {
        return artifacts().resolve(ArtifactLayout.CHECKPOINT);
    }

    /** The embedded demo's IDX files, unpacked into a demo run's folder. */
    public Path demoData() {
        return root.resolve("demo-data");
    }

    public Path checkpoints() {
        return root.resolve("checkpoints");
    }
    /** The committed run state (RunState): what --resume, eval and export read first. */
    public Path state() {
        return RunState.file(this);
    }
    /** The checkpoint after {@code epochsCompleted} epochs; only those the run state names are kept. */
    public Path epochCheckpoint(int epochsCompleted) {
        return checkpoints().resolve(String.format(Locale.ROOT, "epoch-%04d.ckpt", epochsCompleted));
    }

    /**
     * {@code best} or {@code last} as the run state names them, verified against their SHA-256 and for finite values;
     * or a checkpoint file of this run's model spec. Fails naming the path when it does not exist, is not a sef-onnx
     * checkpoint (an image, a model) or was made for another spec, before ORT ever opens it.
     */
    public Path checkpoint(String which) throws IOException {
        if (which.equals("best") || which.equals("last"))
            return RunState.read(this).verified(this, which);
        Path p = Path.of(which);
        if (!Files.isRegularFile(p)) {
            throw new InvalidRunException(
                    "--checkpoint " + which + ": no such file; expected best, last or a checkpoint file");
        }
        Checkpoint header;
        try {
            header = CheckpointReader.readHeader(p);
        } catch (IllegalArgumentException e) {
            throw new InvalidRunException("--checkpoint " + which + " is not an ONNX Runtime checkpoint ("
                    + e.getMessage() + "); expected best, last or a file such as " + epochCheckpoint(1));
        }
        RunProperties.requireSameSpec(RunProperties.read(this).options().spec(), header, p);
        return p;
    }

    /** The validation images the run holds out ({@link ValidationList}); only with a validation split. */
    public Path validationList() {
        return root.resolve(ValidationSplit.FILE);
    }

    public Path runProperties() {
        return root.resolve("run.properties");
    }

    public Path labels() {
        return root.resolve(LabelFile.FILE_NAME);
    }

    public Path metricsJsonl() {
        return root.resolve("metrics.jsonl");
    }

    public Path metricsCsv() {
        return root.resolve("metrics.csv");
    }

    public Path plots() {
        return root.resolve("plots");
    }

    public Path bestConfusionMatrix() {
        return root.resolve("confusion-best.csv");
    }

    public Path export() {
        return root.resolve("export");
    }

    /** The int8 export (sef-onnx export --precision int8, train --export-int8), the float export's twin. */
    public Path int8Export() {
        return root.resolve("export-int8");
    }

    /** The last int8 accuracy gate's report, written whether the gate passed or refused the model. */
    public Path int8Gate() {
        return root.resolve("int8-gate.txt");
    }

    public Path summary() {
        return root.resolve("summary.txt");
    }
}
