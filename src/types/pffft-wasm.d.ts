// @echogarden/pffft-wasm ships no types; src/dsp/fft.ts declares the part it uses.
declare module '@echogarden/pffft-wasm/simd' {
  const factory: () => Promise<unknown>;
  export default factory;
}
