package org.sefonnx.train.run.loop;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;
import org.sefonnx.contract.TensorNames;
import org.sefonnx.train.data.Batch;
import org.sefonnx.train.data.BatchLoader;
import org.sefonnx.train.ort.HostTensor;
import org.sefonnx.train.ort.OrtAdapter;
import org.sefonnx.train.run.evaluation.LossTermSums;
import org.sefonnx.train.run.listener.TrainingListener;
import org.sefonnx.train.run.listener.TrainingListeners;
import org.sefonnx.train.run.metrics.EpochMetrics;
import org.sefonnx.train.run.options.TrainOptions;
import org.sefonnx.train.run.session.ModelSteps;

/**
 * One epoch of TrainStep/OptimizerStep over the training loader: the learning rate set, at most
 * {@code --max-batches-per-epoch} batches, each batch handed to the listeners (which feed extra inputs, may skip its
 * optimizer step or stop the run, and report it). The data order depends only on (seed, epoch), so a resumed epoch
 * sees the batches an uninterrupted one would.
 */
final class TrainPass {
    /** What one epoch of training did. */
    record Trained(EpochMetrics.LossTerms terms, long globalStep, double seconds, double imagesPerSecond) {}

    private final OrtAdapter.Training session;
    private final ModelSteps steps;
    private final BatchLoader loader;
    private final TrainOptions.Schedule schedule;
    private final TrainingListeners listeners;
    private final LongSupplier nanoClock;
    /** Images of the training split, for the message of an epoch that trained on none. */
    private final int trainImages;

    TrainPass(
            OrtAdapter.Training session,
            ModelSteps steps,
            BatchLoader loader,
            int trainImages,
            TrainOptions.Schedule schedule,
            TrainingListeners listeners,
            LongSupplier nanoClock) {
        this.session = session;
        this.steps = steps;
        this.loader = loader;
        this.trainImages = trainImages;
        this.schedule = schedule;
        this.listeners = listeners;
        this.nanoClock = nanoClock;
    }

    /** Trains epoch {@code epoch} (0-based) from {@code globalStep}. */
    Trained run(int epoch, long globalStep) {
        double lr = schedule.learningRateAt(epoch);
        session.setLearningRate((float) lr); // ORT does not restore it from a checkpoint
        LossTermSums terms = new LossTermSums();
        int planned = schedule.batchesOf(loader.batchesPerEpoch());
        listeners.trainingEpochStarting(epoch, planned);
        long startNanos = nanoClock.getAsLong(), images = 0;
        int batches = 0;
        try (BatchLoader.Epoch it = loader.epoch(epoch)) {
            while (it.hasNext() && batches < planned) {
                try (Batch b = it.next()) {
                    Map<String, HostTensor> inputs = new HashMap<>(Map.of(
                            TensorNames.IMAGES,
                            HostTensor.view(b.images(), b.shape()),
                            TensorNames.LABELS,
                            HostTensor.longs(b.labels(), b.size())));
                    listeners.feedTrainStep(inputs);
                    TrainingListener.TrainingBatch batch = new TrainingListener.TrainingBatch(
                            epoch, ++batches, planned, ++globalStep, b.size(), lr, steps.train(inputs), null);
                    Optional<String> skipped = listeners.beforeOptimizerStep(batch);
                    if (skipped.isEmpty()) {
                        session.optimizerStep();
                        terms.add(batch.outputs(), b.size());
                    }
                    // the next step overwrites the gradient buffers, a skipped step's included
                    session.lazyResetGrad();
                    images += b.size();
                    listeners.onTrainingBatch(skipped.map(batch::skipped).orElse(batch));
                }
            }
        }
        if (batches == 0) {
            throw new IllegalStateException("epoch " + (epoch + 1) + " trained on no batch: every image of "
                    + trainImages + " train images was skipped as bad ("
                    + String.join("; ", loader.skippedReasons().values()) + ")");
        }
        double seconds = (nanoClock.getAsLong() - startNanos) / 1e9;
        return new Trained(terms.mean(), globalStep, seconds, images / Math.max(seconds, 1e-9));
    }
}
