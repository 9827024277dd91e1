/** Types for ensure-chromium.mjs (plain JavaScript so that it runs before anything is compiled). */
export declare const CHROMIUM: string;
export declare function ensureChromium(): string;
