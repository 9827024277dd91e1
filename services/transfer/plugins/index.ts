/** Format plugin discovery for the transfer service. */
export { defaultFormatsDir, discoverPlugins, type DiscoveredPlugins, type PluginFailure } from "./discover-plugins.js";
export { pluginSchema, validatePlugin } from "./plugin-schema.js";
