package org.sefonnx.train.run.int8;

import java.util.List;
import java.util.Locale;
import org.sefonnx.generator.quantize.CalibrationMethod;

/**
 * The int8 accuracy gate as a user reads it: the float32 and int8 accuracy on the selecting split, every calibration
 * method tried, the one chosen, the layers left in float32, the verdict, and the layers that lose most.
 */
record GateReport(
        String modelId,
        String split,
        Accuracy fp32,
        List<Trial> trials,
        Trial chosen,
        List<String> floatLayers,
        List<String> movedToFloat,
        double maxDrop,
        int calibrationImages,
        long seed,
        double foldDifference,
        int integerConvolutions,
        long fp32Bytes,
        long int8Bytes,
        List<LayerErrors.LayerError> worstLayers) {
    /** How many layers the report names. */
    static final int WORST_LAYERS_SHOWN = 8;

    /** One quantized model scored: its calibration method, the layers it kept in float32, its accuracy. */
    record Trial(CalibrationMethod method, List<String> floatLayers, Accuracy accuracy) {}

    boolean accepted() {
        return fp32.dropTo(chosen.accuracy()) <= maxDrop;
    }

    /** The gate's numbers for the model's metadata, one line. */
    String accuracyLine() {
        return String.format(
                Locale.ROOT,
                "%s split, %d images: top-1 float32 %.2f %%, int8 %.2f %% (drop %.2f points, allowed %.2f); mean per-class"
                        + " float32 %.2f %%, int8 %.2f %%",
                split,
                fp32.images(),
                100 * fp32.top1(),
                100 * chosen.accuracy().top1(),
                fp32.dropTo(chosen.accuracy()),
                maxDrop,
                100 * fp32.meanClassAccuracy(),
                100 * chosen.accuracy().meanClassAccuracy());
    }

    /** The calibration for the model's metadata, one line. */
    String calibrationLine() {
        return chosen.method() + " over " + calibrationImages + " training images (seed " + seed + ")";
    }

    String render() {
        StringBuilder s = new StringBuilder();
        line(s, "# sef-onnx int8 export of %s: accuracy gate", modelId);
        line(s, "split: %s, %d images (the split the run selects its best epoch on)", split, fp32.images());
        line(
                s,
                "calibration: %d training images (seed %d); BatchNorm folded, max |logit - float32 export's| %.2g",
                calibrationImages,
                seed,
                foldDifference);
        line(s, "");
        line(s, "| model | calibration | float32 layers | top-1 %% | mean per-class %% | drop (points) |");
        line(s, "|---|---|---|---:|---:|---:|");
        line(s, "| float32 | | all | %.2f | %.2f | |", 100 * fp32.top1(), 100 * fp32.meanClassAccuracy());
        for (Trial t : trials) {
            line(
                    s,
                    "| int8%s | %s | %s | %.2f | %.2f | %.2f |",
                    t == chosen ? " (chosen)" : "",
                    t.method(),
                    t.floatLayers().isEmpty() ? "head only" : String.join(", ", t.floatLayers()),
                    100 * t.accuracy().top1(),
                    100 * t.accuracy().meanClassAccuracy(),
                    fp32.dropTo(t.accuracy()));
        }
        line(s, "");
        line(s, "chosen: %s (the highest int8 top-1; ties: mean per-class, then the order tried)", chosen.method());
        line(s, "float32 layers: %s", String.join(", ", floatLayers));
        if (!movedToFloat.isEmpty())
            line(s, "moved to float32 by the gate (the layers adding most error): %s", String.join(", ", movedToFloat));
        line(
                s,
                "int8 convolutions: %d, checked in ONNX Runtime's optimized graph to run as integer kernels",
                integerConvolutions);
        line(
                s,
                "model.onnx: float32 %.1f MB, int8 %.1f MB (%.2fx smaller)",
                fp32Bytes / 1e6,
                int8Bytes / 1e6,
                fp32Bytes / (double) int8Bytes);
        line(
                s,
                "verdict: %s (top-1 drop %.2f points, allowed %.2f: --max-accuracy-drop)",
                accepted() ? "ACCEPTED, the int8 export is written" : "REFUSED, no int8 model is written",
                fp32.dropTo(chosen.accuracy()),
                maxDrop);
        line(s, "");
        line(s, "worst layers (relative error of the int8 output against float32, and the part the layer adds):");
        for (LayerErrors.LayerError e : worstLayers.subList(0, Math.min(WORST_LAYERS_SHOWN, worstLayers.size()))) {
            line(s, "  %-28s added %.4f   output %.4f", e.layer(), e.addedError(), e.relativeError());
        }
        if (!accepted()) {
            line(s, "");
            line(
                    s,
                    "to go on: keep the worst layers in float32 (--float-layers %s), allow more layers to move "
                            + "(--max-float-layers), calibrate on more images (--calibration-images), or allow a larger drop",
                    worstLayers.isEmpty() ? "LAYER" : worstLayers.get(0).layer());
        }
        return s.toString();
    }

    private static void line(StringBuilder s, String format, Object... args) {
        s.append(String.format(Locale.ROOT, format, args)).append('\n');
    }
}
