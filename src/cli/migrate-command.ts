import type { Command } from 'commander';
import { ReamError } from '../errors.ts';
import { redactUrl } from '../url.ts';
import { addDeploymentFlags } from './deployment-flags.ts';

/**
 * `ream migrate`: brings the PostgreSQL schema of a distributed deployment up to date and exits.
 * Servers and workers also migrate when they start (under a lock, so concurrent starts are
 * safe); running this first lets a deployment upgrade the schema as a step of its own.
 */
export function registerMigrateCommand(program: Command): void {
  const command = program.command('migrate').description('create or upgrade the PostgreSQL tables of a distributed deployment, then exit');
  addDeploymentFlags(command).action(async (flags: { databaseUrl?: string }) => {
    const url = flags.databaseUrl ?? process.env.REAM_DATABASE_URL;
    if (url === undefined || url === '') {
      throw ReamError.nonRetryable('validation_failed', 'ream migrate needs --database-url or REAM_DATABASE_URL (embedded SQLite migrates itself)');
    }
    const { migrateDatabase } = await import('../runtime/migrate.ts');
    const applied = await migrateDatabase(url);
    process.stdout.write(`migrated ${redactUrl(url)}: ${applied.length === 0 ? 'already up to date' : applied.join(', ')}\n`);
  });
}
