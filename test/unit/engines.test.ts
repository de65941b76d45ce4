import { readFileSync } from 'node:fs';
import semver from 'semver';
import { expect, it } from 'vitest';

/**
 * `npm install` on the oldest Node that package.json accepts warns EBADENGINE for any
 * locked package that refuses it (content-disposition 3 and cookie 2 want Node 22, and
 * came in through @fastify/static and light-my-request until package.json overrode them;
 * vitest's vite and rolldown want 20.19).
 */
it('every locked package accepts the oldest Node that package.json accepts', () => {
  const read = (file: string) =>
    JSON.parse(readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8'));
  const oldest = semver.minVersion(read('package.json').engines.node);
  expect(oldest).not.toBeNull();
  const lock = read('package-lock.json') as {
    packages: Record<string, { version?: string; engines?: { node?: string } }>;
  };
  const refusing = Object.entries(lock.packages)
    .filter(([, p]) => p.engines?.node && !semver.satisfies(oldest ?? '', p.engines.node))
    .map(([path, p]) => `${path}@${p.version}: node ${p.engines?.node}`);
  expect(refusing).toEqual([]);
});
