import { Option, type Command } from 'commander';
import { DEPLOYMENT_ENV, deploymentInput, parseDeployment, type DeploymentInput, type DistributedSettings } from '../runtime/deployment.ts';

/**
 * The flags that point a process at a distributed deployment (each also read from its env var).
 * None given: the embedded default. Shared by `serve`, `worker` and `migrate`.
 */
export function addDeploymentFlags(command: Command): Command {
  return command
    .addOption(new Option('--redis-url <url>', `Redis for the queue and live events (${DEPLOYMENT_ENV.redisUrl})`))
    .addOption(new Option('--database-url <url>', `PostgreSQL for records, events and search (${DEPLOYMENT_ENV.databaseUrl})`))
    .addOption(new Option('--s3-bucket <name>', `bucket for documents and uploads (${DEPLOYMENT_ENV.bucket})`))
    .addOption(new Option('--s3-endpoint <url>', `S3-compatible endpoint, e.g. MinIO (${DEPLOYMENT_ENV.endpoint})`))
    .addOption(new Option('--s3-region <region>', `bucket region, default us-east-1 (${DEPLOYMENT_ENV.region})`))
    .addOption(new Option('--prefix <prefix>', `prefix of Redis keys and channels, default ream (${DEPLOYMENT_ENV.prefix})`))
    .addOption(new Option('--pg-statement-timeout <ms>', `longest a PostgreSQL statement of a request or task may run, default 30000 (${DEPLOYMENT_ENV.statementTimeoutMs})`));
}

export interface DeploymentFlags {
  redisUrl?: string;
  databaseUrl?: string;
  s3Bucket?: string;
  s3Endpoint?: string;
  s3Region?: string;
  prefix?: string;
  pgStatementTimeout?: string;
}

/** The distributed settings the flags and env vars name, or `undefined` for embedded. */
export function deploymentFromFlags(flags: DeploymentFlags, env: NodeJS.ProcessEnv = process.env): DistributedSettings | undefined {
  const given: DeploymentInput = {
    redisUrl: flags.redisUrl,
    databaseUrl: flags.databaseUrl,
    bucket: flags.s3Bucket,
    endpoint: flags.s3Endpoint,
    region: flags.s3Region,
    prefix: flags.prefix,
    statementTimeoutMs: flags.pgStatementTimeout,
  };
  return parseDeployment(deploymentInput(given, env));
}
