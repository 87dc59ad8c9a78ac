/**
 * The inference export of a checkpoint ({@link org.sefonnx.contract.ExportLayout}): `sef-onnx export`, and the
 * listener that ends every run with it.
 */
package org.sefonnx.train.run.export;
