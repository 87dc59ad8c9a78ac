package org.sefonnx.contract;

import java.util.Map;
import java.util.Set;

/**
 * What an int8 export records in its model's metadata, and the check that ONNX Runtime really runs it in integers:
 * an export is int8 when {@value #PRECISION_METADATA} says {@value #INT8}, and then its model promises
 * {@value #INTEGER_CONVOLUTIONS_METADATA} convolutions that the session's optimized graph must run as integer kernels
 * (QLinearConv). A QDQ model whose convolutions ORT leaves in float32 still computes the right numbers, slower than
 * the float model; the check makes that an error rather than a silent cost. The trainer's exporter (before it writes
 * the export) and runtime-infer (when it opens one) apply the same {@link #checkKernels}.
 */
public final class Int8Model {
    /** The model metadata key of the precision: {@value #INT8}; absent in float32 models. */
    public static final String PRECISION_METADATA = "sef.precision";

    public static final String INT8 = "int8", FP32 = "fp32";
    /** How many convolutions run in int8 (the rest of them, named in {@link #FLOAT_LAYERS_METADATA}, in float32). */
    public static final String INTEGER_CONVOLUTIONS_METADATA = "sef.int8.integer_convolutions";
    /** The layers kept in float32, comma-separated (the classifier and the group heads are always among them). */
    public static final String FLOAT_LAYERS_METADATA = "sef.int8.float_layers";
    /** How the activation ranges were calibrated: the method, the number of images and the seed that drew them. */
    public static final String CALIBRATION_METADATA = "sef.int8.calibration";
    /** The accuracy gate's numbers the export passed: float32 and int8 top-1 and mean per-class accuracy, the split. */
    public static final String ACCURACY_METADATA = "sef.int8.accuracy";

    /** ORT's integer convolution kernels, in any domain (ONNX's QLinearConv; com.microsoft's NHWC QLinearConv). */
    public static final Set<String> INTEGER_CONVOLUTION_OPS = Set.of("QLinearConv", "ConvInteger");
    /**
     * ORT's float convolution kernels: ONNX Conv, com.microsoft FusedConv/NhwcFusedConv (a Conv with its activation),
     * com.microsoft.nchwc Conv (the blocked-layout kernel at the highest optimization level).
     */
    public static final Set<String> FLOAT_CONVOLUTION_OPS =
            Set.of("Conv", "FusedConv", "NhwcFusedConv", "ConvTranspose");

    private Int8Model() {}

    /** The precision {@code metadata} records: {@value #INT8}, or {@value #FP32} when it records none. */
    public static String precision(Map<String, String> metadata) {
        return metadata.getOrDefault(PRECISION_METADATA, FP32);
    }

    /** The convolutions of an optimized graph ({@link OnnxModelScan#operators}), by kind of kernel. */
    public record Convolutions(int integer, int floating) {
        public static Convolutions of(Map<String, Integer> operators) {
            int integer = 0, floating = 0;
            for (Map.Entry<String, Integer> op : operators.entrySet()) {
                String type = op.getKey().substring(op.getKey().indexOf(':') + 1);
                if (INTEGER_CONVOLUTION_OPS.contains(type)) integer += op.getValue();
                else if (FLOAT_CONVOLUTION_OPS.contains(type)) floating += op.getValue();
            }
            return new Convolutions(integer, floating);
        }
    }

    /**
     * Null when the optimized graph of an int8 model runs at least the convolutions its {@code metadata} promises as
     * integer kernels; otherwise what is wrong, in a sentence that names the counts and the graph's operators.
     */
    public static String checkKernels(Map<String, String> metadata, Map<String, Integer> optimizedOperators) {
        String promised = metadata.get(INTEGER_CONVOLUTIONS_METADATA);
        int expected;
        try {
            expected = Integer.parseInt(promised == null ? "" : promised.strip());
        } catch (NumberFormatException e) {
            return "metadata '" + INTEGER_CONVOLUTIONS_METADATA + "' is '" + promised
                    + "', expected the number of int8 convolutions";
        }
        Convolutions found = Convolutions.of(optimizedOperators);
        if (expected >= 1 && found.integer() >= expected) return null;
        return "the model promises " + expected + " int8 convolutions ('" + INTEGER_CONVOLUTIONS_METADATA
                + "'), but ONNX Runtime's optimized graph runs " + found.integer() + " as integer kernels and "
                + found.floating() + " in float32 (operators " + optimizedOperators + ")";
    }
}
