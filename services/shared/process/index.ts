/** A service as a process: started as the entry module, its lifecycle lines, stopped on signals. */
export { isMain } from "./is-main.js";
export { repositoryRoot } from "./repository-root.js";
export { findListeningLine, listeningLineOf, reportStartFailure, runService, stopOnSignals, type LifecycleEvent, type ListeningLine } from "./service-lifecycle.js";
