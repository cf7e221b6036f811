// `node test/support/s3-server-main.ts`: the test S3 server (s3-server.ts) in a process of its
// own, for tests that measure their own process's memory (s3rver's buffers would count in it).
// Prints the server's details as one JSON line, and closes it (removing its folder) on SIGTERM.
import { startS3Server } from './s3-server.ts';

const server = await startS3Server();
const details: Omit<typeof server, 'close'> = { endpoint: server.endpoint, bucket: server.bucket, credentials: server.credentials, directory: server.directory };
process.stdout.write(`${JSON.stringify(details)}\n`);
process.once('SIGTERM', () => {
  void server.close().finally(() => process.exit(0));
});
