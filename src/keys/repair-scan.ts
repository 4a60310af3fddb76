import { timingSafeEqual } from 'node:crypto';
import { RegionCallError } from '../kms/errors.js';
import { wipe } from '../kms/key-material.js';
import type { Kms } from '../kms/kms.js';
import { MalformedItemError, type Store, type StoredKey } from '../store/store.js';
import { encryptionContextFor } from './id.js';
import { KeyContentionError } from './errors.js';
import type { Repairer } from './repair.js';
import { AGAIN, inRounds } from './rounds.js';

export interface ScanOptions {
  /** Report what would be repaired; write nothing and encrypt nothing. */
  dryRun: boolean;
  /** Decrypt every region's copy, to find damaged ones. */
  verify: boolean;
  /** Re-encrypt copies made under a key other than their region's configured one. */
  rewrap: boolean;
  /** Items worked on at once. */
  concurrency: number;
}

export interface ScanSummary {
  scanned: number;
  /** Items that needed nothing. */
  complete: number;
  /** Destroyed keys (tombstones): nothing to repair. */
  deleted: number;
  /** Region → copies added or replaced there (or that would be, in a dry run). */
  repaired: Record<string, number>;
  /** Damaged copies found (malformed, or refused by their region). */
  damaged: number;
  /** Copies moved to their region's configured key. */
  rewrapped: number;
  /** Items that could not be fully checked or repaired, with why. */
  failed: { id: string; reason: string }[];
}

/** What one item needs, once its copies are checked. */
interface Diagnosis {
  plaintext: Uint8Array;
  missing: string[];
  damaged: string[];
  rewrap: string[];
  /** Copies that could not be checked (their region failed), and why. */
  unchecked: string[];
}

/**
 * `rkms repair`: walks the whole table and gives every key a good copy in every
 * configured region — missing regions (an outage during creation, a region added to the
 * config), damaged copies (with `verify`) and copies under an old key (with `rewrap`).
 */
export async function repairTable(
  parts: { store: Store; kms: Kms; repairer: Repairer },
  options: ScanOptions,
  onProgress: (summary: ScanSummary) => void = () => undefined,
): Promise<ScanSummary> {
  const summary: ScanSummary = {
    scanned: 0,
    complete: 0,
    deleted: 0,
    repaired: {},
    damaged: 0,
    rewrapped: 0,
    failed: [],
  };
  const inFlight = new Set<Promise<void>>();
  for await (const item of parts.store.scan()) {
    const work = repairItem(parts, item, options, summary).finally(() => {
      inFlight.delete(work);
      onProgress(summary);
    });
    inFlight.add(work);
    if (inFlight.size >= options.concurrency) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return summary;
}

async function repairItem(
  parts: { store: Store; kms: Kms; repairer: Repairer },
  item: Awaited<ReturnType<Store['get']>> | MalformedItemError,
  options: ScanOptions,
  summary: ScanSummary,
): Promise<void> {
  summary.scanned++;
  if (item instanceof MalformedItemError) {
    summary.failed.push({ id: item.id, reason: item.problem });
    return;
  }
  if (!item) return;
  if (item.state === 'Deleted') {
    summary.deleted++;
    return;
  }
  let record: StoredKey = item;
  try {
    await inRounds(record.id, async () => {
      if ((await repairRecord(parts, record, options, summary)) === 'done') return 'done';
      const fresh = await parts.store.get(record.id);
      if (!fresh || fresh.state === 'Deleted') return 'done';
      record = fresh;
      return AGAIN;
    });
  } catch (err) {
    if (!(err instanceof KeyContentionError)) throw err;
    summary.failed.push({ id: record.id, reason: 'the item kept changing during the repair; run again' });
  }
}

async function repairRecord(
  parts: { kms: Kms; repairer: Repairer },
  record: StoredKey,
  options: ScanOptions,
  summary: ScanSummary,
): Promise<'done' | 'changed'> {
  let diagnosis: Diagnosis | undefined;
  try {
    diagnosis = await diagnose(parts.kms, record, options);
  } catch (err) {
    summary.failed.push({ id: record.id, reason: describe(err) });
    return 'done';
  }
  if (!diagnosis) {
    summary.complete++;
    return 'done';
  }
  const { plaintext, missing, damaged, rewrap, unchecked } = diagnosis;
  for (const reason of unchecked) summary.failed.push({ id: record.id, reason: `could not check ${reason}` });
  try {
    const targets = parts.kms.regions.filter(
      (r) => missing.includes(r) || damaged.includes(r) || rewrap.includes(r),
    );
    summary.damaged += damaged.length;
    if (targets.length === 0) {
      summary.complete++;
      return 'done';
    }
    if (options.dryRun) {
      for (const region of targets) summary.repaired[region] = (summary.repaired[region] ?? 0) + 1;
      summary.rewrapped += rewrap.length;
      return 'done';
    }
    const result = await parts.repairer.repair(record, plaintext, targets);
    for (const region of result.repaired) {
      summary.repaired[region] = (summary.repaired[region] ?? 0) + 1;
      if (rewrap.includes(region)) summary.rewrapped++;
    }
    if (result.changed) return 'changed';
    for (const failure of result.failed) {
      summary.failed.push({ id: record.id, reason: `${failure.region}: ${failure.reason}` });
    }
    return 'done';
  } finally {
    wipe(plaintext);
  }
}

/**
 * The key and what the item lacks; undefined when nothing needs checking further (no
 * region missing, and neither `verify` nor `rewrap` asked to look at every copy).
 */
async function diagnose(kms: Kms, record: StoredKey, options: ScanOptions): Promise<Diagnosis | undefined> {
  const context = record.boundToId ? encryptionContextFor(record.id) : undefined;
  const missing = kms.regions.filter((r) => record.copies[r] === undefined);
  const damaged = record.malformed.filter((r) => kms.regions.includes(r));
  if (!options.verify && !options.rewrap) {
    if (missing.length === 0) return undefined;
    const opened = await kms.open(record.copies, context);
    const refused = opened.refused.map((f) => f.region);
    return {
      plaintext: opened.plaintext,
      missing,
      damaged: [...damaged, ...refused],
      rewrap: [],
      unchecked: [],
    };
  }

  let plaintext: Uint8Array | undefined;
  const rewrap: string[] = [];
  const unchecked: string[] = [];
  for (const region of kms.regions) {
    const copy = record.copies[region];
    if (!copy || damaged.includes(region)) continue;
    let opened: { plaintext: Uint8Array; keyArn: string | undefined };
    try {
      opened = await kms.decryptIn(region, copy, context, { anyKey: options.rewrap });
    } catch (err) {
      if (!(err instanceof RegionCallError)) {
        if (plaintext) wipe(plaintext);
        throw err;
      }
      if (err.kind === 'rejected') damaged.push(region);
      else unchecked.push(err.message);
      continue;
    }
    if (!plaintext) plaintext = opened.plaintext;
    else {
      const same =
        plaintext.length === opened.plaintext.length && timingSafeEqual(plaintext, opened.plaintext);
      wipe(opened.plaintext);
      if (!same) {
        wipe(plaintext);
        throw new Error(
          `copies in different regions hold different keys; needs an operator (found in ${region})`,
        );
      }
    }
    if (options.rewrap && opened.keyArn !== (await kms.keyArn(region))) rewrap.push(region);
  }
  if (!plaintext) {
    const problems = [...damaged.map((r) => `${r}: damaged`), ...unchecked];
    throw new Error(`no region could decrypt any copy (${problems.join('; ')})`);
  }
  return { plaintext, missing, damaged, rewrap, unchecked };
}

function describe(err: unknown): string {
  if (err instanceof RegionCallError) return err.message;
  return err instanceof Error ? err.message : String(err);
}
