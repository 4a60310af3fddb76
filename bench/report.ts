/** The results as Markdown, and their place in bench/README.md between the results markers. */
import { readFile, writeFile } from 'node:fs/promises';
import type { MemoryResult } from './memory.js';
import type { Row, RunPattern } from './scenarios.js';

export const BEGIN = '<!-- results: written by `npm run bench -- --record` -->';
export const END = '<!-- end of results -->';

export interface Machine {
  date: string;
  cpu: string;
  cores: number;
  memoryGb: number;
  node: string;
  command: string;
  logLevel: string;
  connections: number;
  runs: RunPattern;
  cachedReadRuns: RunPattern;
}

function patternText({ rounds, durationSeconds, warmupSeconds }: RunPattern): string {
  const pairs = rounds === 1 ? 'one pair' : `medians of ${rounds} interleaved pairs`;
  return `${pairs} of ${durationSeconds} s runs${warmupSeconds > 0 ? `, after a ${warmupSeconds} s warm-up of each server` : ''}`;
}

const fixed = (n: number | undefined, digits: number) => (n === undefined ? '–' : n.toFixed(digits));

export function resultsMarkdown(machine: Machine, rows: readonly Row[], memory: MemoryResult | undefined) {
  const lines = [
    `Recorded ${machine.date} on ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB, Node ${machine.node}, ` +
      `with \`${machine.command}\`: ${machine.connections} connections; (a) ${patternText(machine.cachedReadRuns)}, ` +
      `the others ${patternText(machine.runs)}; RKMS at the shipped config's log level (\`${machine.logLevel}\`).`,
    '',
    '![RKMS and the bare Fastify route, requests per second](chart.svg)',
    '',
    '| | scenario | RKMS req/s | p50 ms | p99 ms | errors | KMS calls / request | bare req/s | RKMS / bare | notes |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows.map((r) =>
      [
        '',
        `(${r.key})`,
        r.scenario,
        Math.round(r.rkms.rps),
        r.rkms.p50,
        r.rkms.p99,
        r.rkms.errors,
        fixed(r.rkms.kmsCallsPerRequest, 2),
        r.bare ? Math.round(r.bare.rps) : '–',
        r.bare ? `${(r.rkms.rps / r.bare.rps).toFixed(2)}×` : '–',
        r.notes.join('; '),
        '',
      ]
        .join(' | ')
        .trim(),
    ),
  ];
  if (memory) {
    lines.push(
      '',
      `(h) ${memory.count.toLocaleString('en-US')} cached keys: RSS grew ${memory.grownMb.toFixed(1)} MB ` +
        `(from ${memory.baselineMb.toFixed(0)} MB), ${Math.round(memory.bytesPerKey)} bytes per key in the replica; ` +
        `one cache entry alone (id, 32-byte key, LRU bookkeeping) holds ${memory.entryBytes} bytes.`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Replaces what is between the markers of bench/README.md with the new results. */
export async function record(readme: string, results: string): Promise<void> {
  const text = await readFile(readme, 'utf8');
  const begin = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`${readme} has no results markers (${BEGIN} … ${END})`);
  await writeFile(readme, `${text.slice(0, begin + BEGIN.length)}\n${results}${text.slice(end)}`);
}
