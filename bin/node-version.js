// Plain JavaScript on purpose: this runs on any Node, before the TypeScript sources or the
// native addons load, so that an old Node gets a sentence instead of a crash.

/**
 * The oldest Node.js ream runs on (package.json `engines`): its OpenTelemetry packages need 22.15,
 * and its SQLite addon Node-API 10 (22.14; on 22.13 it crashes the process).
 */
export const MINIMUM_NODE = '22.15.0';

/**
 * The oldest Node.js that runs ream's TypeScript sources as they are (type stripping without a
 * flag): a checkout without a build (`REAM_FROM_SOURCE=1`), and `npm test`. A build runs on
 * {@link MINIMUM_NODE}.
 */
export const MINIMUM_NODE_FOR_SOURCES = '22.18.0';

/** True when version `a` (x.y.z) is older than `b`. */
function older(a, b) {
  const [x, y] = [a, b].map((v) => v.split('.').map((part) => Number.parseInt(part, 10) || 0));
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) < (y[i] ?? 0);
  return false;
}

/** What to tell the user when `version` (process.versions.node) is too old for ream; undefined when it is fine. */
export function nodeVersionProblem(version) {
  if (!older(version, MINIMUM_NODE)) return undefined;
  return [
    `ream: this is Node.js ${version}; ream needs Node.js ${MINIMUM_NODE} or newer (Node 24 LTS recommended).`,
    'Get Node 24 with your version manager (`nvm install 24`, `fnm install 24`, `volta install node@24`),',
    'or from the npm registry: `npm install -g node@24`, then run the command again.',
  ].join('\n');
}

/**
 * What to tell the user when `version` cannot run ream's TypeScript sources (`what`: what they
 * tried; `built`: whether a build would do instead); undefined when it can.
 */
export function sourcesNodeProblem(version, what, built = true) {
  if (!older(version, MINIMUM_NODE_FOR_SOURCES)) return undefined;
  return [
    `ream: this is Node.js ${version}; ${what} runs ream's TypeScript sources, which needs Node.js ${MINIMUM_NODE_FOR_SOURCES} or newer (Node 24 LTS recommended).`,
    `${built ? `Build first (\`npm run build\`: a build runs on ${MINIMUM_NODE}), or get` : 'Get'} Node 24: \`nvm install 24\`, \`npm install -g node@24\`.`,
  ].join('\n');
}
