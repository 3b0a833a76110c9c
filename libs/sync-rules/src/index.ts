export * from './load';
export * from './memory';
export * from './model';
export * from './session';
export * from './state';
export * from './transforms';
