/** Build-time facts, replaced by esbuild `define` in release builds; the fallbacks serve `node sources/main.ts`. */
declare const __PULLSECRET_VERSION__: string | undefined;
declare const __PULLSECRET_COMMIT__: string | undefined;

/** The plugin's version (from package.json at build time). */
export const VERSION: string = typeof __PULLSECRET_VERSION__ === `string` ? __PULLSECRET_VERSION__ : `0.0.0-dev`;
/** The git commit the binary was built from. */
export const COMMIT: string = typeof __PULLSECRET_COMMIT__ === `string` ? __PULLSECRET_COMMIT__ : `unknown`;
