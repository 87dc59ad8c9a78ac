/**
 * The {@code sef-onnx} command line (picocli): one class per subcommand, the option groups several share, and exit
 * codes that mean something (0 done, 1 failed, 2 bad input, 4 out of memory).
 */
package org.sefonnx.train.cli;
