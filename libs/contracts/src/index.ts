export * from './attributes';
export * from './envelope';
export * from './errors';
export * from './events/cs-object-changed';
export * from './events/export';
export * from './events/mv-object-changed';
export * from './registry';
export * from './topics';
