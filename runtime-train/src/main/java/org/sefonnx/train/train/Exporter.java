package org.sefonnx.train.train;

import org.sefonnx.generator.artifacts.AtomicFiles;
import org.sefonnx.graphs.ModelDescriptor;
import org.sefonnx.train.data.LabelFile;
import org.sefonnx.train.data.TransformSpec;
import org.sefonnx.train.ort.OrtAdapter;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The inference export: ORT's ExportModelForInferencing of the eval graph pruned to logits and probabilities (the
 * backbone and the global head only; the group heads and losses fall away), the labels file, and the evaluation
 * preprocessing, so runtime-infer reproduces the test transform without retyping it.
 */
public final class Exporter {
    public static final String MODEL_FILE = "model.onnx";
    public static final String LABELS_FILE = "labels.txt";
    public static final String PREPROCESSING_FILE = "preprocessing.properties";

    private Exporter() {}

    static Path export(OrtAdapter ort, ModelDescriptor d, RunDirectory run, TrainOptions o, Path checkpoint, List<String> classNames,
                       PrintStream log) throws IOException {
        return export(ort, d, run.artifacts(), checkpoint, Trainer.transform(o.layout(), o.spec().imageSize(), false), classNames, run.export(), log);
    }

    /** Exports {@code checkpoint} (a CPU session is enough: export only reads the weights). */
    public static Path export(OrtAdapter ort, ModelDescriptor d, Path artifacts, Path checkpoint, TransformSpec evalTransform,
                              List<String> classNames, Path outDir, PrintStream log) throws IOException {
        try (OrtAdapter.Training t = Sessions.open(ort, d, artifacts, checkpoint, TrainOptions.Device.CPU, 1, false, new PrintStream(PrintStream.nullOutputStream()))) {
            t.exportForInference(outDir.resolve(MODEL_FILE), d.inferenceOutputs());
        }
        LabelFile.write(outDir.resolve(LABELS_FILE), classNames);
        writePreprocessing(outDir.resolve(PREPROCESSING_FILE), evalTransform, d);
        log.println("export: " + outDir + " (" + MODEL_FILE + " from " + checkpoint.getFileName() + ", " + LABELS_FILE + ", " + PREPROCESSING_FILE + ")");
        return outDir;
    }

    static void writePreprocessing(Path file, TransformSpec t, ModelDescriptor d) throws IOException {
        String text = String.join("\n",
                "# evaluation transform of the training run: PIL bilinear+antialias resize, centre crop, ImageNet normalisation",
                "resize.width=" + t.resizeWidth(), "resize.height=" + t.resizeHeight(),
                "crop.width=" + t.cropWidth(), "crop.height=" + t.cropHeight(),
                "mean=0.485,0.456,0.406", "std=0.229,0.224,0.225", "interpolation=pil-bilinear-antialias",
                "input=" + d.imagesInput(), "outputs=" + String.join(",", d.inferenceOutputs()), "layout=NCHW",
                "modelId=" + d.modelId(), String.format(Locale.ROOT, "numClasses=%d", d.numClasses()), "");
        AtomicFiles.writeString(file, text);
    }
}
