/**
 * The epoch loop: a run set up (a new folder written only after every check, or a committed run read back and verified
 * for --resume), then per epoch a training pass whose batches the listeners see, the test and validation passes, the
 * best epoch on the selecting split and the epoch's commit.
 */
package org.sefonnx.train.run.loop;
