package org.sefonnx.train.data;

import java.nio.FloatBuffer;
import java.util.function.Consumer;

/**
 * One batch: {@code size} images as a direct, native-order N x 3 x H x W float buffer (position 0, limit
 * size*3*H*W) plus their labels. The buffer is recycled by {@link #close()}: close each batch once the
 * trainer has consumed it (ORT reads it in place, so keep it open until the step returns).
 */
public final class Batch implements AutoCloseable {
    private final FloatBuffer images;
    private final long[] labels;
    private final int[] sampleIndices;
    private final int height;
    private final int width;
    private final Consumer<FloatBuffer> recycler;
    private boolean closed;

    Batch(
            FloatBuffer images,
            long[] labels,
            int[] sampleIndices,
            int height,
            int width,
            Consumer<FloatBuffer> recycler) {
        this.images = images;
        this.labels = labels;
        this.sampleIndices = sampleIndices;
        this.height = height;
        this.width = width;
        this.recycler = recycler;
    }

    /** N x 3 x H x W normalised pixels, direct and native-order. */
    public FloatBuffer images() {
        return images;
    }

    /** Class index per image. */
    public long[] labels() {
        return labels;
    }

    /** Index of each image in the sample list the loader was built on. */
    public int[] sampleIndices() {
        return sampleIndices;
    }

    /** Images in this batch (N); the last batch of an epoch may be smaller than the configured size. */
    public int size() {
        return labels.length;
    }

    public int height() {
        return height;
    }

    public int width() {
        return width;
    }

    /** ONNX shape {N, 3, H, W}. */
    public long[] shape() {
        return new long[] {size(), 3, height, width};
    }

    /** Returns the image buffer to the loader's pool; the buffer must not be used afterwards. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            recycler.accept(images);
        }
    }
}
