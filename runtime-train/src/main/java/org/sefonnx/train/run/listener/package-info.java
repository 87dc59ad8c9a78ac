/**
 * The fixed points of a run and what acts at them, as DJL's {@code ai.djl.training.listener}:
 * {@link org.sefonnx.train.run.listener.TrainingListener} (every training batch, every committed epoch, the run's end),
 * {@link org.sefonnx.train.run.listener.TrainingListeners} (calls them in order and keeps the writers in the kill-safe
 * commit order), and the listeners that steer training itself: mixed precision's loss scaling, the divergence check,
 * checkpoint pruning.
 */
package org.sefonnx.train.run.listener;
