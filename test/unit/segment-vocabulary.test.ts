import { describe, expect, it } from 'vitest';
import { profileFields } from '../../src/core/segments/fields.js';
import { profileFieldTypes } from '../../src/core/segments/vocabulary.js';

describe('the filter vocabulary clients read', () => {
  it('names every profile field the server reads, each with its type', () => {
    expect(profileFieldTypes).toEqual(Object.fromEntries(profileFields));
  });
});
