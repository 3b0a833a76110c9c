import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * The module-boundary constraints in eslint.config.mjs must actually constrain: lint snippets as
 * if they were files of the libraries and check what is refused.
 */
jest.setTimeout(60_000);

const root = join(__dirname, '..', '..');
const eslintBin = join(root, 'node_modules', 'eslint', 'bin', 'eslint.js');

// The rule silently skips itself when Nx has no cached project graph ("No cached ProjectGraph is
// available"), which is why `npm run lint` computes it first; so does this test.
beforeAll(() => {
  const r = spawnSync(process.execPath, [join(root, 'node_modules', 'nx', 'dist', 'bin', 'nx.js'), 'show', 'projects'], { cwd: root, env: { ...process.env, NX_DAEMON: 'false' }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`nx show projects failed: ${r.stderr}`);
});

/** Lints `code` through the ESLint CLI as if it were `file`; returns the boundary rule's messages. */
async function boundaryErrors(file: string, code: string): Promise<string[]> {
  const r = spawnSync(process.execPath, [eslintBin, '--stdin', '--stdin-filename', join(root, file), '--format', 'json'], {
    cwd: root,
    input: code,
    encoding: 'utf8',
    env: { ...process.env, NX_DAEMON: 'false' },
  });
  if (!r.stdout) throw new Error(`eslint failed: ${r.stderr}`);
  const [result] = JSON.parse(r.stdout) as { messages: { ruleId: string | null; message: string }[] }[];
  return result!.messages.filter((m) => m.ruleId === '@nx/enforce-module-boundaries').map((m) => m.message);
}

describe('module boundaries', () => {
  it.each([
    ['kafkajs', "import { Kafka } from 'kafkajs';\nexport const k = Kafka;\n"],
    ['@nestjs/common', "import { Injectable } from '@nestjs/common';\nexport const i = Injectable;\n"],
    ['typeorm', "import { DataSource } from 'typeorm';\nexport const d = DataSource;\n"],
    ['the OpenTelemetry SDK', "import { TracerProvider } from '@opentelemetry/sdk-trace';\nexport const t = TracerProvider;\n"],
  ])('a pure library may not import %s', async (_what, code) => {
    expect(await boundaryErrors('libs/contracts/src/forbidden.ts', code)).not.toEqual([]);
  });

  it('a pure library may not depend on a runtime library', async () => {
    const errors = await boundaryErrors('libs/connector-sdk/src/forbidden.ts', "import { loadConfig } from '@metaweave/platform';\nexport const c = loadConfig;\n");
    expect(errors.join('\n')).toMatch(/tagged with "type:pure" can only depend on libs tagged with "type:pure"/);
  });

  it('a runtime library may use the OpenTelemetry API but not the SDK', async () => {
    expect(await boundaryErrors('libs/messaging/src/ok.ts', "import { trace } from '@opentelemetry/api';\nexport const t = trace;\n")).toEqual([]);
    expect(await boundaryErrors('libs/messaging/src/forbidden.ts', "import { TracerProvider } from '@opentelemetry/sdk-trace';\nexport const t = TracerProvider;\n")).not.toEqual([]);
  });

  it('an app may use every library kind but the testing one', async () => {
    expect(await boundaryErrors('apps/join-engine/src/ok.ts', "import { decodeMessage } from '@metaweave/contracts';\nexport const d = decodeMessage;\n")).toEqual([]);
    expect(await boundaryErrors('apps/join-engine/src/forbidden.ts', "import { waitFor } from '@metaweave/testing';\nexport const w = waitFor;\n")).not.toEqual([]);
  });
});
