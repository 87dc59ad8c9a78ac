package org.sefonnx.train.run.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.sefonnx.train.run.options.Protocol;

/** A metrics row as metrics.jsonl and the run state hold it: written by toJson, read back through the project's JSON parser. */
class EpochMetricsTest {
    private static EpochMetrics.Builder row(int epoch) {
        return EpochMetrics.builder(epoch)
                .learningRate(0.01)
                .losses(new EpochMetrics.LossTerms(1, 1, 0, 0, 0), new EpochMetrics.LossTerms(1, 1, 0, 0, 0))
                .testAccuracy(0.5, 0.5)
                .speed(10, 1)
                .best(0.5, 0, Protocol.SelectOn.TEST)
                .globalStep(5);
    }

    @Test
    void aRowWithValidationAndGroupMetricsReadsBackToSixSignificantDigits() {
        EpochMetrics row = EpochMetrics.builder(3)
                .learningRate(0.001)
                .losses(
                        new EpochMetrics.LossTerms(1.25, 2.5, -0.75, 0.125, 0.5),
                        new EpochMetrics.LossTerms(1.5, 2.25, -0.5, 0.25, 0.375))
                .testAccuracy(0.6125, 0.6)
                .speed(123.456789, 42.5)
                .best(0.65, 2, Protocol.SelectOn.VAL)
                .globalStep(480)
                .validationAccuracy(0.7, 0.68)
                .groups(new GroupMetrics.Summary(0.41, 0.12, new double[] {0.3, 0.35}))
                .build();
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
    void theColumnsAreTheFileFormatInOrder() {
        EpochMetrics withGroups = row(0).groups(new GroupMetrics.Summary(0.4, 0.1, new double[] {0.3, 0.2}))
                .build();
        assertEquals(
                "epoch,lr,train_loss,train_cross_entropy,train_entropy,train_distillation,train_grouping,test_loss,"
                        + "test_cross_entropy,test_entropy,test_distillation,test_grouping,test_top1,"
                        + "test_mean_class_accuracy,train_images_per_second,epoch_seconds,best_top1,best_epoch,"
                        + "global_step,val_top1,val_mean_class_accuracy,selected_on,test_intra_sq_cos,"
                        + "test_inter_sq_cos,test_group0_top1,test_group1_top1",
                withGroups.csvHeader());
        assertEquals(
                "0,0.0100000,1.00000,1.00000,0.00000,0.00000,0.00000,1.00000,1.00000,0.00000,0.00000,0.00000,"
                        + "0.500000,0.500000,10.0000,1.00000,0.500000,0,5,null,null,test,0.400000,0.100000,0.300000,"
                        + "0.200000",
                withGroups.toCsv());
        // each chart draws the columns that name it, in column order
        assertEquals(
                List.of(
                        "train loss",
                        "train CE",
                        "train entropy E",
                        "train distillation S",
                        "train grouping L_group",
                        "test CE"),
                withGroups.columns().stream()
                        .filter(c -> c.chart() == EpochMetrics.Chart.LOSS)
                        .map(EpochMetrics.Column::series)
                        .toList());
        assertEquals(
                List.of(
                        "test grouping L_group",
                        "intra-group squared cosine",
                        "inter-group squared cosine",
                        "group 0 head top-1",
                        "group 1 head top-1"),
                withGroups.columns().stream()
                        .filter(c -> c.chart() == EpochMetrics.Chart.GROUPS)
                        .map(EpochMetrics.Column::series)
                        .toList());
    }

    @Test
    void aNonFiniteValueIsWrittenAsNullAndReadAsNaNAndARowThatIsNotJsonIsRefused() {
        EpochMetrics row = row(0).build();
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
        e = assertThrows(
                IllegalArgumentException.class,
                () -> EpochMetrics.parseJson(row.toJson().replace("\"lr\": 0.0100000", "\"lr\": \"fast\"")));
        assertTrue(e.getMessage().startsWith("metrics row field lr is not a number"), e.getMessage());
    }

    @Test
    void aRowOfAnEarlierRunWithoutValidationSelectionOrGroupKeysReadsAsThatRunBehaved() {
        // a metrics.jsonl line as the first sef-onnx runs wrote it
        String old = "{\"epoch\": 2, \"lr\": 0.00100000, \"train_loss\": 1.50000, \"train_cross_entropy\": 2.00000,"
                + " \"train_entropy\": -0.500000, \"train_distillation\": 0.100000, \"train_grouping\": 0.200000,"
                + " \"test_loss\": 1.60000, \"test_cross_entropy\": 2.10000, \"test_entropy\": -0.400000,"
                + " \"test_distillation\": 0.110000, \"test_grouping\": 0.210000, \"test_top1\": 0.750000,"
                + " \"test_mean_class_accuracy\": 0.740000, \"train_images_per_second\": 88.0000,"
                + " \"epoch_seconds\": 12.0000, \"best_top1\": 0.760000, \"best_epoch\": 1, \"global_step\": 30}";
        EpochMetrics back = EpochMetrics.parseJson(old);
        assertEquals(2, back.epoch());
        assertEquals(30L, back.globalStep());
        assertEquals(1, back.bestEpoch());
        assertEquals(new EpochMetrics.LossTerms(1.6, 2.1, -0.4, 0.11, 0.21), back.test());
        assertEquals(Protocol.SelectOn.TEST, back.selectedOn());
        assertTrue(Double.isNaN(back.valTop1()) && Double.isNaN(back.valMeanClassAccuracy()));
        assertEquals(GroupMetrics.Summary.NONE, back.groups());
        assertEquals(old, back.toJson().substring(0, old.length() - 1) + "}", "the columns it had, written alike");
    }
}
