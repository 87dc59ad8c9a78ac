package org.sefonnx.generator;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.sefonnx.contract.ArtifactLayout;
import org.sefonnx.contract.AtomicFiles;
import org.sefonnx.generator.artifacts.ArtifactWriter;
import org.sefonnx.generator.artifacts.TrainingArtifacts;
import org.sefonnx.generator.artifacts.TrainingTarget;
import org.sefonnx.generator.codegen.ModelClassEmitter;
import org.sefonnx.generator.model.ModelSpec;

/**
 * The generate-graphs build step: for every shipped spec, the training/eval/optimizer models under
 * {@code <resources>/sef-onnx/graphs/<id>/} and a typed model class under {@code <sources>}. Initial checkpoints
 * are not built here (ResNet-50's is ~200 MB with momentum buffers); `sef-onnx generate` writes them on demand.
 */
public final class GenerateGraphs {
    private GenerateGraphs() {}

    public static void main(String[] args) throws IOException {
        Path sources = null, resources = null;
        String pkg = "org.sefonnx.graphs";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--sources" -> sources = Path.of(args[++i]);
                case "--resources" -> resources = Path.of(args[++i]);
                case "--package" -> pkg = args[++i];
                default ->
                    throw new IllegalArgumentException(
                            "unknown argument " + args[i] + "; usage: --sources DIR --resources DIR [--package NAME]");
            }
        }
        if (sources == null || resources == null)
            throw new IllegalArgumentException("usage: --sources DIR --resources DIR [--package NAME]");
        ModelClassEmitter emitter = new ModelClassEmitter(pkg);
        List<ModelSpec> specs = ShippedSpecs.all();
        StringBuilder report = new StringBuilder("spec\tgenerate_ms");
        for (TrainingTarget target : TrainingTarget.values())
            report.append("\t").append(target.label() + "_training_nodes");
        report.append("\teval_nodes");
        for (TrainingTarget target : TrainingTarget.values())
            report.append("\t").append(target.label() + "_training_bytes");
        report.append("\teval_bytes\toptimizer_bytes\ttrainable_params\n");
        for (ModelSpec spec : specs) {
            long t0 = System.nanoTime();
            TrainingArtifacts.Models m = TrainingArtifacts.build(spec);
            Path dir = resources.resolve(ArtifactLayout.resourceDirectory(spec.id()));
            ArtifactWriter.writeModels(m, dir);
            emitter.emit(m).writeTo(sources);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            long params = m.trainable().stream().mapToLong(t -> t.numel()).sum();
            report.append(spec.id()).append('\t').append(ms);
            for (TrainingTarget target : TrainingTarget.values())
                report.append('\t').append(m.trainingNodeCount(target));
            report.append('\t').append(m.evalNodeCount());
            for (TrainingTarget target : TrainingTarget.values())
                report.append('\t').append(Files.size(dir.resolve(target.modelFile())));
            report.append('\t').append(Files.size(dir.resolve(ArtifactLayout.EVAL_MODEL)));
            report.append('\t').append(Files.size(dir.resolve(ArtifactLayout.OPTIMIZER_MODEL)));
            report.append('\t').append(params).append('\n');
        }
        emitter.emitRegistry(specs).writeTo(sources);
        AtomicFiles.writeString(
                resources.resolve(ArtifactLayout.RESOURCE_ROOT + "generation-report.tsv"), report.toString());
        System.out.print("[generate-graphs]\n" + report);
    }
}
