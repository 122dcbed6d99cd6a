/** The data file format in one import: shared definitions (format.ts), the encoder and the decoder. */
export * from './decode.ts';
export * from './encode.ts';
export * from './format.ts';
