package org.sefonnx.train.run.listener;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** LossScaler against the rule PyTorch's GradScaler documents and its {@code _amp_update_scale_} kernel implements. */
class LossScalerTest {
    @Test
    void startsAtTwoToTheSixteenth() {
        LossScaler s = new LossScaler();
        assertEquals(65536f, s.scale());
        assertEquals(0, s.growthTracker());
    }

    @Test
    void doublesAfterTwoThousandConsecutiveFiniteStepsAndNotBefore() {
        LossScaler s = new LossScaler();
        for (int i = 1; i < 2000; i++) {
            assertTrue(s.update(true));
            assertEquals(65536f, s.scale(), "step " + i);
            assertEquals(i, s.growthTracker());
        }
        assertTrue(s.update(true));
        assertEquals(131072f, s.scale());
        assertEquals(0, s.growthTracker());
        for (int i = 0; i < 2000; i++) s.update(true);
        assertEquals(262144f, s.scale());
    }

    @Test
    void aNonFiniteStepIsSkippedHalvesTheScaleAndRestartsTheCount() {
        LossScaler s = new LossScaler();
        for (int i = 0; i < 1999; i++) s.update(true);
        assertFalse(s.update(false));
        assertEquals(32768f, s.scale());
        assertEquals(0, s.growthTracker());
        assertFalse(s.update(false));
        assertEquals(16384f, s.scale());
        // the 1,999 finite steps before the skip no longer count
        for (int i = 0; i < 1999; i++) s.update(true);
        assertEquals(16384f, s.scale());
        s.update(true);
        assertEquals(32768f, s.scale());
    }

    @Test
    void growthThatWouldOverflowKeepsTheScaleAsPyTorchDoes() {
        LossScaler s = new LossScaler(0x1.0p127f, 1999);
        assertTrue(s.update(true));
        assertEquals(0x1.0p127f, s.scale());
        assertEquals(0, s.growthTracker());
    }

    @Test
    void stateRoundTripsThroughThePropertyBag() {
        LossScaler s = new LossScaler();
        for (int i = 0; i < 1234; i++) s.update(true);
        s.update(false);
        for (int i = 0; i < 77; i++) s.update(true);
        LossScaler back = LossScaler.restore(
                Map.of(LossScaler.PROP_SCALE, s.scale()),
                Map.of(LossScaler.PROP_GROWTH_TRACKER, (long) s.growthTracker()));
        assertEquals(32768f, back.scale());
        assertEquals(77, back.growthTracker());
        LossScaler fresh = LossScaler.restore(Map.of(), Map.of());
        assertEquals(65536f, fresh.scale());
        assertThrows(
                IllegalStateException.class, () -> LossScaler.restore(Map.of(LossScaler.PROP_SCALE, 2f), Map.of()));
        assertThrows(IllegalArgumentException.class, () -> new LossScaler(0f, 0));
    }
}
