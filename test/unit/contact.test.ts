import { describe, expect, it } from 'vitest';
import {
  checkEmail,
  compactPhone,
  isBirthdate,
  normalizeEmail,
  normalizePhone,
  storedEmailForm,
} from '../../src/core/customers/contact.js';

describe('email', () => {
  it('is trimmed and lower-cased', () => {
    expect(normalizeEmail('  Jane.Doe@Example.COM ')).toBe('jane.doe@example.com');
  });
  it('must look like an address', () => {
    for (const bad of [
      'jane',
      'jane@',
      '@example.com',
      'jane@example',
      'ja ne@example.com',
      'a@b@c.com',
    ]) {
      expect(normalizeEmail(bad), bad).toBeUndefined();
    }
  });
});

describe('email forms', () => {
  it('is one form for composed and decomposed accents, full-width letters and IDN domains', () => {
    for (const written of [
      'jos\u00e9@example.com',
      'jose\u0301@example.com',
      'ＪＯＳé@ｅｘａｍｐｌｅ.ｃｏｍ',
    ]) {
      expect(normalizeEmail(written), written).toBe('jos\u00e9@example.com');
    }
    expect(normalizeEmail('a@xn--mnchen-3ya.de')).toBe('a@münchen.de');
    expect(normalizeEmail('a@MÜNCHEN.DE')).toBe('a@münchen.de');
  });
  it('refuses invisible characters by code point, and drops them from stored values', () => {
    expect(checkEmail('a\u200d@example.com')).toEqual({
      problem: 'must not contain invisible or control characters (found U+200D)',
    });
    expect(storedEmailForm('a\u200d@example.com')).toBe('a@example.com');
  });
});

describe('phone numbers', () => {
  it('are given in canonical E.164, with a trunk zero after the country code dropped', () => {
    expect(normalizePhone('+4407911123456', 'exists')).toBe('+447911123456');
    expect(normalizePhone('+4407911123456', 'e164')).toBe('+447911123456');
    // Italian numbers keep their leading zero: it is part of the number.
    expect(normalizePhone('+390612345678', 'exists')).toBe('+390612345678');
  });
  it('accepts E.164 numbers that exist', () => {
    expect(normalizePhone('+12025550143', 'exists')).toBe('+12025550143');
    expect(normalizePhone('+447911123456', 'exists')).toBe('+447911123456');
  });
  it('refuses numbers not in E.164 form', () => {
    for (const bad of [
      '2025550143',
      '+1 202 555 0143',
      '+1-202-555-0143',
      '+0123456789',
      '+1234567',
    ]) {
      expect(normalizePhone(bad, 'exists'), bad).toBeUndefined();
    }
  });
  it('refuses E.164 numbers no numbering plan has', () => {
    expect(normalizePhone('+19332223333', 'exists')).toBeUndefined();
    expect(normalizePhone('+1234567890', 'exists')).toBeUndefined();
  });
  it('gives the same answer every time, however many numbers came between', () => {
    // Answers are remembered (a bounded number of them): asked again, past the bound
    // included, a number still gets the full check's answer.
    const asked = ['+12025550143', '+19332223333', '+447911123456', '+1234567890'];
    const first = asked.map((n) => normalizePhone(n, 'exists'));
    expect(first).toEqual(['+12025550143', undefined, '+447911123456', undefined]);
    for (let i = 0; i < 12_000; i++) normalizePhone(`+1202${2000000 + i}`, 'exists');
    expect(asked.map((n) => normalizePhone(n, 'exists'))).toEqual(first);
    expect(asked.map((n) => normalizePhone(n, 'exists'))).toEqual(first);
  });
  it('checks only the form when asked to', () => {
    expect(normalizePhone('+19332223333', 'e164')).toBe('+19332223333');
    expect(normalizePhone(compactPhone('+1 (933) 222-3333'), 'e164')).toBe('+19332223333');
    expect(normalizePhone('19332223333', 'e164')).toBeUndefined();
  });
});

describe('birthdate', () => {
  it('is a real date written YYYY-MM-DD', () => {
    expect(isBirthdate('1990-01-31')).toBe(true);
    expect(isBirthdate('2000-02-29')).toBe(true);
    expect(isBirthdate('1990-02-29')).toBe(false);
    expect(isBirthdate('1990-1-31')).toBe(false);
    expect(isBirthdate('31/01/1990')).toBe(false);
  });
});
