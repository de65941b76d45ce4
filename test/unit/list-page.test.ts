import { describe, expect, it } from 'vitest';
import { endAtTimeChange } from '../../src/core/customers/list.js';

const time = (row: number) => row;

describe('a page of a list paged by time', () => {
  it('is the rows fetched when no row follows them', () => {
    expect(endAtTimeChange([1, 2, 3], 3, time)).toEqual({ page: [1, 2, 3], more: false });
    expect(endAtTimeChange([], 3, time)).toEqual({ page: [], more: false });
  });

  it('is the whole page when the next row has another time', () => {
    expect(endAtTimeChange([1, 2, 3, 4], 3, time)).toEqual({ page: [1, 2, 3], more: true });
  });

  it('ends before the run of times that the next row continues', () => {
    expect(endAtTimeChange([1, 2, 3, 3, 3], 4, time)).toEqual({ page: [1, 2], more: true });
    expect(endAtTimeChange([1, 5, 5, 5], 3, time)).toEqual({ page: [1], more: true });
  });

  it('asks for the whole run when one time fills the page', () => {
    expect(endAtTimeChange([7, 7, 7, 7], 3, time)).toEqual({ page: [], more: true, tiedAt: 7 });
  });
});
