package org.sefonnx.generator.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.sefonnx.generator.quantize.Int8Arithmetic.ActivationParams;

class Int8ArithmeticTest {
    @Test
    void aPostReluRangeGetsZeroPointZeroAndScaleRangeOver255() {
        ActivationParams p = Int8Arithmetic.activation(0, 2.55);
        assertEquals(0, p.zeroPoint());
        assertEquals(0.01f, p.scale(), 1e-9f);
        assertEquals(0, p.quantize(-3f), "below the range saturates at 0: the ReLU");
        assertEquals(255, p.quantize(9f));
    }

    @Test
    void theRangeIsWidenedToHoldZeroAndTheZeroPointRoundsToTheGrid() {
        ActivationParams positive = Int8Arithmetic.activation(1, 3);
        assertEquals(0, positive.zeroPoint());
        assertEquals(3f / 255, positive.scale(), 1e-9f);
        ActivationParams negative = Int8Arithmetic.activation(-3, -1);
        assertEquals(255, negative.zeroPoint());
        // [-1, 3]: scale 4/255, zero point round(1 / (4/255)) = round(63.75) = 64
        ActivationParams mixed = Int8Arithmetic.activation(-1, 3);
        assertEquals(64, mixed.zeroPoint());
        assertEquals(0f, mixed.fakeQuantize(0f), "zero is exact on the grid");
        assertEquals(new ActivationParams(1, 0), Int8Arithmetic.activation(0, 0), "a constant-zero tensor");
        assertThrows(IllegalArgumentException.class, () -> Int8Arithmetic.activation(Double.NaN, 1));
    }

    @Test
    void quantizeRoundsHalfToEvenAsOnnxQuantizeLinear() {
        ActivationParams unit = new ActivationParams(1, 0);
        assertEquals(2, unit.quantize(2.5f));
        assertEquals(4, unit.quantize(3.5f));
        assertEquals(255, unit.quantize(300f));
    }

    @Test
    void weightsArePerOutputChannelSymmetricInMinus127To127() {
        float[] w = {1, -2, 0, 0, 0.5f, 0.25f};
        float[] scales = Int8Arithmetic.weightScales(w, 3);
        assertArrayEquals(new float[] {2f / 127, 1, 0.5f / 127}, scales, 1e-9f);
        // 1 / (2/127) = 63.5 and 0.25 / (0.5/127) = 63.5: ties to even, 64
        assertArrayEquals(new byte[] {64, -127, 0, 0, 127, 64}, Int8Arithmetic.quantizeWeights(w, scales));
        assertThrows(IllegalArgumentException.class, () -> Int8Arithmetic.weightScales(new float[] {1, Float.NaN}, 1));
    }

    @Test
    void biasIsInt32AtInputTimesWeightScaleAndAWeightScaleGrowsWhenItWouldOverflow() {
        float inputScale = 1e-3f;
        float[] weightScales = {1e-6f, 0.01f};
        float[] bias = {1e6f, -0.5f};
        Int8Arithmetic.fitBiasInInt32(bias, inputScale, weightScales);
        assertTrue(weightScales[0] > 1e-6f, "channel 0's bias is 1e15 steps of 1e-9: the weight scale grows");
        assertEquals(0.01f, weightScales[1], "channel 1 fits and keeps its scale");
        float[] biasScales = Int8Arithmetic.biasScales(inputScale, weightScales);
        int[] q = Int8Arithmetic.quantizeBias(bias, biasScales);
        assertTrue(Math.abs((long) q[0]) <= Int8Arithmetic.INT32_LIMIT);
        assertEquals(-50_000, q[1]); // -0.5 / (1e-3 · 0.01)
        assertEquals(1e6, q[0] * (double) biasScales[0], 1e6 * 1e-6);
    }
}
