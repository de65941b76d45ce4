import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

/**
 * The clientele command as a real process: the compiled build, which test/global-setup.ts
 * brings up to date with the sources before any test runs.
 */
const root = join(import.meta.dirname, '..', '..');
export const cli = [join(root, 'dist/cli/main.js')];

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<number | string | null>;
}

/** Starts `clientele serve` (on a free port unless env says PORT) and resolves once it says where it serves. */
export function startServerProcess(env: NodeJS.ProcessEnv): Promise<ServerProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...cli, 'serve'], {
      cwd: root,
      env: { ...process.env, LOG_LEVEL: 'silent', PORT: '0', ...env },
    });
    let out = '';
    let resolved = false;
    const exited = new Promise<number | string | null>((done) =>
      child.on('exit', (code, signal) => done(code ?? signal)),
    );
    child.stdout.on('data', (d) => {
      out += d;
      const m = /serving on (http:\/\/\S+)/.exec(out);
      if (m && !resolved) {
        resolved = true;
        resolve({ child, url: m[1]!, output: () => out, exited });
      }
    });
    child.stderr.on('data', (d) => (out += d));
    exited.then((code) => {
      if (!resolved) reject(new Error(`serve exited ${code}: ${out}`));
    });
  });
}

/**
 * Runs a `clientele` command to its end. One that has not ended after `timeoutMs` is
 * killed and reported with code `'timeout'`, so that a hang fails a test rather than
 * stalling it.
 */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 30_000,
): Promise<{ code: number | string | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...cli, ...args], {
      cwd: root,
      env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: timedOut ? 'timeout' : (code ?? signal), stdout, stderr });
    });
  });
}

/** The store and key a first start printed. */
export function bootstrapCredentials(output: string): { storeId: string; apiKey: string } {
  const apiKey = /(ck_\S+)/.exec(output)?.[1];
  const storeId = /"default" \((sto_\w+)\)/.exec(output)?.[1];
  if (!apiKey || !storeId) throw new Error(`no credentials in: ${output}`);
  return { storeId, apiKey };
}

/**
 * Keeps `workers` clients upserting new customers until stopped; returns the emails
 * whose upsert was acknowledged (a 200 or 201 came back).
 */
export function upsertStream(url: string, storeId: string, apiKey: string, workers = 4) {
  let running = true;
  const acknowledged: string[] = [];
  const errors: string[] = [];
  const loops = Array.from({ length: workers }, async (_, w) => {
    for (let i = 0; running; i++) {
      const email = `stream-${w}-${i}@example.com`;
      try {
        const res = await fetch(`${url}/v1/stores/${storeId}/customers`, {
          method: 'POST',
          headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ email, customFields: { worker: w, seq: i } }),
        });
        if (res.status === 200 || res.status === 201) acknowledged.push(email);
        else errors.push(String(res.status));
        await res.arrayBuffer();
      } catch (error) {
        errors.push((error as Error).message);
        if (!running) break;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  });
  return {
    acknowledged,
    errors,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Asks a server whether each email has a customer; returns those it lacks. */
export async function missingCustomers(
  url: string,
  storeId: string,
  apiKey: string,
  emails: string[],
) {
  const missing: string[] = [];
  for (const email of emails) {
    const res = await fetch(
      `${url}/v1/stores/${storeId}/customers?email=${encodeURIComponent(email)}`,
      {
        headers: { authorization: `Bearer ${apiKey}` },
      },
    );
    if (res.status !== 200) missing.push(email);
    await res.arrayBuffer();
  }
  return missing;
}
