// One lint configuration for the whole workspace. The module-boundary rule is what keeps the pure
// libraries pure: see docs/adr/0001-monorepo-layout.md and tools/lint/module-boundaries.spec.ts.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const infraPackages = ['@nestjs/*', 'typeorm', 'pg', 'kafkajs', 'ldapts', 'express', 'pino'];
const otelSdk = ['@opentelemetry/sdk-*', '@opentelemetry/exporter-*', '@opentelemetry/instrumentation*', '@opentelemetry/resources'];

export default [
  { ignores: ['**/node_modules/**', '**/dist/**', '**/.mw/**', '**/.nx/**', 'coverage/**', '**/*.cjs', '**/*.js'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    plugins: { '@nx': nx },
    // Nest injects by the constructor parameter types that decorator metadata emits: tell the
    // type-import rule, so it never turns an injected class into an `import type` (which would
    // compile away and break dependency injection at run time).
    languageOptions: { parserOptions: { emitDecoratorMetadata: true, experimentalDecorators: true } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { disallowTypeAnnotations: false }],
      'no-console': 'error',
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            // Pure libraries: data and functions only. No framework, no I/O client, no SDK.
            { sourceTag: 'type:pure', onlyDependOnLibsWithTags: ['type:pure'], bannedExternalImports: [...infraPackages, ...otelSdk] },
            // Runtime libraries wrap infrastructure; they use the OpenTelemetry API, never the SDK.
            { sourceTag: 'type:runtime', onlyDependOnLibsWithTags: ['type:pure', 'type:runtime'], bannedExternalImports: otelSdk },
            // The telemetry library is the only one allowed to touch the SDK.
            { sourceTag: 'type:telemetry', onlyDependOnLibsWithTags: ['type:pure'], bannedExternalImports: ['@nestjs/*', 'typeorm', 'pg', 'kafkajs'] },
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:pure', 'type:runtime', 'type:telemetry'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:pure', 'type:runtime', 'type:telemetry'] },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:pure', 'type:runtime', 'type:telemetry', 'type:testing'] },
          ],
        },
      ],
    },
  },
  {
    // Tests (and their helpers) may use the testing library whatever the tag of the project under test.
    files: ['**/*.spec.ts', '**/*.spec.tsx', '**/int-support.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off', 'no-console': 'off' },
  },
  {
    // The operator CLI writes to the terminal by design.
    files: ['apps/mw/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
];
