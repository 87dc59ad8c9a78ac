package org.sefonnx.train.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** A metrics row as metrics.jsonl and the run state hold it: written by toJson, read back through the project's JSON parser. */
class EpochMetricsTest {
    @Test
    void aRowWithValidationAndGroupMetricsReadsBackToSixSignificantDigits() {
        EpochMetrics row = new EpochMetrics(
                3,
                0.001,
                new EpochMetrics.LossTerms(1.25, 2.5, -0.75, 0.125, 0.5),
                new EpochMetrics.LossTerms(1.5, 2.25, -0.5, 0.25, 0.375),
                0.6125,
                0.6,
                123.456789,
                42.5,
                0.65,
                2,
                480,
                0.7,
                0.68,
                Protocol.SelectOn.VAL,
                new GroupMetrics.Summary(0.41, 0.12, new double[] {0.3, 0.35}));
        String json = row.toJson();
        assertTrue(json.contains("\"selected_on\": \"val\""), json);
        EpochMetrics back = EpochMetrics.parseJson(json);
        assertEquals(123.457, back.trainImagesPerSecond(), 0, "%.6g keeps six significant digits");
        assertEquals(
                new EpochMetrics(
                        3,
                        0.001,
                        row.train(),
                        row.test(),
                        0.6125,
                        0.6,
                        123.457,
                        42.5,
                        0.65,
                        2,
                        480,
                        0.7,
                        0.68,
                        Protocol.SelectOn.VAL,
                        row.groups()),
                back);
    }

    @Test
    void aNonFiniteValueIsWrittenAsNullAndReadAsNaNAndARowThatIsNotJsonIsRefused() {
        EpochMetrics row = new EpochMetrics(
                0,
                0.01,
                new EpochMetrics.LossTerms(1, 1, 0, 0, 0),
                new EpochMetrics.LossTerms(1, 1, 0, 0, 0),
                0.5,
                0.5,
                10,
                1,
                0.5,
                0,
                5);
        assertTrue(row.toJson().contains("\"val_top1\": null"), row.toJson());
        EpochMetrics back = EpochMetrics.parseJson(row.toJson());
        assertTrue(Double.isNaN(back.valTop1()));
        assertEquals(Protocol.SelectOn.TEST, back.selectedOn());
        assertEquals(GroupMetrics.Summary.NONE, back.groups());
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> EpochMetrics.parseJson("{\"epoch\": 1, \"lr\": "));
        assertTrue(e.getMessage().startsWith("metrics row is not JSON"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> EpochMetrics.parseJson("{\"epoch\": 1}"));
        assertTrue(e.getMessage().startsWith("metrics row lacks lr"), e.getMessage());
    }
}
