/** Types for build-services.mjs, which is plain JavaScript because setup.mjs runs it before anything is compiled. */
export declare function buildInputs(root: string): string[];
export declare function buildServices(root: string): Promise<string[]>;
export declare function ensureServicesBuild(root: string): Promise<boolean>;
