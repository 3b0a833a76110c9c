export * from './password-seal';
export * from './sealed-box';
