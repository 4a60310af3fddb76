/**
 * dynalite in a process of its own, for tests that stop it (SIGSTOP) or kill it as a
 * real store outage would. Prints its address, then serves until SIGINT or SIGTERM.
 */
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';

const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
const stop = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`dynalite listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
