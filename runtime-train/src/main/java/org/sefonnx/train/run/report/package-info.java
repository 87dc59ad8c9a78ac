/**
 * What a run says and writes about itself, each a listener: progress lines and the CPU estimate at every batch, the
 * epoch's console lines, metrics.jsonl, metrics.csv and the plots, confusion-best.csv, summary.txt; and
 * {@link org.sefonnx.train.run.report.Console}, where the lines go (log, warnings, whether it is a terminal, the clock).
 */
package org.sefonnx.train.run.report;
