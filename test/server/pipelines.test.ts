// GET /v1/pipelines: each pipeline with the JSON Schema of its options, and that schema is what
// POST /v1/jobs enforces: compiled here with Ajv, it gives the API's own verdict on every sample.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Ajv } from 'ajv';
import { ReamClient, ReamHttpError, type JsonObject, type PipelineView } from '../../src/client/index.ts';
import { builtinPipelines } from '../../src/pipeline/builtin.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { makePdf } from '../support/make-pdf.ts';

let dir: string;
let ream: Ream;
let server: RunningServer;
let client: ReamClient;
let pdf: Uint8Array;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-pipelines-'));
  const extract = builtinPipelines.extract;
  assert.ok(extract);
  // A pipeline of the program's own, with no schema: any object.
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, work: false, pipelines: { mine: () => ({ ...extract({}), name: 'mine' }) } });
  server = await startServer({ ream, host: '127.0.0.1', port: 0, metricsHistory: false });
  client = new ReamClient({ baseUrl: server.url });
  pdf = await makePdf({ pages: ['a page'] });
});
after(async () => {
  await server.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

async function accepted(pipeline: string, options: JsonObject): Promise<boolean> {
  try {
    await client.submit({ pipeline, options, files: [{ name: 'a.pdf', data: pdf }] });
    return true;
  } catch (error) {
    if (error instanceof ReamHttpError && error.code === 'validation_failed') return false;
    throw error;
  }
}

test('every pipeline is listed with its options schema; one without a schema takes any object', async () => {
  const pipelines = await client.pipelines();
  assert.deepEqual(pipelines.map((p) => p.name).sort(), ['extract', 'llm', 'mine', 'report', 'rows', 'rules']);
  const byName = new Map<string, PipelineView>(pipelines.map((p) => [p.name, p]));
  assert.deepEqual(byName.get('mine')?.optionsSchema, { type: 'object' });
  const rules = byName.get('rules')?.optionsSchema as { required?: string[]; properties: Record<string, unknown>; additionalProperties: boolean };
  assert.deepEqual(rules.required, ['rules']);
  assert.equal(rules.additionalProperties, false);
  assert.ok('chunkPages' in rules.properties && 'template' in rules.properties);
  assert.ok('sheet' in (byName.get('rows')?.optionsSchema.properties as object));
  assert.deepEqual((byName.get('report')?.optionsSchema as { required?: string[] }).required, ['template']);
});

test('the published schema gives the API\'s verdict on each sample of options', async () => {
  const extract = (await client.pipelines()).find((p) => p.name === 'extract');
  assert.ok(extract);
  const validate = new Ajv({ strict: false }).compile(extract.optionsSchema);
  const samples: JsonObject[] = [
    {}, { chunkPages: 5 }, { chunkPages: 0 }, { maxpages: 3 }, { ocr: 'sometimes' }, { ocr: 'always', ocrDpi: 150 },
    { index: null }, { pdfEngine: 'pdfjs' }, { ocrLanguages: 'eng+deu' }, { links: 'yes' }, { maxBytes: 1.5 },
  ];
  for (const options of samples) {
    assert.equal(await accepted('extract', options), validate(options), `${JSON.stringify(options)}: the API and the schema agree`);
  }
  await assert.rejects(client.submit({ options: { index: null }, files: [{ name: 'a.pdf', data: pdf }] }), /options\/index must be boolean/);
});
