/**
 * What a run's groups learned: `sef-onnx explain` (group activation maps, the channel-correlation matrix, group-head
 * accuracy) and report.html, which a training run ends with through this package's listener.
 */
package org.sefonnx.train.explain;
