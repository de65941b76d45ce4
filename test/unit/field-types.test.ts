import { describe, expect, it } from 'vitest';
import {
  coerceToFieldType,
  describeValueType,
  detectFieldType,
  normalizeDateTime,
} from '../../src/core/fields/types.js';

describe('custom field type detection', () => {
  it('types a first value by what it is', () => {
    expect(detectFieldType(true)).toBe('BOOLEAN');
    expect(detectFieldType(1250)).toBe('NUMBER');
    expect(detectFieldType(0.5)).toBe('NUMBER');
    expect(detectFieldType('gold')).toBe('STRING');
    expect(detectFieldType('2026-02-24T12:15:00.000Z')).toBe('DATE');
    expect(detectFieldType('2026-02-24T12:15:00+02:00')).toBe('DATE');
  });

  it('takes a date without a time zone, or an impossible date, as a string', () => {
    expect(detectFieldType('2026-02-24')).toBe('STRING');
    expect(detectFieldType('2026-02-24T12:15:00')).toBe('STRING');
    expect(detectFieldType('2026-02-30T12:15:00Z')).toBe('STRING');
    expect(detectFieldType('2025-02-29T00:00:00Z')).toBe('STRING');
    expect(detectFieldType('2026-13-01T00:00:00Z')).toBe('STRING');
    expect(detectFieldType('2026-01-01T24:00:00Z')).toBe('STRING');
  });

  it('normalises date-times to UTC with milliseconds', () => {
    expect(normalizeDateTime('2026-02-24T12:15:00+02:00')).toBe('2026-02-24T10:15:00.000Z');
    expect(normalizeDateTime('2024-02-29T23:30Z')).toBe('2024-02-29T23:30:00.000Z');
    expect(normalizeDateTime('2026-02-24T12:15:00.123456-05:30')).toBe('2026-02-24T17:45:00.123Z');
  });

  it('keeps DATE values in the years 0001 to 9999 once in UTC, the years they can be written back in', () => {
    expect(normalizeDateTime('9999-12-31T23:59:59-23:59')).toBeUndefined();
    expect(normalizeDateTime('0001-01-01T00:00:00+01:00')).toBeUndefined();
    expect(normalizeDateTime('0000-06-01T00:00:00Z')).toBeUndefined();
    expect(normalizeDateTime('0001-01-01T00:00:00Z')).toBe('0001-01-01T00:00:00.000Z');
    // Such a value still declares a DATE, which then refuses it: it is not taken as text.
    expect(detectFieldType('9999-12-31T23:59:59-23:59')).toBe('DATE');
    expect(coerceToFieldType('9999-12-31T23:59:59-23:59', 'DATE')).toBeUndefined();
    expect(describeValueType('9999-12-31T23:59:59-23:59', 'DATE')).toContain('0001 to 9999');
    expect(describeValueType('2026-02-30T00:00:00Z', 'DATE')).toContain('not a real one');
    expect(describeValueType('2026-02-30T00:00:00Z', 'NUMBER')).toBe('string');
  });

  it('holds a declared type', () => {
    expect(coerceToFieldType('x', 'STRING')).toBe('x');
    expect(coerceToFieldType('2026-02-24T12:15:00Z', 'STRING')).toBe('2026-02-24T12:15:00Z');
    expect(coerceToFieldType(5, 'STRING')).toBeUndefined();
    expect(coerceToFieldType('5', 'NUMBER')).toBeUndefined();
    expect(coerceToFieldType(false, 'BOOLEAN')).toBe(false);
    expect(coerceToFieldType('true', 'BOOLEAN')).toBeUndefined();
    expect(coerceToFieldType('soon', 'DATE')).toBeUndefined();
    expect(coerceToFieldType('2026-02-24T12:15:00+01:00', 'DATE')).toBe('2026-02-24T11:15:00.000Z');
  });
});
