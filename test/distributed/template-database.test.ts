import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../support/env.ts';
import { templateName } from '../support/template-database.ts';

const source = (path: string): string => readFileSync(join(repoRoot, path), 'utf8');

void test('the migrated template\'s name changes with the code that makes the tables, not only with the migrations\' own text', () => {
  const read: string[] = [];
  const name = templateName((path) => {
    read.push(path);
    return source(path);
  });
  assert.match(name, /^ream_test_template_[0-9a-f]{16}$/);
  assert.equal(templateName(), name, 'the same code, the same template');
  for (const made of ['src/sql/migrate.ts', 'src/store/jobs-schema.ts', 'src/store/stored-bytes-schema.ts', 'src/search/postgres-search-schema.ts', 'src/analyzers/store/analysis-schema.ts']) {
    assert.ok(read.includes(made), `${made} is part of the name`);
  }
  // The jobs table is made by createJobs, which its 0001 migration calls through adoptingLegacy's
  // wrapper, the same text for seven ports: an edit there is another template.
  const edited = templateName((path) => (path === 'src/store/jobs-schema.ts' ? source(path).replace(".addColumn('pipeline'", ".addColumn('pipeline_renamed'") : source(path)));
  assert.ok(source('src/store/jobs-schema.ts').includes(".addColumn('pipeline'"));
  assert.notEqual(edited, name);
});
