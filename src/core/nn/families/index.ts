/** The built-in model families, registered in this order (the order error messages list them in). */
export { mlpFamily, type MlpSpec } from './mlp.js';
export { cnnFamily, type CnnSpec } from './cnn.js';
export { resnetFamily, type ResNetSpec } from './resnet.js';
export { transformerFamily, type TransformerSpec } from './transformer.js';
export { onnxFamily, useOnnxFileReader, type OnnxSpec } from '../../onnx/family.js';
