/**
 * What a run is asked to do: {@link org.sefonnx.train.run.options.TrainOptions} in its parts (data, schedule, compute,
 * bad-image policy), and {@link org.sefonnx.train.run.options.Protocol}, how the run measures itself (validation split,
 * selection rule, split-count strictness). Both are range-checked when made and recorded in run.properties.
 */
package org.sefonnx.train.run.options;
