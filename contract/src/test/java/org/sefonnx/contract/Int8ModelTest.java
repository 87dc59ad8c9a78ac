package org.sefonnx.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class Int8ModelTest {
    private static final Map<String, String> PROMISES_20 =
            Map.of(Int8Model.PRECISION_METADATA, Int8Model.INT8, Int8Model.INTEGER_CONVOLUTIONS_METADATA, "20");

    @Test
    void convolutionsAreCountedByKernelWhateverTheDomain() {
        Map<String, Integer> nhwc = Map.of(
                "com.microsoft:QLinearConv",
                19,
                ":QLinearConv",
                1,
                "com.microsoft.nchwc:Conv",
                2,
                ":Conv",
                1,
                "com.microsoft:FusedConv",
                3,
                "com.microsoft:QLinearAdd",
                8);
        assertEquals(new Int8Model.Convolutions(20, 6), Int8Model.Convolutions.of(nhwc));
    }

    @Test
    void anInt8ModelPassesOnlyWhenOrtRunsThePromisedConvolutionsAsIntegerKernels() {
        assertNull(Int8Model.checkKernels(PROMISES_20, Map.of("com.microsoft:QLinearConv", 20, ":Gemm", 3)));
        String fellBack = Int8Model.checkKernels(PROMISES_20, Map.of(":Conv", 20, ":DequantizeLinear", 39));
        assertTrue(
                fellBack.contains("promises 20 int8 convolutions")
                        && fellBack.contains("runs 0 as integer kernels and 20 in float32"),
                fellBack);
        String partly = Int8Model.checkKernels(PROMISES_20, Map.of(":QLinearConv", 19, ":Conv", 1));
        assertTrue(partly.contains("runs 19 as integer kernels"), partly);
        String unreadable = Int8Model.checkKernels(Map.of(Int8Model.PRECISION_METADATA, Int8Model.INT8), Map.of());
        assertTrue(unreadable.contains("expected the number of int8 convolutions"), unreadable);
        assertEquals(Int8Model.FP32, Int8Model.precision(Map.of()));
    }
}
