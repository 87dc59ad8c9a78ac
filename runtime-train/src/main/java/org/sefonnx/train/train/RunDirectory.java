package org.sefonnx.train.train;

import java.nio.file.Path;

/** Where a run keeps its files; every writer goes through a temp file and an atomic rename. */
public record RunDirectory(Path root) {
    public Path artifacts() { return root.resolve("artifacts"); }
    public Path checkpoints() { return root.resolve("checkpoints"); }
    /** The checkpoint after the last completed epoch: what --resume continues from. */
    public Path lastCheckpoint() { return checkpoints().resolve("last.ckpt"); }
    /** The checkpoint of the best test top-1 so far (what the paper reports and `export` uses by default). */
    public Path bestCheckpoint() { return checkpoints().resolve("best.ckpt"); }
    /** {@code best}, {@code last}, or a checkpoint file; fails naming the path when it does not exist. */
    public Path checkpoint(String which) {
        Path p = switch (which) {
            case "best" -> bestCheckpoint();
            case "last" -> lastCheckpoint();
            default -> Path.of(which);
        };
        if (!java.nio.file.Files.exists(p)) {
            throw new IllegalArgumentException(p + " does not exist: is " + root + " a sef-onnx run directory?");
        }
        return p;
    }

    public Path runProperties() { return root.resolve("run.properties"); }
    public Path labels() { return root.resolve("labels.txt"); }
    public Path metricsJsonl() { return root.resolve("metrics.jsonl"); }
    public Path metricsCsv() { return root.resolve("metrics.csv"); }
    public Path plots() { return root.resolve("plots"); }
    public Path bestConfusionMatrix() { return root.resolve("confusion-best.csv"); }
    public Path export() { return root.resolve("export"); }
    public Path summary() { return root.resolve("summary.txt"); }
}
