/**
 * What a run's groups learned: `sef-onnx explain` (group activation maps, the channel-correlation matrix, group-head
 * accuracy) and report.html, which every training run ends with: this package contributes that listener to
 * {@code Trainer}, and no other package of {@code run} imports it.
 */
package org.sefonnx.train.run.explain;
