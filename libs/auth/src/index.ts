export * from './nest';
export * from './roles';
export * from './tokens';
