export * from './run-driver';
export * from './schema';
export * from './export-applier';
export * from './schedule';
