/**
 * What an epoch measured, as plain values: {@link org.sefonnx.train.run.metrics.EpochMetrics} (a metrics row and the
 * one column table that writes it as JSON and CSV, reads it back and names the plots' series),
 * {@link org.sefonnx.train.run.metrics.ConfusionMatrix}, {@link org.sefonnx.train.run.metrics.GroupMetrics} and an
 * evaluation pass's result. Nothing here touches ORT or a file but through the values it is handed.
 */
package org.sefonnx.train.run.metrics;
