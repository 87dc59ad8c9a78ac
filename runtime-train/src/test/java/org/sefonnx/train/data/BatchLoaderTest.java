package org.sefonnx.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sefonnx.imaging.ImageDecodeException;
import org.sefonnx.imaging.Normalization;

class BatchLoaderTest {
    private static final TransformSpec SMALL_TRAIN =
            TransformSpec.resizeAndCrop(12, 8, TransformSpec.Crop.RANDOM, true);

    /** All batches of one epoch: sizes, labels, indices and every float. */
    private record EpochContent(List<Integer> sizes, List<Long> labels, List<Integer> indices, List<Float> pixels) {}

    private static EpochContent run(BatchLoader loader, int epoch) {
        EpochContent content =
                new EpochContent(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        try (BatchLoader.Epoch batches = loader.epoch(epoch)) {
            while (batches.hasNext()) {
                try (Batch batch = batches.next()) {
                    assertTrue(batch.images().isDirect());
                    assertEquals(ByteOrder.nativeOrder(), batch.images().order());
                    assertEquals(
                            batch.size() * 3 * batch.height() * batch.width(),
                            batch.images().remaining());
                    content.sizes.add(batch.size());
                    for (int i = 0; i < batch.size(); i++) {
                        content.labels.add(batch.labels()[i]);
                        content.indices.add(batch.sampleIndices()[i]);
                    }
                    for (int i = 0; i < batch.images().limit(); i++) {
                        content.pixels.add(batch.images().get(i));
                    }
                }
            }
        }
        return content;
    }

    private static List<Sample> cubAndFolderSamples() {
        List<Sample> samples =
                new ArrayList<>(Datasets.open(Layout.CUB, Fixtures.data("cub")).train());
        samples.addAll(Datasets.open(Layout.CUB, Fixtures.data("cub")).test());
        return samples; // 7 JPEGs incl. grayscale and CMYK
    }

    @Test
    void batchesAreIdenticalForOneAndThreeWorkers() {
        List<Sample> samples = cubAndFolderSamples();
        LoaderOptions options = new LoaderOptions(3, 1, 2, 99L, true, false);
        EpochContent single;
        EpochContent threaded;
        try (BatchLoader loader = new BatchLoader(samples, SMALL_TRAIN, options)) {
            single = run(loader, 4);
        }
        try (BatchLoader loader =
                new BatchLoader(samples, SMALL_TRAIN, options.withWorkers(3).withPrefetch(1))) {
            threaded = run(loader, 4);
        }
        assertEquals(single, threaded);
        assertEquals(6 * 3 * 8 * 8, single.pixels.size());
    }

    @Test
    void trainingDropsAFinalBatchOfOneAndEvaluationKeepsEverySample() {
        List<Sample> samples = cubAndFolderSamples();
        try (BatchLoader train = new BatchLoader(samples, SMALL_TRAIN, new LoaderOptions(3, 2, 2, 1L, true, false));
                BatchLoader eval = new BatchLoader(
                        samples, TransformSpec.resize(8, false), new LoaderOptions(3, 2, 2, 1L, false, false))) {
            assertEquals(List.of(3, 3), run(train, 0).sizes);
            EpochContent all = run(eval, 0);
            assertEquals(List.of(3, 3, 1), all.sizes);
            assertEquals(List.of(0, 1, 2, 3, 4, 5, 6), all.indices);
            assertEquals(List.of(0L, 1L, 2L, 2L, 0L, 1L, 2L), all.labels);
        }
    }

    @Test
    void epochsShuffleDifferentlyAndResumeFromSeedAndEpochAlone() {
        List<Sample> samples = Datasets.open(Layout.IDX, Fixtures.data("idx")).train();
        TransformSpec spec = TransformSpec.resizeAndCrop(6, 4, TransformSpec.Crop.RANDOM, true);
        LoaderOptions options = new LoaderOptions(2, 2, 2, 2024L, true, false);
        EpochContent third;
        try (BatchLoader loader = new BatchLoader(samples, spec, options)) {
            EpochContent first = run(loader, 0);
            run(loader, 1);
            third = run(loader, 2);
            assertNotEquals(first.indices, third.indices);
            assertEquals(List.of(2, 2), first.sizes); // 5 samples, batch 2: the final single sample is dropped
        }
        try (BatchLoader resumed = new BatchLoader(samples, spec, options)) {
            assertEquals(third, run(resumed, 2));
        }
    }

    @Test
    void badImageFailsNamingItByDefault(@TempDir Path dir) throws IOException {
        List<Sample> samples = withCorruptImage(dir);
        try (BatchLoader loader = new BatchLoader(
                        samples, TransformSpec.resize(8, false), new LoaderOptions(2, 2, 2, 0L, false, false));
                BatchLoader.Epoch epoch = loader.epoch(0)) {
            ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> {
                while (epoch.hasNext()) {
                    epoch.next().close();
                }
            });
            assertEquals(dir.resolve("corrupt.jpg").toString(), e.source());
        }
    }

    @Test
    void skipBadImagesCountsAndListsThem(@TempDir Path dir) throws IOException {
        List<Sample> samples = withCorruptImage(dir);
        try (BatchLoader loader =
                new BatchLoader(samples, TransformSpec.resize(8, false), new LoaderOptions(2, 2, 2, 0L, false, true))) {
            EpochContent content = run(loader, 0);
            assertEquals(samples.size() - 2, content.indices.size());
            assertFalse(content.indices.contains(1));
            assertEquals(2, loader.skippedSources().size());
            assertEquals(
                    List.of(
                            dir.resolve("corrupt.jpg").toString(),
                            dir.resolve("gone.jpg").toString()),
                    loader.skippedSources());
        }
    }

    @Test
    void skippingMoreDistinctImagesThanTheBoundFailsNamingTheLastOne(@TempDir Path dir) throws IOException {
        List<Sample> samples = withCorruptImage(dir);
        try (BatchLoader loader = new BatchLoader(
                samples,
                TransformSpec.resize(8, false),
                new LoaderOptions(2, 1, 1, 0L, false, true).withMaxBadImages(1))) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> run(loader, 0));
            assertTrue(
                    e.getMessage().startsWith("2 images of this split were skipped as bad, more than the bound of 1"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("gone.jpg: file does not exist"), e.getMessage());
            assertEquals(
                    List.of(
                            dir.resolve("corrupt.jpg").toString(),
                            dir.resolve("gone.jpg").toString()),
                    loader.skippedSources());
        }
    }

    /** Samples 1 (garbage bytes) and 3 (deleted after listing) are bad; the rest are the CUB fixtures. */
    private static List<Sample> withCorruptImage(Path dir) throws IOException {
        List<Sample> samples = new ArrayList<>(cubAndFolderSamples());
        Path corrupt = dir.resolve("corrupt.jpg");
        Files.write(corrupt, new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, 0x00, 0x13, 0x37});
        samples.add(1, new Sample(new ImageSource.File(corrupt), 0));
        samples.add(3, new Sample(new ImageSource.File(dir.resolve("gone.jpg")), 1));
        return samples;
    }

    @Test
    void idxImagesBatchAsReplicatedRgb() {
        List<Sample> samples = Datasets.open(Layout.IDX, Fixtures.data("idx")).test();
        try (BatchLoader loader = new BatchLoader(
                        samples, TransformSpec.resize(4, false), new LoaderOptions(3, 1, 1, 0L, false, false));
                BatchLoader.Epoch epoch = loader.epoch(0);
                Batch batch = epoch.next()) {
            assertArrayEquals(new long[] {3, 3, 4, 4}, batch.shape());
            assertArrayEquals(new long[] {0, 1, 2}, batch.labels());
            // IDX 4x3 resized to 4x4 (vertical only); red and blue planes hold the same gray values
            int plane = 16;
            for (int i = 0; i < plane; i++) {
                float red = batch.images().get(i);
                float blue = batch.images().get(2 * plane + i);
                assertEquals((red * 0.229f + 0.485f), (blue * 0.225f + 0.406f), 1e-5f);
            }
            assertEquals(Normalization.IMAGENET.apply(0, 255), batch.images().get(0), 0f);
        }
    }
}
