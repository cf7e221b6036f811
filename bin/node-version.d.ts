/** The oldest Node.js ream runs on (package.json `engines`). */
export declare const MINIMUM_NODE: string;
/** What to tell the user when `version` (process.versions.node) is too old for ream; undefined when it is fine. */
export declare function nodeVersionProblem(version: string): string | undefined;
/** The oldest Node.js that runs ream's TypeScript sources without a build (type stripping without a flag). */
export declare const MINIMUM_NODE_FOR_SOURCES: string;
/** What to tell the user when `version` cannot run ream's TypeScript sources (`what`: what they tried; `built`: whether a build would do instead); undefined when it can. */
export declare function sourcesNodeProblem(version: string, what: string, built?: boolean): string | undefined;
