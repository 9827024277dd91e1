/** Types for build-web.mjs, which is plain JavaScript because setup.mjs runs it before anything is compiled. */
export declare function webBuildInputs(root: string): string[];
export declare function webViteConfig(root: string, outDir: string): Record<string, unknown>;
export declare function buildWeb(root: string): Promise<void>;
export declare function ensureWebBuild(root: string): Promise<boolean>;
