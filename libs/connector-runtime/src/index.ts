export * from './run-driver';
export * from './schema';
