package org.sefonnx.train.run.options;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The protocol the command line's validation options give, refused where they contradict each other, and said in words. */
class ProtocolTest {
    @Test
    void selectingOnValidationNeedsAValidationSplit() {
        var rule = assertThrows(
                IllegalArgumentException.class, () -> Protocol.of(null, null, Protocol.SelectOn.VAL, false));
        assertTrue(rule.getMessage().contains("--select-on val needs a validation split"), rule.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Protocol.of(1.0, null, Protocol.SelectOn.VAL, false));
        var fraction = assertThrows(
                IllegalArgumentException.class, () -> Protocol.of(null, Protocol.ValSplit.FRACTION, null, false));
        assertEquals("--val-split fraction needs --val-fraction F (e.g. 0.1)", fraction.getMessage());
        assertEquals(Protocol.AUTHORS, Protocol.of(null, null, null, false));
        assertEquals(
                Protocol.ValSplit.FRACTION, Protocol.of(0.2, null, null, false).valSplit());
    }

    @Test
    void theRuleStatesTheRoundingNotTheFractionAsked() {
        String rule = Protocol.of(0.99, null, Protocol.SelectOn.VAL, false).describe();
        assertTrue(rule.contains("a validation split of round(0.99 × each class's training images)"), rule);
        assertTrue(!rule.contains("0.990"), rule);
    }

    @Test
    void resumeWithOtherValidationOptionsNamesOnlyWhatDiffers() {
        Protocol run = Protocol.AUTHORS, asked = Protocol.of(0.5, null, null, false);
        var e = assertThrows(IllegalArgumentException.class, () -> run.requireSame(asked, Path.of("runs/demo")));
        assertEquals(
                "runs/demo was started with other validation options (the run has no validation split, the command"
                        + " --val-fraction 0.5), which would change its validation split or selection rule mid-run: drop"
                        + " them (--resume reads the run's own from run.properties) or start a new --out",
                e.getMessage());
    }
}
