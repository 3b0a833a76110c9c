export * from './cs-diff';
export * from './spi';
export * from './errors';
export * from './export-confirmation';
