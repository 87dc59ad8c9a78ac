package org.sefonnx.train.run.report;

import java.util.Locale;
import java.util.Optional;
import org.sefonnx.train.ort.OrtAdapter;
import org.sefonnx.train.run.listener.TrainingListener;
import org.sefonnx.train.run.options.TrainOptions;

/**
 * How long a CPU run will take, from the speed of its first training batches, said once when it is long enough that a
 * GPU is the better tool: the paper's recipe (ResNet-50 at 448 px, 50 epochs of CUB) trains at 0.6 img/s on a 2-core
 * CPU, a week, and at 192 img/s on one H100 ({@code bench/gpu/results}). A listener of the first epoch this process
 * trains; silent on CUDA.
 */
public final class RunEstimate implements TrainingListener {
    /** Batches not timed: the first step builds ORT's kernels and arenas and runs several times slower. */
    static final int WARM_UP_BATCHES = 1;
    /** Batches timed after the warm-up before the estimate is made. */
    static final int TIMED_BATCHES = 3;
    /**
     * Seconds of an evaluated image per second of a trained one: a forward pass without the backward and the update,
     * measured at 2.2 against 0.6 img/s for ResNet-50 at 448 px on the CPU; a third keeps the estimate on the long side.
     */
    static final double EVAL_COST_PER_TRAIN_IMAGE = 1 / 3.0;
    /** Runs estimated to take longer than this are told how to use a GPU. */
    static final double SAY_ABOVE_SECONDS = 2 * 3600;

    private final Console console;
    private final TrainOptions.Schedule schedule;
    /** Images of the training split, and of the test and validation passes after each epoch. */
    private final int trainImages, evalImagesPerEpoch;
    /** Whether the estimate is made or not wanted: once a process, in the first epoch it trains, on the CPU. */
    private boolean done;

    private int epoch, batches;
    private long images, timedFromImages, timedFromNanos;

    /** The estimate of a run that trains on {@code device}. */
    public RunEstimate(
            Console console,
            TrainOptions.Schedule schedule,
            int trainImages,
            int evalImagesPerEpoch,
            OrtAdapter.Device device) {
        this.console = console;
        this.schedule = schedule;
        this.trainImages = trainImages;
        this.evalImagesPerEpoch = evalImagesPerEpoch;
        this.done = device != OrtAdapter.Device.CPU;
    }

    @Override
    public void trainingEpochStarting(int epochIndex, int plannedBatches) {
        epoch = epochIndex;
        batches = plannedBatches;
        images = 0;
    }

    @Override
    public void onTrainingBatch(TrainingBatch b) {
        if (done) return;
        images += b.images();
        if (b.batch() == WARM_UP_BATCHES) {
            timedFromImages = images;
            timedFromNanos = console.nanoClock().getAsLong();
        } else if (b.batch() == WARM_UP_BATCHES + TIMED_BATCHES) {
            double seconds = (console.nanoClock().getAsLong() - timedFromNanos) / 1e9;
            double imagesPerSecond = (images - timedFromImages) / Math.max(seconds, 1e-9);
            long perEpoch = Math.min((long) batches * schedule.batchSize(), trainImages);
            int epochsLeft = schedule.epochs() - epoch;
            line(
                            imagesPerSecond,
                            epochsLeft * perEpoch - images,
                            (long) epochsLeft * evalImagesPerEpoch,
                            epochsLeft,
                            schedule.epochs())
                    .ifPresent(console.log()::println);
            done = true;
        }
    }

    /** An epoch too short to time is not timed again in the next. */
    @Override
    public void epochCommitted(EpochEnd end) {
        done = true;
    }

    /**
     * The line to print, or empty when the run is short: {@code trainImagesLeft} and {@code evalImagesLeft} (test and
     * validation passes) still to go over {@code epochsLeft} epochs at {@code trainImagesPerSecond}.
     */
    static Optional<String> line(
            double trainImagesPerSecond, long trainImagesLeft, long evalImagesLeft, int epochsLeft, int epochs) {
        double seconds =
                (trainImagesLeft + evalImagesLeft * EVAL_COST_PER_TRAIN_IMAGE) / Math.max(trainImagesPerSecond, 1e-9);
        if (!(seconds > SAY_ABOVE_SECONDS)) return Optional.empty();
        return Optional.of(String.format(
                Locale.ROOT,
                "estimate: %s for %s on this CPU (%.2f img/s training); on a CUDA GPU (ResNet-50 at 448 px: 192"
                        + " img/s on one H100) build with `mvn -Pcuda` (CUDA 13, cuDNN 9) and train with --device cuda",
                duration(seconds),
                epochsLeft == epochs ? "the whole run's " + epochs + " epochs" : "the " + epochsLeft + " epochs left",
                trainImagesPerSecond));
    }

    /** "6 days 21 h", "3 h 12 min", "47 min". */
    static String duration(double seconds) {
        long minutes = Math.round(seconds / 60);
        long days = minutes / (24 * 60), hours = minutes / 60 % 24, mins = minutes % 60;
        if (days > 0) return days + (days == 1 ? " day " : " days ") + hours + " h";
        if (hours > 0) return hours + " h " + mins + " min";
        return mins + " min";
    }
}
