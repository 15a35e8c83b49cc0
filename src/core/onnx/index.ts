/** ONNX models: the file reader, the graph → layers builder, the 'onnx' model family (its host file reader) and the exporter. */
export { parseOnnx, type OnnxAttribute, type OnnxGraph, type OnnxModel, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from './proto.js';
export { graphToNetwork, OPSETS, SUPPORTED_OPS, type OnnxBinding, type OnnxNetwork } from './graph-to-model.js';
export { GraphNet, InputOp, Permute, Sigmoid, View, type GraphStep, type InputOpKind } from './graph-net.js';
export { onnxFamily, useOnnxFileReader, type OnnxSpec } from './family.js';
export { checkExportable, exportOnnx, EXPORT_OPSET, EXPORTABLE_LAYERS, type InputStandardization, type OnnxExportOptions } from './export.js';
