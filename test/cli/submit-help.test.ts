import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { registerClientCommands } from '../../src/cli/client-commands.ts';

/** What `GET /v1/pipelines` of a plain `ream serve` lists. */
const BUILT_IN = ['extract', 'rules', 'report', 'rows', 'llm'];

void test('ream submit --help names every built-in pipeline a server takes', () => {
  const program = new Command('ream');
  registerClientCommands(program);
  const submit = program.commands.find((command) => command.name() === 'submit');
  const pipeline = submit?.options.find((option) => option.long === '--pipeline');
  assert.ok(pipeline);
  for (const name of BUILT_IN) assert.match(pipeline.description, new RegExp(`\\b${name}\\b`), name);
});
