/** ONNX models: the file reader, the graph → layers builder and the 'onnx' model family (its host file reader). */
export { parseOnnx, type OnnxAttribute, type OnnxGraph, type OnnxModel, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from './proto.js';
export { graphToNetwork, OPSETS, SUPPORTED_OPS, type OnnxBinding, type OnnxNetwork } from './graph-to-model.js';
export { GraphNet, Sigmoid, View, type GraphStep } from './graph-net.js';
export { onnxFamily, useOnnxFileReader, type OnnxSpec } from './family.js';
