/**
 * Helpers of the inspector's fields that are not the parameter codec: the fields read and write text with
 * `parseParamText` / `formatParamText` (src/engine/registry/params.ts), the codec the loader and `--set` use, so
 * the webview sends only values the host will accept. React-free.
 */

/** A fresh random seed in [0, 2³²) from the platform's CSPRNG. */
export function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}
