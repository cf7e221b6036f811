import type { Store } from '../../src/store/port.ts';
import { auditStoreConformance } from './store-audit.ts';
import { documentStoreConformance } from './store-documents.ts';
import { eventStoreConformance } from './store-events.ts';
import { jobDocumentStoreConformance } from './store-job-documents.ts';
import { jobStoreConformance } from './store-jobs.ts';
import { keyStoreConformance } from './store-keys.ts';
import { metricsStoreConformance } from './store-metrics.ts';
import { tenantStoreConformance } from './store-tenants.ts';
import { uploadStoreConformance } from './store-uploads.ts';
import { workerStoreConformance } from './store-workers.ts';
import type { ConformanceOptions, Harness } from './suite.ts';

const SUITES = {
  jobs: jobStoreConformance,
  jobDocuments: jobDocumentStoreConformance,
  documents: documentStoreConformance,
  events: eventStoreConformance,
  keys: keyStoreConformance,
  workers: workerStoreConformance,
  uploads: uploadStoreConformance,
  audit: auditStoreConformance,
  tenants: tenantStoreConformance,
  metrics: metricsStoreConformance,
};

export type StorePortName = keyof typeof SUITES;

export interface StoreConformanceOptions {
  unavailable?: string | undefined;
  /** Cases an adapter skips, by port, then by case name, each with its reason. */
  skip?: Partial<Record<StorePortName, Record<string, string>>>;
}

/**
 * Registers every store port's contract (test/conformance/store-*.ts) against one adapter: a
 * `Store` composes the ports, so one harness serves every suite.
 */
export function storeConformance(name: string, make: () => Promise<Harness<{ store: Store }>>, options: StoreConformanceOptions = {}): void {
  for (const [port, register] of Object.entries(SUITES) as [StorePortName, (typeof SUITES)[StorePortName]][]) {
    const skip = options.skip?.[port];
    const suiteOptions: ConformanceOptions = { unavailable: options.unavailable, ...(skip === undefined ? {} : { skip }) };
    register(name, make, suiteOptions);
  }
}
