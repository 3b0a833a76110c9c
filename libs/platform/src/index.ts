export * from './config';
export * from './database';
export * from './health';
export * from './logger';
export * from './service';
export * from './infrastructure';
export * from './outbox';
