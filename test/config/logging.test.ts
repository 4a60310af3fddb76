import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { createLogger } from '../../src/config/logging.js';

it('redacts every field that could carry key material', () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger('trace', sink);
  logger.info({ key: 'SECRET-1', plaintext: 'SECRET-2', dataKey: 'SECRET-3' }, 'top level');
  logger.info(
    { reply: { key: 'SECRET-4', Plaintext: 'SECRET-5' }, nested: { deeper: { Plaintext: 'SECRET-6' } } },
    'nested',
  );
  logger.info({ req: { headers: { authorization: 'AWS4-HMAC-SHA256 SECRET-7' } } }, 'request');
  const output = lines.join('');
  expect(output).not.toMatch(/SECRET-\d/);
  expect(output.match(/\[Redacted\]/g)).toHaveLength(7);
});

it('maps the original level names (logrus) to pino levels', () => {
  expect(createLogger('warning').level).toBe('warn');
  expect(createLogger('panic').level).toBe('fatal');
  expect(createLogger('debug').level).toBe('debug');
});
