package org.sefonnx.train.data;

/**
 * How {@link BatchLoader} batches a split.
 *
 * @param batchSize      images per batch
 * @param workers        decoding threads
 * @param prefetch       batches decoded ahead of the consumer (bounds memory: each is batchSize*3*H*W floats)
 * @param seed           seeds the per-epoch shuffle and every per-sample random draw
 * @param training       shuffle each epoch and never emit a batch of one (BatchNorm cannot normalise it);
 *                       evaluation keeps file order and every sample
 * @param skipBadImages  skip (and count) missing, truncated or corrupt images instead of failing
 * @param maxBadImages   with skipBadImages, the most distinct images skipped before the loader fails
 * @param applyExifOrientation turn JPEGs upright by their EXIF orientation (off: torchvision's default loader)
 */
public record LoaderOptions(
        int batchSize,
        int workers,
        int prefetch,
        long seed,
        boolean training,
        boolean skipBadImages,
        int maxBadImages,
        boolean applyExifOrientation) {
    public LoaderOptions {
        if (batchSize < 1 || workers < 1 || prefetch < 1) {
            throw new IllegalArgumentException("batchSize, workers and prefetch must be >= 1, got " + batchSize + ", "
                    + workers + ", " + prefetch);
        }
    }

    /** Without a bound on skipped images. */
    public LoaderOptions(int batchSize, int workers, int prefetch, long seed, boolean training, boolean skipBadImages) {
        this(batchSize, workers, prefetch, seed, training, skipBadImages, Integer.MAX_VALUE, false);
    }

    /** Training defaults: batch 32 (docs/sef-method.md, "Training recipe"), one worker per core, two batches ahead per worker. */
    public static LoaderOptions training(int batchSize, long seed) {
        int workers = workersFor(0);
        return new LoaderOptions(batchSize, workers, 2 * workers, seed, true, false);
    }

    /** Evaluation defaults: file order, every sample. */
    public static LoaderOptions evaluation(int batchSize) {
        int workers = workersFor(0);
        return new LoaderOptions(batchSize, workers, 2 * workers, 0L, false, false);
    }

    /** Decoding threads for a {@code --workers} value: as given, or one per core when it is 0. */
    public static int workersFor(int requested) {
        return requested > 0 ? requested : Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    public LoaderOptions withWorkers(int count) {
        return new LoaderOptions(
                batchSize, count, prefetch, seed, training, skipBadImages, maxBadImages, applyExifOrientation);
    }

    public LoaderOptions withPrefetch(int batches) {
        return new LoaderOptions(
                batchSize, workers, batches, seed, training, skipBadImages, maxBadImages, applyExifOrientation);
    }

    public LoaderOptions withSkipBadImages(boolean skip) {
        return new LoaderOptions(
                batchSize, workers, prefetch, seed, training, skip, maxBadImages, applyExifOrientation);
    }

    public LoaderOptions withExifOrientation(boolean apply) {
        return new LoaderOptions(batchSize, workers, prefetch, seed, training, skipBadImages, maxBadImages, apply);
    }

    public LoaderOptions withMaxBadImages(int max) {
        return new LoaderOptions(
                batchSize, workers, prefetch, seed, training, skipBadImages, max, applyExifOrientation);
    }
}
