/** Types for setup.mjs, which is plain JavaScript because it runs before npm install. */
export declare function cacheDir(): string;
export declare function ferretdbBinary(): string;
