import { InvalidArgumentError, Option, type Command } from 'commander';
import ipaddr from 'ipaddr.js';
import type { ReamError } from '../errors.ts';
import type { RunningServer } from '../server/app.ts';
import type { AuthOptions } from '../server/auth/plugin.ts';
import { addDeploymentFlags, deploymentFromFlags, type DeploymentFlags } from './deployment-flags.ts';
import { addLimitFlags, limitsFromFlags, type LimitFlags } from './limit-flags.ts';
import { addIntakeFlags, intakeFromFlags, type IntakeFlags } from './intake-flags.ts';
import { loadPipelines } from './load-pipelines.ts';
import { nonNegativeInt, positiveInt } from './parse-flags.ts';
import { untilStopSignal } from './signals.ts';
import { addCreditFlags, creditsFromFlags, type CreditFlags } from './credit-flags.ts';
import { addRetentionFlags, retentionFromFlags, type RetentionFlags } from './retention-flags.ts';
import { addWebhookFlags, webhookAddressOptions, type WebhookFlags } from './webhook-flags.ts';

function httpUrl(value: string): string {
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) throw new InvalidArgumentError('must be an http(s) URL');
  return value;
}

/** An address or CIDR range of --connection-limit-exempt (repeatable). */
function exemptRange(value: string, previous: string[] = []): string[] {
  if (!ipaddr.isValid(value) && !ipaddr.isValidCIDR(value)) throw new InvalidArgumentError('must be an IP address or a CIDR range such as 172.16.0.0/12');
  return [...previous, value];
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

interface ServeFlags extends DeploymentFlags, WebhookFlags, IntakeFlags {
  port: number;
  host: string;
  dataDir: string;
  threads?: number;
  concurrency?: number;
  lease: number;
  work: boolean;
  pipelines?: string;
  corsOrigin?: string[];
  publicUrl?: string;
  auth?: boolean;
  jwtSecret?: string;
  jwks?: string;
  jwksUrl?: string;
  jwtIssuer?: string;
  jwtAudience?: string;
  jwtAllowNoExp?: boolean;
  rateLimit?: number;
  maxConnectionsPerClient?: number;
  connectionLimitExempt?: string[];
  metricsInterval: number;
  metricsSamples: number;
  logLevel: LogLevel;
}

/** pino's levels, most severe first; `silent` writes nothing. */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
type LogLevel = (typeof LOG_LEVELS)[number];

function port(value: string): number {
  const n = value === '0' ? 0 : positiveInt(value);
  if (n > 65_535) throw new InvalidArgumentError('a port is at most 65535');
  return n;
}

/** Auth is on with `--auth` or any way to verify JWTs; the JWT checks go along. */
function authOptions(flags: ServeFlags): AuthOptions {
  const { jwtSecret, jwks, jwksUrl, jwtIssuer, jwtAudience, jwtAllowNoExp } = flags;
  if (flags.auth !== true && jwtSecret === undefined && jwks === undefined && jwksUrl === undefined) return { mode: 'off' };
  return {
    mode: 'on',
    ...(jwtSecret === undefined ? {} : { jwtSecret }),
    ...(jwks === undefined ? {} : { jwks }),
    ...(jwksUrl === undefined ? {} : { jwksUrl }),
    ...(jwtIssuer === undefined ? {} : { jwtIssuer }),
    ...(jwtAudience === undefined ? {} : { jwtAudience }),
    ...(jwtAllowNoExp === true ? { jwtRequireExp: false } : {}),
  };
}

/**
 * `ream serve`: the HTTP API. Embedded by default (SQLite and a folder, tasks worked in this
 * process); with `--redis-url`, `--database-url` and `--s3-bucket` (or their env vars) one
 * instance of a distributed deployment, with `--no-work` leaving the tasks to `ream worker`s.
 */
export function registerServeCommand(program: Command): void {
  const command = program
    .command('serve')
    .description('serve the HTTP API (v1): embedded by default, or one instance of a distributed deployment; without --auth, loopback only')
    .option('--port <n>', 'port to listen on (0: any free port)', port, 8080)
    .option('--host <host>', 'address to bind (loopback only unless --auth)', '127.0.0.1')
    .option('--data-dir <dir>', 'embedded: where the database, stored files and checkpoints live; distributed: local caches only', '.ream')
    .option('--threads <n>', 'worker threads for parsing (default: the number of cores)', positiveInt)
    .option('-c, --concurrency <n>', 'tasks in flight at once in this process (default: 2 × threads)', positiveInt)
    .option('--no-work', 'take no tasks in this process (distributed: leave them to `ream worker`s)')
    .option('--lease <seconds>', 'task lease: a task whose process stops heartbeating is taken over after this long', positiveInt, 30)
    .option('--pipelines <module>', 'a module whose "pipelines" export adds pipelines of your own (every worker must load the same)')
    .option('--cors-origin <origin>', 'let pages of this origin call the API (repeatable)', collect)
    .option('--public-url <url>', 'the URL browsers reach this server at (e.g. through a proxy or tunnel): without --auth its host is answered besides loopback names', httpUrl)
    .option('--auth', 'require an API key (ream keys create) or a JWT on every request but /healthz, /readyz, /openapi.json')
    .addOption(new Option('--jwt-secret <secret>', 'accept HS256 JWTs signed with this secret (implies --auth)').env('REAM_JWT_SECRET'))
    .option('--jwks <file>', 'accept RS256/ES256 JWTs signed by a key of this JWKS file (implies --auth)')
    .addOption(new Option('--jwks-url <url>', 'accept RS256/ES256 JWTs signed by a key of the JWKS at this URL, fetched and cached (implies --auth)').env('REAM_JWKS_URL').argParser(httpUrl))
    .addOption(new Option('--jwt-issuer <iss>', 'JWTs must have this "iss" claim').env('REAM_JWT_ISSUER'))
    .addOption(new Option('--jwt-audience <aud>', 'JWTs must have this "aud" claim').env('REAM_JWT_AUDIENCE'))
    .option('--jwt-allow-no-exp', 'accept JWTs without an "exp" claim (by default they are refused: they would never expire)')
    .option('--rate-limit <n>', 'requests per minute per API key / JWT subject', positiveInt)
    .option('--max-connections-per-client <n>', 'connections one client address (an IPv6 /64) may hold at once, loopback peers exempt (0: no limit)', nonNegativeInt, 256)
    .option('--connection-limit-exempt <cidr>', 'an address or CIDR range (a reverse proxy in another container or host) exempt from --max-connections-per-client (repeatable)', exemptRange)
    .addOption(new Option('--log-level <level>', 'the least severe log lines written (JSON, one a line, on stdout); debug adds why a bearer token was refused').choices(LOG_LEVELS).default('info').env('REAM_LOG_LEVEL'))
    .option('--metrics-interval <seconds>', 'sample the deployment into the metrics history (GET /v1/metrics/history) this often', positiveInt, 10)
    .option('--metrics-samples <n>', 'samples the metrics history keeps (a ring in the store; default a day of 10 s samples)', positiveInt, 8_640);
  addLimitFlags(command);
  addRetentionFlags(command);
  addIntakeFlags(command);
  addCreditFlags(command);
  addDeploymentFlags(addWebhookFlags(command)).action(async (flags: ServeFlags & LimitFlags & RetentionFlags & CreditFlags) => {
    // The service's modules load when `serve` runs: every other command, and `--help`, starts without them.
    const [{ createReam }, { refuseNonLoopback, startServer }, { checkOrigins }] = await Promise.all([import('../runtime/create-ream.ts'), import('../server/app.ts'), import('../server/cors.ts')]);
    const limits = limitsFromFlags(flags);
    const auth = authOptions(flags);
    // Refusals before opening anything: a refused start touches nothing.
    refuseNonLoopback(flags.host, auth);
    if (flags.corsOrigin) checkOrigins(flags.corsOrigin);
    const distributed = deploymentFromFlags(flags);
    const pipelines = await loadPipelines(flags.pipelines);
    const retention = retentionFromFlags(flags);
    const credits = creditsFromFlags(flags);
    // Recovery runs while the server serves: a large backlog of unfinished jobs no longer keeps
    // the port closed. Its end is logged once the server's logger is there.
    let server: RunningServer | undefined;
    let sayRecovered: ((log: RunningServer['app']['log']) => void) | undefined;
    const onRecovered = (durationMs: number, error?: ReamError): void => {
      const ms = Math.round(durationMs);
      sayRecovered = (log) => {
        if (error?.code === 'cancelled') log.info(`recovery at start stopped by the shutdown after ${ms} ms (the next start finishes it)`);
        else if (error) log.warn(`recovery at start failed after ${ms} ms (the next start tries again): ${error.message}`);
        else log.info(`recovery at start done in ${ms} ms`);
      };
      if (server) sayRecovered(server.app.log);
    };
    // Begun once the port is open: beside it, the server's start went at the pace of the loop's
    // turns that recovery let through (seconds for a large backlog).
    let opened: () => void = () => undefined;
    const recoverAfter = new Promise<void>((resolve) => (opened = resolve));
    const ream = await createReam({
      recover: 'background',
      recoverAfter,
      onRecovered,
      dataDir: flags.dataDir,
      work: flags.work,
      ...(retention === undefined ? {} : { retention }),
      ...(credits === undefined ? {} : { credits }),
      leaseMs: flags.lease * 1000,
      webhooks: webhookAddressOptions(flags),
      ...(distributed === undefined ? {} : { distributed }),
      ...(pipelines === undefined ? {} : { pipelines }),
      ...(flags.threads === undefined ? {} : { threads: flags.threads }),
      ...(flags.concurrency === undefined ? {} : { concurrency: flags.concurrency }),
      ...limits.ream,
      intake: intakeFromFlags(flags),
    });
    try {
      server = await startServer({
        ream,
        host: flags.host,
        port: flags.port,
        maxFileBytes: limits.maxFileBytes,
        logger: { level: flags.logLevel },
        auth,
        ...(flags.corsOrigin === undefined ? {} : { cors: { origins: flags.corsOrigin } }),
        ...(flags.publicUrl === undefined ? {} : { publicUrl: flags.publicUrl }),
        ...(flags.rateLimit === undefined ? {} : { rateLimit: { requestsPerMinute: flags.rateLimit } }),
        ...(flags.maxConnectionsPerClient === undefined ? {} : { connectionLimit: { perClient: flags.maxConnectionsPerClient, ...(flags.connectionLimitExempt === undefined ? {} : { exempt: flags.connectionLimitExempt }) } }),
        metricsHistory: { intervalMs: flags.metricsInterval * 1000, capacity: flags.metricsSamples },
      });
    } catch (error) {
      await ream.close();
      throw error;
    }
    opened();
    sayRecovered?.(server.app.log);
    if (distributed) server.app.log.info(`distributed: queue on Redis, records on PostgreSQL, files in bucket ${distributed.s3.bucket}${flags.work ? '' : '; this instance takes no tasks'}`);
    await untilStopSignal();
    // Stop taking requests first, then release unfinished tasks for the next start.
    await server.close();
    await ream.close();
  });
}
