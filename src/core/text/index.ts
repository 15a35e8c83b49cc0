/** Text for the masked-LM experiment: the email corpus's split, a BPE tokenizer, sequences, masking and prompts. */
export * from './corpus.js';
export * from './tokenizer.js';
export * from './sequences.js';
