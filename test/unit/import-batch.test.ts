import { describe, expect, it } from 'vitest';
import { nextBatchRows } from '../../src/core/imports/worker.js';

describe("an import's batch size", () => {
  const options = { batchRows: 500, batchMs: 50 };

  it('is the fixed number of rows when no time is set', () => {
    expect(nextBatchRows(500, 2000, { batchRows: 500 })).toBe(500);
    expect(nextBatchRows(500, 2000, { batchRows: 500, batchMs: 0 })).toBe(500);
  });

  it('moves halfway to the rows that would take the time set', () => {
    // 100 rows took 100 ms: 50 would take 50 ms; halfway from 100 is 75.
    expect(nextBatchRows(100, 100, options)).toBe(75);
    // 100 rows took 25 ms: 200 would take 50 ms; halfway is 150.
    expect(nextBatchRows(100, 25, options)).toBe(150);
  });

  it('stays between 10 rows and the most rows set', () => {
    expect(nextBatchRows(10, 10_000, options)).toBe(10);
    expect(nextBatchRows(500, 1, options)).toBe(500);
  });
});
