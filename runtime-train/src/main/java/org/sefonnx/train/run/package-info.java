/**
 * Training runs, in the spirit of DJL's {@code ai.djl.training}: {@link org.sefonnx.train.run.Trainer} (a new run or a
 * resumed one, with the report at its end) and {@link org.sefonnx.train.run.Ablation} (the paper's Table III as run
 * folders), the two entry points the command line and the benchmarks use. The parts live in sub-packages whose imports
 * run one way, each knowing only those listed after it:
 *
 * <ul>
 *   <li>{@code loop}: a run set up (checked before its first file, or read back for --resume) and its epoch loop;
 *   <li>{@code explain}, {@code export}, {@code evaluation}: what comes after a run's training, each also a command of
 *       its own: explain's group maps and report.html (whose listener {@code Trainer} adds to every run), the
 *       inference export (a listener of every run, too), the EvalStep pass (and `sef-onnx eval`);
 *   <li>{@code report}: what a run says and writes about itself (console lines, progress, metrics files and plots,
 *       confusion-best.csv, summary.txt);
 *   <li>{@code listener}: the hooks every batch, epoch and the run's end call, and the listeners that steer the
 *       training itself (loss scaling, the divergence check, checkpoint pruning);
 *   <li>{@code session}: ORT sessions bound by name through the model descriptor, and a finished run read back;
 *   <li>{@code state}: the run folder and its one committed state, the commit sequence, run.properties;
 *   <li>{@code metrics}: what an epoch measured (metrics rows, confusion matrix, group metrics);
 *   <li>{@code options}: what a run is asked to do ({@code TrainOptions}) and how it measures itself ({@code Protocol}).
 * </ul>
 */
package org.sefonnx.train.run;
