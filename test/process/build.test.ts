import { execSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, expect, it } from 'vitest';

/**
 * `npm start` builds before it serves (its prestart script): an unchanged source must
 * cost no compile, a changed one must be compiled. The script, with the project's own
 * tsconfig files, on a small project of its own (the real build takes ~11 s).
 */
const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'clientele-build-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const prestart = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.prestart;
const build = () =>
  execSync(prestart, {
    cwd: dir,
    env: {
      ...process.env,
      PATH: `${join(root, 'node_modules', '.bin')}${delimiter}${process.env.PATH}`,
    },
    stdio: 'pipe',
  });
const output = join(dir, 'dist', 'greeting.js');

it("npm start's build compiles a changed source and leaves an unchanged build alone", () => {
  for (const file of ['tsconfig.json', 'tsconfig.build.json'])
    copyFileSync(join(root, file), join(dir, file));
  writeFileSync(join(dir, 'package.json'), '{"type": "module"}\n');
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'greeting.ts'), "export const greeting: string = 'hello';\n");

  build();
  expect(readFileSync(output, 'utf8')).toContain("'hello'");
  const built = statSync(output).mtimeMs;

  build();
  expect(statSync(output).mtimeMs, 'an unchanged source was compiled again').toBe(built);

  writeFileSync(join(dir, 'src', 'greeting.ts'), "export const greeting: string = 'bonjour';\n");
  build();
  expect(readFileSync(output, 'utf8')).toContain("'bonjour'");

  // A removed dist is built again (what the build recorded lives in dist).
  rmSync(join(dir, 'dist'), { recursive: true });
  build();
  expect(readFileSync(output, 'utf8')).toContain("'bonjour'");
}, 120_000);
