/** Types of cli/build.mjs (a plain module: scripts/setup.mjs runs it before anything is compiled). */
export declare function bundleCli(root: string, outfile?: string): Promise<string[]>;
export declare function ensureCliBundle(root: string): Promise<boolean>;
