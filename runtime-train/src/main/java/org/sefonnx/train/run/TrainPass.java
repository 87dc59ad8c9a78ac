package org.sefonnx.train.run;

import java.nio.file.Path;
import java.util.Locale;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.train.data.Batch;
import org.sefonnx.train.data.BatchLoader;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.ort.OrtAdapter;

/**
 * One epoch of TrainStep/OptimizerStep over the training loader: the learning rate set, at most
 * {@code --max-batches-per-epoch} batches, a step with inf/NaN gradients skipped under mixed precision, a non-finite
 * loss stopping the run. The data order depends only on (seed, epoch), so a resumed epoch sees the batches an
 * uninterrupted one would.
 */
final class TrainPass {
    /** What one epoch of training did. */
    record Trained(EpochMetrics.LossTerms terms, long globalStep, double seconds, double imagesPerSecond) {}

    private final OrtAdapter.Training session;
    private final ModelSteps steps;
    private final BatchLoader loader;
    private final MixedPrecisionSteps mixedPrecision;
    private final TrainOptions o;
    private final Console console;
    /** Images of the training split, for the message of an epoch that trained on none. */
    private final int trainImages;
    /** Images of the test and validation passes after each epoch, for the run's estimate. */
    private final int evalImagesPerEpoch;
    /** Whether this process has made its run estimate (once, in the first epoch it trains). */
    private boolean estimated;

    TrainPass(
            OrtAdapter.Training session,
            ModelSteps steps,
            BatchLoader loader,
            int trainImages,
            int evalImagesPerEpoch,
            MixedPrecisionSteps mixedPrecision,
            TrainOptions o,
            Console console) {
        this.session = session;
        this.steps = steps;
        this.loader = loader;
        this.trainImages = trainImages;
        this.evalImagesPerEpoch = evalImagesPerEpoch;
        this.mixedPrecision = mixedPrecision;
        this.o = o;
        this.console = console;
    }

    /**
     * Trains epoch {@code epoch} (0-based) from {@code globalStep}; {@code lastGood} is the checkpoint a divergence
     * message names.
     */
    Trained run(int epoch, long globalStep, Path lastGood) {
        double lr = o.learningRateAt(epoch);
        session.setLearningRate((float) lr); // ORT does not restore it from a checkpoint
        ModelSteps.LossTermSums terms = new ModelSteps.LossTermSums();
        int planned = o.maxBatchesPerEpoch() > 0
                ? Math.min(o.maxBatchesPerEpoch(), loader.batchesPerEpoch())
                : loader.batchesPerEpoch();
        Progress bar =
                console.progress(String.format(Locale.ROOT, "epoch %d/%d train", epoch + 1, o.epochs()), planned);
        int batches = 0;
        long images = 0, timedFromImages = 0, timedFromNanos = 0;
        try (BatchLoader.Epoch it = loader.epoch(epoch)) {
            while (it.hasNext() && batches < planned) {
                try (Batch b = it.next()) {
                    Float loss = step(b, terms, epoch, batches, globalStep, lastGood);
                    globalStep++;
                    batches++;
                    images += b.size();
                    if (!estimated && session.device() == OrtAdapter.Device.CPU) {
                        if (batches == RunEstimate.WARM_UP_BATCHES) {
                            timedFromImages = images;
                            timedFromNanos = console.nanoClock().getAsLong();
                        } else if (batches == RunEstimate.WARM_UP_BATCHES + RunEstimate.TIMED_BATCHES) {
                            double seconds = (console.nanoClock().getAsLong() - timedFromNanos) / 1e9;
                            estimate(epoch, planned, images, (images - timedFromImages) / Math.max(seconds, 1e-9));
                        }
                    }
                    bar.update(
                            batches,
                            b.size(),
                            loss != null
                                    ? String.format(Locale.ROOT, "loss %.4f lr %.3g", loss, lr)
                                    : String.format(
                                            Locale.ROOT, "skipped (loss scale now %.0f)", mixedPrecision.scale()));
                }
            }
        }
        estimated = true;
        if (batches == 0) {
            throw new IllegalStateException("epoch " + (epoch + 1) + " trained on no batch: every image of "
                    + trainImages + " train images was skipped as bad ("
                    + String.join("; ", loader.skippedReasons().values()) + ")");
        }
        return new Trained(terms.mean(), globalStep, bar.seconds(), bar.imagesPerSecond());
    }

    /** Prints how long the run's epochs from {@code epoch} on take at {@code imagesPerSecond}, when that is long. */
    private void estimate(int epoch, int planned, long imagesDone, double imagesPerSecond) {
        long perEpoch = Math.min((long) planned * o.batchSize(), trainImages);
        int epochsLeft = o.epochs() - epoch;
        RunEstimate.line(
                        imagesPerSecond,
                        epochsLeft * perEpoch - imagesDone,
                        (long) epochsLeft * evalImagesPerEpoch,
                        epochsLeft,
                        o.epochs())
                .ifPresent(console.log()::println);
        estimated = true;
    }

    /**
     * One batch: its loss, or null when mixed precision skipped its optimizer step (inf/NaN gradients). Adds the loss
     * terms of a step that ran to {@code terms}.
     */
    private Float step(
            Batch b, ModelSteps.LossTermSums terms, int epoch, int batchesDone, long globalStep, Path lastGood) {
        HostTensor images = HostTensor.view(b.images(), b.shape()), labels = HostTensor.longs(b.labels(), b.size());
        ModelSteps.Outputs out = steps.train(mixedPrecision.inputs(images, labels));
        float loss = out.scalar(TensorNames.LOSS);
        if (!mixedPrecision.step(out)) {
            session.lazyResetGrad(); // the next step overwrites the skipped step's gradient buffers
            return null;
        }
        if (!Float.isFinite(loss)) {
            throw new TrainingDivergedException(String.format(
                    Locale.ROOT,
                    "the loss became %s at epoch %d, step %d (global step %d); training stopped. The last good checkpoint is %s. "
                            + "Lower --lr or check the data.",
                    loss,
                    epoch + 1,
                    batchesDone + 1,
                    globalStep + 1,
                    (epoch > 0 ? "" : "the initial ") + lastGood + " (after epoch " + epoch + ")"));
        }
        session.optimizerStep();
        session.lazyResetGrad();
        terms.add(out, b.size());
        return loss;
    }
}
