/** The oldest Node.js ream runs on (package.json `engines`). */
export declare const MINIMUM_NODE: string;
/** What to tell the user when `version` (process.versions.node) is too old for ream; undefined when it is fine. */
export declare function nodeVersionProblem(version: string): string | undefined;
