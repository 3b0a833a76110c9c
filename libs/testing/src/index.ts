export * from './service-process';
export * from './stack';
export * from './wait';
export * from './slapd';
export * from './usn-directory';
export * from './connector-contract';
export * from './exchange-generator';
