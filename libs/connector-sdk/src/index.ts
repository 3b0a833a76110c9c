export * from './cs-diff';
