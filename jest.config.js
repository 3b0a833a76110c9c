// Three test tiers, selected by file suffix (style.md §9):
//   unit  *.spec.ts      pure and fast, no infrastructure
//   int   *.int.spec.ts  real Kafka / PostgreSQL / slapd / Samba started by deploy/local/stack.sh
//   e2e   *.e2e.spec.ts  whole services as processes against the real stack
// Integration and e2e tiers run serially (--runInBand): they share two cores with the daemons.
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];
// The console (apps/console) is React: .tsx files compile with the automatic JSX runtime. Its DOM
// tests choose jsdom per file with a `@jest-environment jsdom` docblock; everything else runs in node.
const swcTsx = [
  '@swc/jest',
  {
    jsc: { parser: { syntax: 'typescript', tsx: true }, transform: { react: { runtime: 'automatic' } }, target: 'es2022' },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];
const common = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': swc, '^.+\\.tsx$': swcTsx },
  moduleNameMapper: { '^@metaweave/(.*)$': '<rootDir>/libs/$1/src' },
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/.mw/'],
};
module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{apps,libs,tools,test}/**/*.spec.ts', '<rootDir>/apps/console/**/*.spec.tsx'],
      testPathIgnorePatterns: ['\\.int\\.spec\\.ts$', '\\.e2e\\.spec\\.ts$', '/node_modules/'],
    },
    { ...common, displayName: 'int', testMatch: ['<rootDir>/{apps,libs,test}/**/*.int.spec.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e.spec.ts'] },
    // Benchmarks print figures; they are not part of `npm test` (`npm run bench`).
    { ...common, displayName: 'bench', testMatch: ['<rootDir>/test/bench/**/*.bench.ts'] },
  ],
};
