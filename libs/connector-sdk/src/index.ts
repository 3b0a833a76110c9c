export * from './cs-diff';
export * from './spi';
