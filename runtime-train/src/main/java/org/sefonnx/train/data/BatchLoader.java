package org.sefonnx.train.data;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.sefonnx.imaging.ImageDecodeException;
import org.sefonnx.imaging.ImageDecoder;
import org.sefonnx.imaging.RgbImage;

/**
 * Turns a split into batches of normalised float tensors with N worker threads and a bounded prefetch queue.
 *
 * <p>Determinism: the shuffle of epoch e is drawn from (seed, e) and each sample's crop/flip from
 * (seed, e, sample index), so the batches are bit-identical for any worker count, and resuming at epoch e
 * needs nothing but the seed and e.
 */
public final class BatchLoader implements AutoCloseable {
    private static final long SHUFFLE_STREAM = -1L;

    private final List<Sample> samples;
    private final TransformSpec transform;
    private final LoaderOptions options;
    private final ExecutorService workers;
    private final ThreadLocal<ImageDecoder> decoders;
    private final BlockingQueue<FloatBuffer> freeBuffers;
    private final AtomicInteger buffersCreated = new AtomicInteger();
    private final int bufferCapacity;
    private final Map<String, String> skippedReasons = new TreeMap<>();

    public BatchLoader(List<Sample> samples, TransformSpec transform, LoaderOptions options) {
        if (samples.isEmpty()) {
            throw new IllegalArgumentException("cannot batch an empty split");
        }
        this.samples = List.copyOf(samples);
        this.transform = transform;
        this.options = options;
        this.decoders = ThreadLocal.withInitial(() -> new ImageDecoder(options.applyExifOrientation()));
        this.bufferCapacity = options.batchSize() * transform.floatsPerImage();
        // prefetch in flight + one held by the consumer + one being handed over
        this.freeBuffers = new ArrayBlockingQueue<>(options.prefetch() + 2);
        AtomicInteger threadNumber = new AtomicInteger();
        this.workers = Executors.newFixedThreadPool(options.workers(), runnable -> {
            Thread thread = new Thread(runnable, "sef-data-" + threadNumber.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
    }

    /** Batches per epoch before any image is skipped. */
    public int batchesPerEpoch() {
        return plan(0).size();
    }

    /** Distinct files (or IDX origins) skipped so far, sorted (workers meet them in no fixed order). */
    public List<String> skippedSources() {
        synchronized (skippedReasons) {
            return List.copyOf(skippedReasons.keySet());
        }
    }

    /** Why each skipped source was bad (the decoder's message, which starts with the source). */
    public Map<String, String> skippedReasons() {
        synchronized (skippedReasons) {
            return new TreeMap<>(skippedReasons);
        }
    }

    /** The seed of the per-sample random stream; a pure function of (seed, epoch, sample index). */
    static long sampleSeed(long seed, int epoch, long sampleIndex) {
        return mix(mix(seed ^ mix(epoch + 0x9E3779B97F4A7C15L)) ^ mix(sampleIndex + 0xD1B54A32D192ED03L));
    }

    /** SplitMix64's finaliser. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Sample indices of each batch of {@code epoch}: shuffled when training, with a final batch of one dropped. */
    List<int[]> plan(int epoch) {
        int n = samples.size();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        if (options.training()) {
            SplittableRandom random = new SplittableRandom(sampleSeed(options.seed(), epoch, SHUFFLE_STREAM));
            for (int i = n - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        List<int[]> batches = new ArrayList<>();
        for (int from = 0; from < n; from += options.batchSize()) {
            int to = Math.min(n, from + options.batchSize());
            if (options.training() && to - from == 1 && n > 1) {
                // A batch of one makes BatchNorm's batch variance zero; the sample comes back next epoch.
                break;
            }
            int[] batch = new int[to - from];
            System.arraycopy(order, from, batch, 0, batch.length);
            batches.add(batch);
        }
        return batches;
    }

    /** The batches of {@code epoch} in order; decoding starts immediately. Close it to stop early. */
    public Epoch epoch(int epoch) {
        return new Epoch(epoch);
    }

    private FloatBuffer takeBuffer() throws InterruptedException {
        FloatBuffer buffer = freeBuffers.poll();
        int cap = options.prefetch() + 2;
        if (buffer == null && buffersCreated.getAndUpdate(n -> n < cap ? n + 1 : n) < cap) {
            buffer = ByteBuffer.allocateDirect(bufferCapacity * Float.BYTES)
                    .order(ByteOrder.nativeOrder())
                    .asFloatBuffer();
        }
        return buffer != null ? buffer : freeBuffers.take();
    }

    private void recycle(FloatBuffer buffer) {
        buffer.clear();
        freeBuffers.offer(buffer);
    }

    private Batch load(int epoch, int[] indices) throws InterruptedException {
        FloatBuffer buffer = takeBuffer();
        try {
            ImageDecoder decoder = decoders.get();
            int per = transform.floatsPerImage();
            int[] kept = new int[indices.length];
            long[] labels = new long[indices.length];
            int count = 0;
            for (int index : indices) {
                Sample sample = samples.get(index);
                RgbImage image;
                try {
                    image = sample.source().decode(decoder);
                } catch (ImageDecodeException e) {
                    if (!options.skipBadImages()) {
                        throw e;
                    }
                    int distinct;
                    synchronized (skippedReasons) {
                        skippedReasons.put(sample.source().describe(), e.getMessage());
                        distinct = skippedReasons.size();
                    }
                    if (distinct > options.maxBadImages()) {
                        throw new IllegalStateException(
                                distinct + " images of this split were skipped as bad, more than the bound of "
                                        + options.maxBadImages()
                                        + " (--max-bad-images, less those found before the run): the data set looks broken. Last: "
                                        + e.getMessage());
                    }
                    continue;
                }
                SplittableRandom random = new SplittableRandom(sampleSeed(options.seed(), epoch, index));
                transform.apply(image, random, buffer, count * per);
                kept[count] = index;
                labels[count] = sample.classIndex();
                count++;
            }
            buffer.position(0).limit(count * per);
            return new Batch(
                    buffer,
                    java.util.Arrays.copyOf(labels, count),
                    java.util.Arrays.copyOf(kept, count),
                    transform.outputHeight(),
                    transform.outputWidth(),
                    this::recycle);
        } catch (RuntimeException | Error e) {
            recycle(buffer);
            throw e;
        }
    }

    @Override
    public void close() {
        workers.shutdownNow();
        decoders.remove();
    }

    /** One epoch's batches, decoded ahead by the workers. */
    public final class Epoch implements Iterator<Batch>, AutoCloseable {
        private final int epoch;
        private final List<int[]> plan;
        private final ArrayDeque<Future<Batch>> inFlight = new ArrayDeque<>();
        private int nextToSubmit;
        private Batch pending;

        private Epoch(int epoch) {
            this.epoch = epoch;
            this.plan = plan(epoch);
            refill();
        }

        private void refill() {
            while (inFlight.size() < options.prefetch() && nextToSubmit < plan.size()) {
                int[] indices = plan.get(nextToSubmit++);
                inFlight.add(workers.submit(() -> load(epoch, indices)));
            }
        }

        @Override
        public boolean hasNext() {
            while (pending == null && !inFlight.isEmpty()) {
                Batch batch = await(inFlight.poll());
                refill();
                boolean unusable = batch.size() == 0 || (options.training() && batch.size() == 1 && samples.size() > 1);
                if (unusable) {
                    // Every image of the batch was skipped, or too few survived for BatchNorm.
                    batch.close();
                } else {
                    pending = batch;
                }
            }
            return pending != null;
        }

        @Override
        public Batch next() {
            if (!hasNext()) {
                throw new NoSuchElementException("epoch " + epoch + " has no more batches");
            }
            Batch batch = pending;
            pending = null;
            return batch;
        }

        private Batch await(Future<Batch> future) {
            try {
                return future.get();
            } catch (ExecutionException e) {
                close();
                Throwable cause = e.getCause();
                if (cause instanceof RuntimeException runtime) {
                    throw runtime;
                }
                if (cause instanceof Error error) {
                    throw error;
                }
                throw new IllegalStateException("data worker failed", cause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
                throw new IllegalStateException("interrupted while waiting for a batch", e);
            }
        }

        /** Stops decoding the rest of the epoch and returns the buffers of undelivered batches. */
        @Override
        public void close() {
            nextToSubmit = plan.size();
            for (Future<Batch> future : inFlight) {
                try {
                    future.get().close();
                } catch (ExecutionException | CancellationException ignored) {
                    // the failure was reported by the batch that hit it, or the loader is shutting down
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            inFlight.clear();
            if (pending != null) {
                pending.close();
                pending = null;
            }
        }
    }
}
